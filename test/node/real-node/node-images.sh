#!/usr/bin/env bash
# The node's own images, made from binaries the tool cache built (no registry
# is reachable): the pod sandbox's pause and CoreDNS, each one static binary in
# an otherwise empty image. Written as OCI archives for `ctr images import`.
#   node-images.sh TOOLS_BIN OUT_DIR PAUSE_NAME COREDNS_NAME
set -euo pipefail
bin="$1" out="$2" pause_name="$3" coredns_name="$4"
mkdir -p "$out"
store="$(mktemp -d "${TMPDIR:-/tmp}/vdl-node-images.XXXXXX")"
trap 'buildah --root "$store/root" --runroot "$store/run" --storage-driver vfs rm --all >/dev/null 2>&1; rm -rf "$store"' EXIT
b() { buildah --root "$store/root" --runroot "$store/run" --storage-driver vfs "$@"; }

one() {
  local name="$1" file="$2" binary="$3"; shift 3
  [[ -f "$out/$file" && "$out/$file" -nt "$bin/$binary" ]] && return 0
  local ctr
  ctr="$(b from scratch)"
  b copy --chmod 0755 "$ctr" "$bin/$binary" "/$binary" >/dev/null
  b config "$@" "$ctr"
  b commit --quiet "$ctr" "$name" >/dev/null
  rm -f "$out/$file.tmp"
  b push --quiet "$name" "oci-archive:$out/$file.tmp:$name"
  mv "$out/$file.tmp" "$out/$file"
}

one "$pause_name" pause.oci.tar pause --entrypoint '["/pause"]' --user 65535:65535
one "$coredns_name" coredns.oci.tar coredns --entrypoint '["/coredns"]' --user 65532:65532
