#!/usr/bin/env bash
# Builds the pulumi-resource-kubernetes plugin from this wrapper module.
#
#   VERSION  version the plugin reports (default 4.34.2, what @pulumi/kubernetes
#            4.34.2 asks for; the code is the v4.25.0 release, see go.mod)
#   OUT      output folder (default
#            /root/.cache/routed-overlay/toolchain/parts/pulumi-resource-kubernetes@$VERSION)
#
# The provider's main package embeds schema-embed.json and
# terraform-mapping-embed.json, which upstream writes with `go generate`
# (main.go: //go:generate go run ./generate.go, run with VERSION set) and which
# the module zip therefore lacks. The zip does hold generate.go's inputs
# (schema.json, terraform-mapping.json), so this script runs that same
# generate.go in a scratch folder and hands its two outputs to `go build`
# through -overlay.
#
# -overlay may not replace files under GOMODCACHE, so the main package is built
# at a path inside this module that exists only in the overlay: upstream's own
# main.go plus the two generated files. Nothing is written to this folder or
# to the module cache.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
VERSION=${VERSION:-4.34.2}
OUT=${OUT:-/root/.cache/routed-overlay/toolchain/parts/pulumi-resource-kubernetes@$VERSION}
provider=github.com/pulumi/pulumi-kubernetes/provider/v4

export CGO_ENABLED=0
# Flags given here, not through GOFLAGS: setting GOFLAGS would hide a
# -buildvcs=false from the go env file, and without it the binary records this
# repository's commit, so it would differ from one commit to the next.
flags=(-mod=readonly -buildvcs=false -trimpath)
# Module versions the checksum database behind the module proxy does not
# know; go.sum pins their hashes.
export GONOSUMDB=github.com/pulumi/pulumi-kubernetes/provider,github.com/pulumi/pulumi/pkg/v3,github.com/pulumi/cloud-ready-checks

cd "$here"
go mod download "$provider"
src=$(go list -mod=readonly -m -f '{{.Dir}}' "$provider")/cmd/pulumi-resource-kubernetes

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The go:generate step, with generate.go's own code.
cp "$src/schema.json" "$src/terraform-mapping.json" "$work/"
chmod u+w "$work"/*.json
go build "${flags[@]}" -o "$work/generate" "$src/generate.go"
(cd "$work" && VERSION="$VERSION" ./generate)

pkg="$here/cmd/pulumi-resource-kubernetes"
printf '{"Replace": {\n  "%s": "%s",\n  "%s": "%s",\n  "%s": "%s"\n}}\n' \
	"$pkg/main.go" "$src/main.go" \
	"$pkg/schema-embed.json" "$work/schema-embed.json" \
	"$pkg/terraform-mapping-embed.json" "$work/terraform-mapping-embed.json" \
	>"$work/overlay.json"

mkdir -p "$OUT"
go build "${flags[@]}" -overlay "$work/overlay.json" \
	-ldflags "-s -w -X $provider/pkg/version.Version=$VERSION" \
	-o "$OUT/pulumi-resource-kubernetes" ./cmd/pulumi-resource-kubernetes
echo "built $OUT/pulumi-resource-kubernetes"
