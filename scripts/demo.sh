#!/usr/bin/env bash
# The main job.
#   npm run demo            everything on a fresh machine: packages, npm dependencies, the
#                           offline toolchain, the lab and its API server, `pulumi up` of the
#                           demo stack (Pulumi.yaml, demo/index.js), then the proof.
#                           Run it again: nothing changes, the proof is printed again.
#   npm run demo -- down    `pulumi destroy` of the demo stack, then `lab down`.
# RO_DEMO_STACK (default dev) and RO_DEMO_BACKEND (default the checkout's .pulumi-state) choose
# where the state goes; RO_DEMO_KEEP_LAB=1 makes `down` leave the lab up (the tests use it).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
stack=${RO_DEMO_STACK:-dev}
step() { printf '\n== demo: %s ==\n' "$*" >&2; }
pulumi_env() {
    eval "$(bash toolchain/env.sh)"
    if [ -n "${RO_DEMO_BACKEND:-}" ]; then export PULUMI_BACKEND_URL=$RO_DEMO_BACKEND; fi
    # The file backend does not create its folder.
    case $PULUMI_BACKEND_URL in file://*) mkdir -p "${PULUMI_BACKEND_URL#file://}" ;; esac
}

case "${1:-up}" in
up)
    [ "$(id -u)" = 0 ] || { echo "demo: needs root (the lab uses network namespaces)" >&2; exit 1; }
    step "1/4 what this machine lacks: Debian packages, npm dependencies, the toolchain (a first build takes 30-40 min; then seconds)"
    bash scripts/setup.sh
    step "2/4 the embedded lab: 3 nodes, a peer, an FRR router, a remote host, a Kubernetes API server"
    node dist/lab/cli.js up
    pulumi_env
    step "3/4 pulumi up, stack $stack (state: $PULUMI_BACKEND_URL)"
    pulumi stack select --create "$stack" --non-interactive
    # The lab's hosts, keys and kubeconfig go into the stack's config, as a user's own would (examples/lib/config.js).
    node dist/lab/cli.js config --stack "$stack"
    pulumi up --yes --non-interactive --stack "$stack"
    step "4/4 the proof, from the lab's hosts"
    node dist/demo/proof.js
    cat >&2 <<TEARDOWN

Tear it down:   npm run demo -- down
   (that is:    eval "\$(npm run -s toolchain-env)" && pulumi destroy --yes --stack $stack && npm run lab -- down)
Change it:      eval "\$(npm run -s toolchain-env)" && pulumi config set activeGateway node2 && pulumi up
TEARDOWN
    ;;
down)
    pulumi_env
    if node dist/lab/cli.js status >/dev/null 2>&1 && pulumi stack select "$stack" --non-interactive 2>/dev/null; then
        step "pulumi destroy, stack $stack"
        pulumi destroy --yes --non-interactive --stack "$stack"
        pulumi stack rm --yes --non-interactive --stack "$stack"
    elif pulumi stack select "$stack" --non-interactive 2>/dev/null; then
        # Without the lab there is nothing left to destroy: its hosts went with it.
        step "the lab is down: removing stack $stack's state"
        pulumi stack rm --yes --force --non-interactive --stack "$stack"
    fi
    if [ "${RO_DEMO_KEEP_LAB:-}" = 1 ]; then exit 0; fi
    step "lab down"
    node dist/lab/cli.js down
    ;;
*)
    echo "usage: npm run demo [-- up|down]" >&2
    exit 2
    ;;
esac
