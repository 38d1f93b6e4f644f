#!/usr/bin/env bash
# make images: every image the chart uses (operator, api, downloader, minio)
# and the end-to-end tests' media site, from Dockerfiles whose one public base
# is debian:bookworm-slim. With Docker when an engine answers, else buildah.
#
# Without Docker nothing of the host changes: buildah keeps its own storage in
# the cache (not /var/lib/containers), and RUN steps share the host's network
# (--network=host) instead of buildah's default, which makes a cni-podman0
# bridge, firewall chains and turns on ip_forward. Where the base cannot be
# pulled (no registry here), it is made with debootstrap, cached by its
# package set. What comes from npm and PyPI is fetched on the host into the
# context's .stage/ first, so RUN steps need no registry's TLS.
#
# Each image is also written as an OCI archive (IMAGES_DIR/NAME.oci.tar) that a
# containerd node imports. Prints the sizes at the end.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
source "$here/versions.env"
TOOLS_DIR="${VDL_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vdl/tools}"
CACHE="${VDL_IMAGES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vdl/images}"
IMAGES_DIR="${VDL_IMAGES_DIR:-$CACHE/oci}"
REGISTRY="${VDL_IMAGE_REGISTRY:-ghcr.io/vdl-dev}"
TAG="${VDL_IMAGE_TAG:-dev}"
BASE=docker.io/library/debian:bookworm-slim
NAMES=(operator api downloader minio test-media)
log() { printf '[images %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
fail() { echo "make images: step '$1': $2" >&2; exit 1; }

engine=buildah
if command -v docker >/dev/null && docker info >/dev/null 2>&1; then engine=docker; fi

B=(buildah --root "$CACHE/buildah/root" --runroot "${TMPDIR:-/tmp}/vdl-images-buildah-run" --storage-driver overlay)

stage_context() {
  # .stage/ sits in the repository (git-ignored) because every Dockerfile's context is the root.
  local stage="$root/.stage" node="$root/.tools/node-$NODE_VERSION/bin/node"
  [[ -x "$node" ]] || bash "$here/install-tools.sh" node
  mkdir -p "$stage"
  cp -f "$node" "$stage/node"
  local lock_hash; lock_hash="$(sha256sum "$root/package-lock.json" | cut -c1-16)"
  if [[ "$(cat "$stage/node_modules.hash" 2>/dev/null)" != "$lock_hash" ]]; then
    log "staging production node_modules"
    rm -rf "$stage/npm" && mkdir -p "$stage/npm"
    cp "$root/package.json" "$root/package-lock.json" "$stage/npm/"
    (cd "$stage/npm" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error) || fail "node_modules" "npm ci --omit=dev failed"
    rm -rf "$stage/node_modules" && mv "$stage/npm/node_modules" "$stage/node_modules" && rm -rf "$stage/npm"
    echo "$lock_hash" >"$stage/node_modules.hash"
  fi
  if [[ ! -f "$stage/wheels/.yt-dlp-$YT_DLP_VERSION" ]]; then
    log "staging yt-dlp $YT_DLP_VERSION wheels for Debian 12's Python 3.11"
    rm -rf "$stage/wheels" && mkdir -p "$stage/wheels"
    python3 -m pip download --quiet --only-binary=:all: --python-version 3.11 --implementation cp \
      --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
      --platform manylinux_2_5_x86_64 --platform manylinux1_x86_64 \
      -d "$stage/wheels" "yt-dlp[default]==$YT_DLP_VERSION" || fail "wheels" "pip download of yt-dlp failed"
    touch "$stage/wheels/.yt-dlp-$YT_DLP_VERSION"
  fi
  local minio="$TOOLS_DIR/minio-$MINIO_VERSION/bin/minio"
  [[ -x "$minio" ]] || bash "$here/install-tools.sh" minio
  cp -f "$minio" "$stage/minio"
}

debian_mirror() {
  local uri
  uri="$(grep -rhoE '^(URIs:|deb) +https?://[^ ]+' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null | grep -m1 -E 'debian/?$' | awk '{print $2}')"
  echo "${uri:-http://deb.debian.org/debian}"
}

ensure_base() {
  "${B[@]}" inspect --type image "$BASE" >/dev/null 2>&1 && return 0
  "${B[@]}" pull --quiet "$BASE" >/dev/null 2>&1 && return 0
  # No registry: the same thing from Debian's own packages, keyed by its package set.
  command -v debootstrap >/dev/null || fail "base image" "debootstrap is missing (apt-get install debootstrap)"
  local key="bookworm-minbase" tarball="$CACHE/base/debian-bookworm-minbase.tar"
  if [[ ! -f "$tarball" ]]; then
    log "making $BASE with debootstrap --variant=minbase bookworm (about 1 min)"
    local dir; dir="$(mktemp -d "${TMPDIR:-/tmp}/vdl-images-rootfs.XXXXXX")"
    debootstrap --variant=minbase bookworm "$dir" "$(debian_mirror)" >"$CACHE/base/debootstrap.log" 2>&1 ||
      { rm -rf "$dir"; fail "base image" "debootstrap failed; see $CACHE/base/debootstrap.log"; }
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
    tar -C "$dir" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$dir"
  fi
  local c; c="$("${B[@]}" from scratch)"
  "${B[@]}" add "$c" "$tarball" / >/dev/null
  "${B[@]}" config --cmd '["bash"]' --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --label "vdl.dev/base=$key" "$c"
  "${B[@]}" commit --quiet "$c" "$BASE" >/dev/null
  "${B[@]}" rm "$c" >/dev/null
}

build_one() {
  local name="$1" image="$REGISTRY/$1:$TAG" start=$SECONDS
  local args=(--build-arg "YT_DLP_VERSION=$YT_DLP_VERSION" --build-arg "BASE=$REGISTRY/downloader:$TAG" -f "$root/images/$name/Dockerfile" -t "$image")
  log "building $image"
  if [[ $engine == docker ]]; then
    docker build "${args[@]}" "$root" || fail "$name" "docker build failed"
  else
    "${B[@]}" bud --quiet --pull=never --layers --network=host --isolation=chroot "${args[@]}" "$root" >/dev/null ||
      fail "$name" "buildah bud failed"
    # Writing the archive is most of a warm build: skip it when the image did not change.
    local id; id="$("${B[@]}" images --quiet --no-trunc "$image" | head -1)"
    if [[ ! -f "$IMAGES_DIR/$name.oci.tar" || "$(cat "$IMAGES_DIR/$name.id" 2>/dev/null)" != "$id" ]]; then
      rm -f "$IMAGES_DIR/$name.oci.tar" "$IMAGES_DIR/$name.id"
      "${B[@]}" push --quiet "$image" "oci-archive:$IMAGES_DIR/$name.oci.tar:$image" || fail "$name" "buildah push to an OCI archive failed"
      echo "$id" >"$IMAGES_DIR/$name.id"
    fi
  fi
  log "$image built in $(( SECONDS - start )) s"
}

size_of() {
  if [[ $engine == docker ]]; then docker image ls --format '{{.Size}}' "$1"; else "${B[@]}" images --format '{{.Size}}' "$1" | head -1; fi
}

main() {
  local start=$SECONDS
  mkdir -p "$CACHE/base" "$IMAGES_DIR"
  [[ $engine == buildah ]] && { command -v buildah >/dev/null || fail "engine" "neither a Docker engine nor buildah is here (apt-get install buildah)"; }
  log "engine: $engine"
  stage_context
  [[ $engine == buildah ]] && ensure_base
  local name
  for name in "${@:-${NAMES[@]}}"; do build_one "$name"; done
  printf '\n%-40s %s\n' IMAGE 'SIZE (unpacked)'
  for name in "${@:-${NAMES[@]}}"; do
    printf '%-40s %s\n' "$REGISTRY/$name:$TAG" "$(size_of "$REGISTRY/$name:$TAG")"
  done
  [[ $engine == buildah ]] && echo "OCI archives for containerd: $IMAGES_DIR/*.oci.tar"
  log "all images in $(( SECONDS - start )) s"
}

main "$@"
