#!/usr/bin/env bash
# Prints, one per line, the Debian packages that bring the commands the tests
# need and this machine lacks. Only a missing command's package is named: a
# machine's own Node (nodesource) conflicts with Debian's npm, so a package is
# never named for a command that already exists, whoever provided it.
# Exits 3 when the machine cannot be fixed by installing packages.
set -euo pipefail

declare -A package_of=(
  [openssl]=openssl [setpriv]=util-linux [ffmpeg]=ffmpeg [ffprobe]=ffmpeg
  [make]=make [python3]=python3 [chromium]=chromium
  # The real node and `make images` without Docker.
  [containerd]=containerd [ctr]=containerd [runc]=runc [buildah]=buildah [debootstrap]=debootstrap
  [nft]=nftables [ip]=iproute2 [nsenter]=util-linux [gcc]=gcc
)
packages=()
for command in "${!package_of[@]}"; do
  command -v "$command" >/dev/null || packages+=("${package_of[$command]}")
done
# yt-dlp and the fuzzer live in venvs; Debian splits venv/ensurepip out of python3.
if ! command -v python3 >/dev/null || ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
  packages+=(python3-venv)
fi
# Files, not commands: looked up under VDL_CHECK_ROOT (its test points it at a stub tree).
files="${VDL_CHECK_ROOT:-}"
[[ -x $files/usr/lib/cni/bridge ]] || packages+=(containernetworking-plugins)
# The archive's database (tests and `make dev`): Debian's server, outside PATH.
compgen -G "$files/usr/lib/postgresql/*/bin/initdb" >/dev/null || packages+=(postgresql)
# gcc -static (the pause binary) needs the C library's static archive.
[[ -f $files/usr/lib/x86_64-linux-gnu/libc.a || -f $files/usr/lib/aarch64-linux-gnu/libc.a ]] || packages+=(libc6-dev)
if ! command -v npm >/dev/null; then
  # npm ships inside nodesource's nodejs; Debian's npm fits only Debian's nodejs.
  if command -v node >/dev/null; then
    echo "node ($(command -v node)) is installed without npm; install the npm of that Node" >&2
    exit 3
  fi
  packages+=(nodejs npm)
fi
((${#packages[@]} == 0)) || printf '%s\n' "${packages[@]}" | sort -u
