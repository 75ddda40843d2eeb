import * as pulumi from "@pulumi/pulumi";
import { providerFor } from "./dynamic";
import type { Connection } from "./transport/connection";

/** A Connection whose fields may be Pulumi inputs. */
export type ConnectionInput = { [K in keyof Connection]: pulumi.Input<Connection[K]> };

// Connection objects carry keys and passwords: keep them secret in inputs and outputs alike.
const secretOpts = (opts?: pulumi.CustomResourceOptions): pulumi.CustomResourceOptions =>
    pulumi.mergeOptions(opts, { additionalSecretOutputs: ["connection"] });

export interface SysctlArgs {
    connection: pulumi.Input<ConnectionInput>;
    /** The sysctl key, e.g. net.ipv4.ip_forward or net.ipv4.conf.eth0.rp_filter. */
    key: pulumi.Input<string>;
    value: pulumi.Input<string>;
}

/** One sysctl on one host. `refresh` reads the live value; delete restores the value found at create. */
export class Sysctl extends pulumi.dynamic.Resource {
    declare public readonly key: pulumi.Output<string>;
    declare public readonly value: pulumi.Output<string>;
    /** The value the host had before this resource set it. */
    declare public readonly previous: pulumi.Output<string>;

    constructor(name: string, args: SysctlArgs, opts?: pulumi.CustomResourceOptions) {
        super(providerFor("Sysctl"), name, { ...args, connection: pulumi.secret(args.connection), previous: undefined },
            secretOpts(opts), "routed-overlay", "Sysctl");
    }
}
