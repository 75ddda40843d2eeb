/**
 * What runs inside the dynamic-provider process. The serialized provider
 * (provider/dynamic.ts) holds no code of its own: it requires this module, so
 * the closure serializer never has to capture ssh2 or our classes.
 */
import type * as pulumi from "@pulumi/pulumi";
import { Connection, transportFor, validateConnection } from "./transport";
import * as sysctl from "./kinds/sysctl";

type Inputs = Record<string, any>;
export type Kind = "Sysctl";

export interface KindImpl {
    check(olds: Inputs, news: Inputs): Promise<pulumi.dynamic.CheckResult>;
    diff(id: string, olds: Inputs, news: Inputs): Promise<pulumi.dynamic.DiffResult>;
    create(inputs: Inputs): Promise<pulumi.dynamic.CreateResult>;
    read(id: string, props: Inputs): Promise<pulumi.dynamic.ReadResult>;
    update(id: string, olds: Inputs, news: Inputs): Promise<pulumi.dynamic.UpdateResult>;
    delete(id: string, props: Inputs): Promise<void>;
}

function failures(errs: string[]): pulumi.dynamic.CheckFailure[] {
    return errs.map((e) => {
        const property = e.split(/[:.]/)[0];
        return { property, reason: e };
    });
}

const sysctlImpl: KindImpl = {
    async check(_olds, news) {
        const errs = [...validateConnection(news.connection), ...sysctl.validateSysctl(news)];
        return errs.length ? { inputs: news, failures: failures(errs) } : { inputs: news };
    },
    async diff(_id, olds, news) {
        const replaces: string[] = [];
        if (olds.key !== news.key) replaces.push("key");
        if (connectionIdentity(olds.connection) !== connectionIdentity(news.connection)) replaces.push("connection");
        const changes = replaces.length > 0 || olds.value !== news.value;
        return { changes, replaces, deleteBeforeReplace: true };
    },
    async create(inputs) {
        const t = transportFor(inputs.connection as Connection);
        const previous = (await t.run(sysctl.readArgv(inputs.key))).stdout.trim();
        await t.run(sysctl.writeArgv(inputs.key, inputs.value));
        return { id: `${t.name}/${inputs.key}`, outs: { ...inputs, previous } };
    },
    async read(id, props) {
        const t = transportFor(props.connection as Connection);
        const live = (await t.run(sysctl.readArgv(props.key))).stdout.trim();
        return { id, props: { ...props, value: live } };
    },
    async update(_id, olds, news) {
        const t = transportFor(news.connection as Connection);
        await t.run(sysctl.writeArgv(news.key, news.value));
        return { outs: { ...news, previous: olds.previous } };
    },
    async delete(_id, props) {
        // Put back what the host had before this package set it.
        if (props.previous !== undefined && props.previous !== "") {
            await transportFor(props.connection as Connection).run(sysctl.writeArgv(props.key, props.previous));
        }
    },
};

/** Which host a connection reaches: a change here means another object, not an update. */
export function connectionIdentity(c: Partial<Connection> | undefined): string {
    if (!c) return "";
    return c.netns ? `netns:${c.netns}` : `${c.host}:${c.port ?? 22}`;
}

export const kinds: Record<Kind, KindImpl> = { Sysctl: sysctlImpl };
