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

# One run root per storage root: buildah keeps that root's locks and mounts there.
B=(buildah --root "$CACHE/buildah/root" --runroot "${TMPDIR:-/tmp}/vdl-images-buildah-run-$(printf %s "$CACHE" | sha256sum | cut -c1-8)" --storage-driver overlay)

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

# What debian:bookworm-slim itself sets (debuerreotype's slimify and docker
# settings): no docs, man pages or translations installed, and apt keeps no
# downloaded packages or caches in a layer. Without these an `apt-get install`
# of ffmpeg left 210 MB of .deb files in the downloader image.
write_slim_settings() {
  local dir="$1"
  mkdir -p "$dir/etc/dpkg/dpkg.cfg.d" "$dir/etc/apt/apt.conf.d"
  cat >"$dir/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
EOF
  cat >"$dir/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  echo 'Acquire::Languages "none";' >"$dir/etc/apt/apt.conf.d/docker-no-languages"
  echo 'Acquire::GzipIndexes "true";' >"$dir/etc/apt/apt.conf.d/docker-gzip-indexes"
  echo 'APT::AutoRemove::SuggestsImportant "false";' >"$dir/etc/apt/apt.conf.d/docker-autoremove-suggests"
}

ensure_base() {
  # The key names what goes into the base: suite, variant and this script's
  # slimming. A change to either makes a new one; the package set debootstrap
  # chose is kept beside the tarball (packages.txt).
  local key; key="bookworm-minbase-$(declare -f write_slim_settings | sha256sum | cut -c1-12)"
  local have
  if have="$("${B[@]}" inspect --type image --format '{{index .OCIv1.Config.Labels "vdl.dev/base"}}' "$BASE" 2>/dev/null)"; then
    # One pulled from a registry carries no such label and is taken as it is.
    [[ "$have" == "$key" || -z "$have" || "$have" == "<no value>" ]] && return 0
    log "the local $BASE was made by an older images.sh ($have): making it again"
  elif "${B[@]}" pull --quiet "$BASE" >/dev/null 2>&1; then
    return 0
  fi
  # No registry: the same thing from Debian's own packages.
  command -v debootstrap >/dev/null || fail "base image" "debootstrap is missing (apt-get install debootstrap)"
  local tarball="$CACHE/base/debian-$key.tar"
  if [[ ! -f "$tarball" ]]; then
    log "making $BASE with debootstrap --variant=minbase bookworm (about 1 min)"
    local dir; dir="$(mktemp -d "${TMPDIR:-/tmp}/vdl-images-rootfs.XXXXXX")"
    debootstrap --variant=minbase bookworm "$dir" "$(debian_mirror)" >"$CACHE/base/debootstrap.log" 2>&1 ||
      { rm -rf "$dir"; fail "base image" "debootstrap failed; see $CACHE/base/debootstrap.log"; }
    write_slim_settings "$dir"
    # What dpkg installed before the settings existed goes the same way.
    find "$dir/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
    find "$dir/usr/share/doc" -mindepth 1 -type d -empty -delete
    rm -rf "$dir"/usr/share/{man,info,groff,lintian,linda,locale}/*
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/cache/apt/*.bin "$dir"/var/lib/apt/lists/* "$dir"/var/log/*.log
    chroot "$dir" dpkg-query -W -f '${Package} ${Version}\n' >"$CACHE/base/debian-$key.packages.txt"
    tar -C "$dir" --numeric-owner -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
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
    # Writing an archive compresses every layer again (12 s for the downloader):
    # skipped when the image is the one the archive already holds.
    local id archive="$IMAGES_DIR/$name.oci.tar"
    id="$("${B[@]}" inspect --type image --format '{{.FromImageID}}' "$image")"
    if [[ ! -f "$archive" || "$(cat "$archive.id" 2>/dev/null)" != "$id $image" ]]; then
      rm -f "$archive" "$archive.id"
      "${B[@]}" push --quiet "$image" "oci-archive:$archive:$image" || fail "$name" "buildah push to an OCI archive failed"
      echo "$id $image" >"$archive.id"
    fi
  fi
  log "$image built in $(( SECONDS - start )) s"
}

size_of() {
  if [[ $engine == docker ]]; then docker image ls --format '{{.Size}}' "$1" | head -1
  else "${B[@]}" images --noheading --format '{{.Size}}' "$1" | head -1; fi
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
  printf '\n%-40s %-10s %s\n' IMAGE UNPACKED 'OCI ARCHIVE'
  for name in "${@:-${NAMES[@]}}"; do
    local archive=-
    [[ -f "$IMAGES_DIR/$name.oci.tar" ]] && archive="$(du -h "$IMAGES_DIR/$name.oci.tar" | cut -f1)"
    printf '%-40s %-10s %s\n' "$REGISTRY/$name:$TAG" "$(size_of "$REGISTRY/$name:$TAG")" "$archive"
  done
  [[ $engine == buildah ]] && echo "OCI archives for containerd: $IMAGES_DIR/*.oci.tar"
  log "all images in $(( SECONDS - start )) s"
}

main "$@"
