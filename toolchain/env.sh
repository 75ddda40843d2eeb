#!/usr/bin/env bash
# Prints export lines for a shell that uses the offline toolchain:
#   eval "$(npm run -s toolchain-env)"
# A user with their own Pulumi CLI and plugins does not need this.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TC=${RO_TOOLCHAIN_DIR:-$HOME/.cache/routed-overlay/toolchain}
q() { printf '%q' "$1"; }
echo "export RO_TOOLCHAIN_DIR=$(q "$TC")"
echo "export PATH=$(q "$TC/bin"):\"\$PATH\""
echo "export PULUMI_HOME=$(q "$TC/pulumi-home")"
echo "export PULUMI_SKIP_UPDATE_CHECK=true"
echo "export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true"
# Plugins come from bin/ (bundled, next to pulumi) and PULUMI_HOME's plugin cache only.
echo "export PULUMI_IGNORE_AMBIENT_PLUGINS=true"
# State stays in this checkout; the passphrase secrets provider encrypts secrets in it.
echo "export PULUMI_BACKEND_URL=$(q "file://$repo/.pulumi-state")"
echo "export PULUMI_CONFIG_PASSPHRASE=\"\${PULUMI_CONFIG_PASSPHRASE-routed-overlay-lab}\""
if [ -f "$repo/.lab/kube/kubeconfig" ]; then echo "export KUBECONFIG=$(q "$repo/.lab/kube/kubeconfig")"; fi
