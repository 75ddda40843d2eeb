#!/usr/bin/env bash
# The test command: unit, lab and end-to-end suites on the embedded lab.
# Brings the lab up if it is down, and down again afterwards.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
bash scripts/setup.sh
eval "$(bash toolchain/env.sh)"

was_up=no
node dist/lab/cli.js status >/dev/null 2>&1 && was_up=yes
cleanup() {
    rm -rf .e2e-work
    if [ "$was_up" = no ]; then node dist/lab/cli.js down || true; fi
}
trap cleanup EXIT
[ "$was_up" = yes ] || node dist/lab/cli.js up

npx --no-install mocha --reporter dist/test/support/reporter.js --timeout 600000 \
    'dist/test/unit/**/*.test.js' 'dist/test/lab/**/*.test.js' 'dist/test/e2e/**/*.test.js' "$@"
