#!/usr/bin/env bash
# Builds the offline toolchain from Go modules: the Pulumi CLI and its Node.js
# and YAML language hosts, the kubernetes and command resource plugins, kube-apiserver,
# kube-controller-manager and kubectl. Each part is cached under
# $RO_TOOLCHAIN_DIR/parts, keyed by its version and the hash of its wrapper
# module, and rebuilt only when one changes.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
# shellcheck source=versions.env
source "$here/versions.env"
TC=${RO_TOOLCHAIN_DIR:-$HOME/.cache/routed-overlay/toolchain}
mkdir -p "$TC/parts" "$TC/bin" "$TC/logs"
# -buildvcs=false restated: setting GOFLAGS hides the go env file's value, and binaries would record this repo's commit.
export CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" GOTOOLCHAIN=local

current=""
log=""
t0=$(date +%s)
step() { current="$1"; log="$TC/logs/$1.log"; echo "toolchain: [$(( $(date +%s) - t0 ))s] $1: $2" >&2; }
trap 'echo "toolchain: FAILED at step \"$current\" (exit $?); last lines of $log:" >&2; tail -n 25 "$log" >&2 2>/dev/null; exit 1' ERR

command -v go >/dev/null || { echo "toolchain: FAILED: no go on PATH (install Go 1.25 or newer)" >&2; exit 1; }

# key DIR EXTRA...: a short hash of the wrapper module and whatever else shapes the build.
key() { local d=$1; shift; { cat "$d"/go.mod "$d"/go.sum "$d"/*.go 2>/dev/null; [ -f "$d/build.sh" ] && cat "$d/build.sh"; echo "$*"; go env GOVERSION; } | sha256sum | cut -c1-12; }

# part NAME VERSION DIR BUILDFN: runs BUILDFN OUTDIR in DIR unless the part is cached.
# Arguments name the parts to build (default: all).
only=" $* "
part() {
    local name=$1 version=$2 dir=$3 fn=$4
    if [ "$only" != "  " ] && [[ "$only" != *" $name "* ]]; then return 0; fi
    local out="$TC/parts/$name@$version-$(key "$dir" "$name" "$version")"
    if [ -f "$out/.ok" ]; then
        step "$name" "cached ($out)"
    else
        step "$name" "building $version (log: $TC/logs/$name.log)"
        rm -rf "$out.tmp" && mkdir -p "$out.tmp"
        local s=$(date +%s)
        (cd "$dir" && "$fn" "$out.tmp") >"$log" 2>&1
        echo "$(( $(date +%s) - s ))" > "$out.tmp/.seconds"
        touch "$out.tmp/.ok" && rm -rf "$out" && mv "$out.tmp" "$out"
        step "$name" "built in $(cat "$out/.seconds")s"
    fi
    for f in "$out"/*; do
        # pulumi looks for its bundled plugins (the Node.js language host and dynamic-provider launcher)
        # next to its resolved executable: a hard link keeps that directory bin/, so with
        # PULUMI_IGNORE_AMBIENT_PLUGINS it finds them there without its "using ... from $PATH" warnings.
        if [ "$(basename "$f")" = pulumi ]; then ln -f "$f" "$TC/bin/pulumi" 2>/dev/null || cp -f "$f" "$TC/bin/pulumi"
        else ln -sfn "$f" "$TC/bin/$(basename "$f")"; fi
    done
}

pulumi_ldflags() { echo "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$1"; }

build_pulumi() {
    go build -ldflags "$(pulumi_ldflags "$PULUMI_CLI_VERSION")" -o "$1/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
}
build_langhost() {
    go build -ldflags "$(pulumi_ldflags "$PULUMI_LANGHOST_SDK_VERSION")" -o "$1/pulumi-language-nodejs" \
        github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs
}
build_yaml() {
    go build -ldflags "-s -w -X github.com/pulumi/pulumi-yaml/pkg/version.Version=v$PULUMI_YAML_VERSION" -o "$1/pulumi-language-yaml" \
        github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml
}
# go_build_kube OUTDIR PACKAGE...: as upstream's hack/lib/golang.sh: trimmed paths, -s -w, its build
# tags; both version packages set, or /version reports v0.0.0 and pulumi-kubernetes refuses the server.
go_build_kube() {
    local out=$1 v=$KUBERNETES_VERSION minor ld="-s -w"; shift
    minor=$(echo "$v" | cut -d. -f2)
    for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        ld="$ld -X $p.gitVersion=v$v -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.buildDate=$KUBERNETES_BUILD_DATE"
    done
    go build -trimpath -tags=selinux,notest,grpcnotrace -ldflags "$ld" -o "$out/" "$@"
}
build_kube() { go_build_kube "$1" k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl; }
# A part of its own: only the lab needs it (for garbage collection and namespace deletion), and a
# failed build of it leaves the API server and kubectl cached, with a log and a build time of its own.
build_kcm() { go_build_kube "$1" k8s.io/kubernetes/cmd/kube-controller-manager; }

build_kubernetes_plugin() {
    VERSION=$KUBERNETES_PLUGIN_VERSION OUT=$1 bash ./build.sh
}

part pulumi "$PULUMI_CLI_VERSION" "$here/pulumi" build_pulumi
part pulumi-language-nodejs "$PULUMI_LANGHOST_SDK_VERSION" "$here/langhost" build_langhost
part pulumi-language-yaml "$PULUMI_YAML_VERSION" "$here/yaml" build_yaml
part kube "$KUBERNETES_VERSION" "$here/kube" build_kube
part kube-controller-manager "$KUBERNETES_VERSION" "$here/kube" build_kcm
part pulumi-resource-kubernetes "$KUBERNETES_PLUGIN_VERSION" "$here/pulumi-resource-kubernetes" build_kubernetes_plugin

# The dynamic-provider launcher ships inside @pulumi/pulumi; the engine finds it beside the CLI.
step launcher "pulumi-resource-pulumi-nodejs from node_modules/@pulumi/pulumi"
launcher="$repo/node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs"
[ -f "$launcher" ] || { echo "toolchain: FAILED at step \"launcher\": $launcher missing; run npm ci --ignore-scripts first" >&2; exit 1; }
install -m 0755 "$launcher" "$TC/bin/pulumi-resource-pulumi-nodejs"

# Resource plugins are registered in the toolchain's own PULUMI_HOME, under the versions the npm SDKs ask for.
export PULUMI_HOME="$TC/pulumi-home" PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
register() {
    local name=$1 version=$2 bin="$TC/bin/pulumi-resource-$1"
    [ -e "$bin" ] || return 0
    if cmp -s "$bin" "$PULUMI_HOME/plugins/resource-$name-v$version/pulumi-resource-$name"; then
        step "register-$name" "resource plugin $name $version already registered"
    else
        step "register-$name" "pulumi plugin install resource $name $version --file $bin"
        "$TC/bin/pulumi" plugin install resource "$name" "$version" --file "$bin" >"$log" 2>&1
    fi
}
register kubernetes "$KUBERNETES_PLUGIN_VERSION"

step done "binaries in $TC/bin ($(du -shL "$TC/bin" | cut -f1)); total $(( $(date +%s) - t0 ))s"
