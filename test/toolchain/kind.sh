#!/usr/bin/env bash
# make kind-up / kind-down: vdl on a kind cluster with the real
# images and the Helm chart. Needs a Docker engine; says so and fails without one.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
source "$here/versions.env"
TOOLS_DIR="${VDL_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vdl/tools}"
CLUSTER="${VDL_KIND_CLUSTER:-vdl}"
REGISTRY="${VDL_IMAGE_REGISTRY:-ghcr.io/vdl-dev}"
TAG="${VDL_IMAGE_TAG:-dev}"
KIND_VERSION="${KIND_VERSION:-v0.30.0}"

need_docker() {
  if ! command -v docker >/dev/null || ! docker info >/dev/null 2>&1; then
    echo "error: '$1' needs a running Docker engine, and none answers here (docker info failed)." >&2
    echo "       Without Docker, the tests run vdl on a local control plane of real Kubernetes programs (make test)." >&2
    exit 1
  fi
}

kind_bin() {
  local bin="$TOOLS_DIR/kind-$KIND_VERSION/bin/kind"
  if [[ ! -x "$bin" ]]; then
    echo "building kind $KIND_VERSION from the Go module proxy" >&2
    GOBIN="$(dirname "$bin")" go install "sigs.k8s.io/kind@$KIND_VERSION"
  fi
  echo "$bin"
}

images() {
  need_docker "make kind-up"
  # The same build as `make images` (Docker is there, so it uses Docker).
  VDL_IMAGE_REGISTRY="$REGISTRY" VDL_IMAGE_TAG="$TAG" bash "$here/images.sh"
}

kind_up() {
  need_docker "make kind-up"
  local kind helm
  kind="$(kind_bin)"
  helm="$TOOLS_DIR/helm-$HELM_VERSION/bin/helm"
  "$kind" get clusters | grep -qx "$CLUSTER" || "$kind" create cluster --name "$CLUSTER" --wait 120s
  images
  for name in operator api downloader minio; do "$kind" load docker-image --name "$CLUSTER" "$REGISTRY/$name:$TAG"; done
  local key
  key="$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
  kubectl --context "kind-$CLUSTER" create namespace vdl --dry-run=client -o yaml | kubectl --context "kind-$CLUSTER" apply -f -
  kubectl --context "kind-$CLUSTER" -n vdl create secret generic vdl-api-keys \
    --from-literal=keys="me:admin:$(printf %s "$key" | sha256sum | cut -d' ' -f1)" --dry-run=client -o yaml |
    kubectl --context "kind-$CLUSTER" apply -f -
  "$helm" upgrade --install vdl "$root/charts/vdl" --kube-context "kind-$CLUSTER" --namespace vdl \
    --set image.registry="$REGISTRY" --set image.tag="$TAG" --set image.pullPolicy=Never \
    --set minio.image="$REGISTRY/minio:$TAG" --wait --timeout 5m
  "$helm" test vdl --kube-context "kind-$CLUSTER" --namespace vdl
  cat <<EOM

vdl runs on kind cluster "$CLUSTER".
  kubectl --context kind-$CLUSTER -n vdl port-forward svc/vdl-api 8000:80 &
  curl -s -H "Authorization: Bearer $key" -H 'content-type: application/json' \\
    -d '{"url": "https://www.youtube.com/watch?v=aqz-KE-bpKQ"}' http://127.0.0.1:8000/download
EOM
}

kind_down() {
  need_docker "make kind-down"
  "$(kind_bin)" delete cluster --name "$CLUSTER"
}

case "${1:-}" in
  up) kind_up ;;
  down) kind_down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
