/**
 * The tool many operators would pick instead: an Ansible play that puts W1's
 * routes on the peer the way one writes it by hand, a loop of
 * ansible.builtin.command running `ip route replace`, over SSH with
 * pipelining and ControlPersist on (Ansible's own advice for speed). Debian's
 * ansible-core; scripts/bench.sh installs it when it is missing.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { LabInfo } from "../lab/lab";
import { execArgv } from "../provider/transport/exec";

/** A throwaway project: inventory, ansible.cfg, the two plays and the routes as variables. */
export function ansibleProject(lab: LabInfo, dsts: string[]): { dir: string; env: Record<string, string>; cleanup: () => void } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ro-ansible-"));
    const peer = lab.hosts.peer;
    fs.writeFileSync(path.join(dir, "inventory.ini"), [
        "[peers]",
        `peer ansible_host=${peer.ssh.host} ansible_port=${peer.ssh.port} ansible_user=${peer.ssh.user} ansible_ssh_private_key_file=${lab.ssh.privateKeyPath} ansible_python_interpreter=/usr/bin/python3`,
        "",
    ].join("\n"));
    fs.writeFileSync(path.join(dir, "ansible.cfg"), [
        "[defaults]",
        `inventory = ${path.join(dir, "inventory.ini")}`,
        "forks = 5",
        "gathering = explicit",
        "stdout_callback = ansible.builtin.minimal",
        "",
        "[ssh_connection]",
        "pipelining = True",
        `ssh_args = -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=${lab.ssh.knownHostsPath} -o StrictHostKeyChecking=yes`,
        `control_path_dir = ${path.join(dir, "cp")}`,
        "",
    ].join("\n"));
    fs.writeFileSync(path.join(dir, "routes.yml"), `routes:\n${dsts.map((d) => `  - ${d}`).join("\n")}\n`);
    const play = (verb: string, extra: string[]) => [
        "- hosts: peers",
        "  vars_files: [routes.yml]",
        "  tasks:",
        `    - name: ${verb} the return routes`,
        "      ansible.builtin.command:",
        `        argv: [ip, route, ${verb}, "{{ item }}", ${extra.join(", ")}]`,
        "      loop: \"{{ routes }}\"",
        "      changed_when: true",
        "",
    ].join("\n");
    fs.writeFileSync(path.join(dir, "add.yml"), play("replace", ["via", "192.168.2.10", "dev", "eth0", "proto", "\"214\""]));
    fs.writeFileSync(path.join(dir, "delete.yml"), play("del", ["proto", "\"214\""]));
    const env = { ANSIBLE_CONFIG: path.join(dir, "ansible.cfg"), ANSIBLE_LOCAL_TEMP: path.join(dir, "tmp"), ANSIBLE_HOME: path.join(dir, "home") };
    return { dir, env, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Runs one play and returns its wall time in seconds. */
export async function runPlay(project: { dir: string; env: Record<string, string> }, play: "add.yml" | "delete.yml"): Promise<number> {
    const t0 = process.hrtime.bigint();
    const r = await execArgv(["ansible-playbook", path.join(project.dir, play)], { env: { ...process.env, ...project.env }, allowFailure: true });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.code !== 0) throw new Error(`bench: ansible-playbook ${play} exited ${r.code}: ${(r.stderr || r.stdout).slice(-2000)}`);
    return seconds;
}
