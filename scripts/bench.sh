#!/usr/bin/env bash
# The benchmark (bench/run.ts): W1 and W2 with their baselines on a lab of its
# own shape, through the real Pulumi CLI; results in bench/results/.
# Arguments go to bench/run.ts (e.g. --quick, --runs 5, --only w2).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
bash scripts/setup.sh >&2
eval "$(bash toolchain/env.sh)"
# The Ansible baseline (bench/ansible.ts) needs ansible-playbook: Debian's ansible-core, for the benchmark only.
if ! command -v ansible-playbook >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ansible-core >&2
fi
trap 'rm -rf .e2e-work' EXIT
node dist/bench/run.js "$@"
