#!/usr/bin/env bash
# The host side of a real node: what it adds to the machine, and how every bit
# of it is taken away again. The node's programs and pods live in a network
# namespace of its own, joined to the host by one veth link; everything else
# it makes (containerd and kubelet state, pod network namespaces, CNI data,
# logs) lives under its state dir. What it cannot keep there is recorded in
# the state dir before it is made, so `down` removes exactly that.
#
#   host.sh up INDEX STATE_DIR          make the namespace and the link
#   host.sh down INDEX STATE_DIR        undo all of it (idempotent)
#   host.sh watch PID INDEX STATE_DIR   wait for PID to die, then `down` (a killed `make dev`)
#   host.sh stale                       `down` every node whose owner is gone
set -uo pipefail

registry="${TMPDIR:-/tmp}/vdl-nodes"

names() {
  local index="$1"
  name="vdl-node-$index"
  host_address="10.254.$index.1"
  node_address="10.254.$index.2"
  pod_subnet="10.244.$index.0/24"
  cgroup_root="$name"
}

fail() { echo "real node: $*" >&2; exit 1; }

preflight() {
  [[ $(id -u) == 0 ]] || fail "step 'preflight': a real node needs root (it makes a network namespace and cgroups). Run as root, or use VDL_TEST_NODE=process."
  local cmd
  for cmd in ip nsenter containerd runc nft findmnt; do
    command -v "$cmd" >/dev/null || fail "step 'preflight': '$cmd' is missing. Install the Debian packages: iproute2 util-linux containerd runc nftables."
  done
  [[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/host-local && -x /usr/lib/cni/portmap && -x /usr/lib/cni/loopback ]] ||
    fail "step 'preflight': CNI plugins are missing in /usr/lib/cni. Install the Debian package containernetworking-plugins."
  local h
  for h in memory cpu pids; do
    [[ -w /sys/fs/cgroup/$h ]] || fail "step 'preflight': the cgroup hierarchy /sys/fs/cgroup/$h is not writable, so pods cannot be limited. Use VDL_TEST_NODE=process here."
  done
}

up() {
  local index="$1" state="$2"
  names "$index"
  preflight
  mkdir -p "$state" "$registry"
  # What existed before, so `down` removes only what the node made.
  {
    [[ -d /run/netns ]] && echo run_netns_existed=1
    [[ -d /var/lib/cni ]] && echo var_lib_cni_existed=1
    [[ -d /var/log/containers ]] && echo var_log_containers_existed=1
  } >"$state/host-before"
  ln -sfn "$state" "$registry/$index"
  ip netns add "$name" || fail "step 'network namespace': ip netns add $name failed"
  ip link add "$name" type veth peer name eth0 netns "$name" || { down "$index" "$state"; fail "step 'link': ip link add $name type veth failed"; }
  ip addr add "$host_address/30" dev "$name" && ip link set "$name" up &&
    ip -n "$name" addr add "$node_address/30" dev eth0 && ip -n "$name" link set eth0 up && ip -n "$name" link set lo up &&
    # The host reaches pods (kube-apiserver to a webhook, replies to pods) over the link;
    # the route goes when the link does. The namespace gets no default route: a pod reaches
    # the host and the other pods, and nothing else.
    ip route add "$pod_subnet" via "$node_address" dev "$name" &&
    ip netns exec "$name" sysctl -qw net.ipv4.ip_forward=1 ||
    { down "$index" "$state"; fail "step 'addresses': configuring $name failed"; }
  local h
  for h in $(cgroup_hierarchies); do [[ $h == unified ]] || mkdir -p "/sys/fs/cgroup/$h/$cgroup_root"; done
  # A new cpuset cgroup starts with no CPUs and no memory nodes: give it the parent's.
  if [[ -d /sys/fs/cgroup/cpuset/$cgroup_root ]]; then
    cat /sys/fs/cgroup/cpuset/cpuset.cpus >"/sys/fs/cgroup/cpuset/$cgroup_root/cpuset.cpus"
    cat /sys/fs/cgroup/cpuset/cpuset.mems >"/sys/fs/cgroup/cpuset/$cgroup_root/cpuset.mems"
  fi
}

# Every mounted hierarchy, the cgroup2 one (unified) too: runc makes the pods'
# cgroups there as well on a hybrid host, though kubelet only needs the v1 ones.
cgroup_hierarchies() {
  local h
  for h in /sys/fs/cgroup/*/; do
    h="$(basename "$h")"
    [[ -f "/sys/fs/cgroup/$h/cgroup.procs" ]] && echo "$h"
  done
}

kill_tree_of() {
  # Every process whose command line names the state dir (containerd, kubelet,
  # kube-proxy, shims), then every process left in the node's cgroups (pods).
  local state="$1" h pids
  # Not this script itself (a watcher running `down` names the state dir too).
  pids="$(pgrep -f -- "$state" | grep -vxE "$$|$BASHPID|$PPID" || true)"
  [[ -n "$pids" ]] && kill -9 $pids 2>/dev/null
  for h in $(cgroup_hierarchies); do
    [[ -d "/sys/fs/cgroup/$h/$cgroup_root" ]] || continue
    find "/sys/fs/cgroup/$h/$cgroup_root" -name cgroup.procs -exec cat {} + 2>/dev/null | xargs -r kill -9 2>/dev/null
  done
  return 0
}

down() {
  local index="$1" state="$2" h i
  names "$index"
  kill_tree_of "$state"
  # Mounts under the state dir (overlay rootfs, pod volumes, shm, netns), deepest first.
  for i in 1 2 3; do
    local mounts
    mounts="$(findmnt -rn -o TARGET | grep -F -- "$state" | sort -r || true)"
    [[ -z "$mounts" ]] && break
    while read -r m; do umount -l "$m" 2>/dev/null; done <<<"$mounts"
  done
  ip netns del "$name" 2>/dev/null
  # The veth goes with the namespace; if the namespace was never made, the link may still be.
  ip link del "$name" 2>/dev/null
  for h in $(cgroup_hierarchies); do
    [[ -d "/sys/fs/cgroup/$h/$cgroup_root" ]] || continue
    find "/sys/fs/cgroup/$h/$cgroup_root" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  # libcni keeps results under /var/lib/cni whatever the config says; the network name is the node's.
  rm -rf /var/lib/cni/results/"$name"-* /var/lib/cni/cache/results/"$name"-* 2>/dev/null
  # kubelet links container logs into /var/log/containers (fixed path).
  if [[ -d /var/log/containers ]]; then
    find /var/log/containers -maxdepth 1 -type l -lname "$state/*" -delete 2>/dev/null
  fi
  if [[ -f "$state/host-before" ]]; then
    local run_netns_existed="" var_lib_cni_existed="" var_log_containers_existed=""
    # shellcheck disable=SC1091
    source "$state/host-before"
    [[ -z "$run_netns_existed" ]] && rmdir /run/netns 2>/dev/null
    [[ -z "$var_lib_cni_existed" ]] && rm -rf /var/lib/cni 2>/dev/null
    [[ -z "$var_log_containers_existed" ]] && rmdir /var/log/containers 2>/dev/null
  fi
  rm -rf "$state" 2>/dev/null
  rm -f "$registry/$index"
  return 0
}

watch() {
  local pid="$1" index="$2" state="$3"
  # tail --pid returns when PID exits, however it died.
  tail --pid="$pid" -f /dev/null
  [[ -e "$state" || -L "$registry/$index" ]] && down "$index" "$state"
}

stale() {
  local link index state owner
  [[ -d "$registry" ]] || return 0
  for link in "$registry"/*; do
    [[ -L "$link" ]] || continue
    index="$(basename "$link")"; state="$(readlink "$link")"
    owner="$(cat "$state/owner" 2>/dev/null || echo 0)"
    if [[ "$owner" == 0 ]] || ! kill -0 "$owner" 2>/dev/null; then
      echo "real node: removing node $index left by process $owner ($state)" >&2
      down "$index" "$state"
    fi
  done
}

case "${1:-}" in
  up) up "$2" "$3" ;;
  down) down "$2" "$3" ;;
  watch) watch "$2" "$3" "$4" ;;
  stale) stale ;;
  *) echo "usage: $0 up|down INDEX STATE_DIR | watch PID INDEX STATE_DIR | stale" >&2; exit 2 ;;
esac
