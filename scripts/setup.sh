#!/usr/bin/env bash
# Everything a fresh machine lacks for the demo and the tests: Debian packages,
# npm dependencies, the offline toolchain, the compiled package. Idempotent.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
say() { echo "setup: $*" >&2; }

debs=(iproute2 iputils-ping iputils-arping openssh-server openssh-client keepalived frr etcd-server iptables nftables conntrack curl openssl procps util-linux jq)
missing=()
for d in "${debs[@]}"; do dpkg-query -W -f='${Status}' "$d" 2>/dev/null | grep -q "install ok installed" || missing+=("$d"); done
if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || { say "needs root to install Debian packages: ${missing[*]}"; exit 1; }
    say "installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

stamp=node_modules/.routed-overlay-lock
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
    say "npm ci (install scripts off: @pulumi/kubernetes and @pulumi/command would download plugins)"
    npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
    cp package-lock.json "$stamp"
fi
# Lets programs in this checkout (examples, tests, the dynamic-provider process) require("routed-overlay").
ln -sfn .. node_modules/routed-overlay

bash toolchain/build.sh
say "compiling TypeScript"
npx --no-install tsc -p tsconfig.json
