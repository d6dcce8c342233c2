#!/usr/bin/env bash
# `podman run --rm IMAGE true` with pocket-runc, crun and runc as podman's
# runtime, interleaved in one loop on one private podman store: what an
# engine user waits for, runtime against runtime.
#
# Usage: scripts/bench-podman.sh [N]     (default 20 rounds; as root)
#   POCKET_RUNC=path  the pocket binary under the name pocket-runc
#                     (default: target/x86_64-unknown-linux-musl/release/pocket-runc)
#
# crun 1.8 refuses this host's hybrid cgroup layout, so, as bench.sh does,
# all three runtimes (and podman, conmon) run inside a private mount
# namespace where /sys/fs/cgroup/unified is lazily unmounted: plain cgroup
# v1 for everyone, the host's mounts untouched. podman keeps its store, run
# root, locks, events and tmp dir under one temp dir (as engines-test.sh),
# `--network none` (no netavark: the host's network untouched), containers'
# cgroups under /pocket/bench-podman-PID; all of it is removed at the end.
set -euo pipefail
export LC_ALL=C

self=$(readlink -f "${BASH_SOURCE[0]}")
repo=$(dirname "$(dirname "$self")")
IMG=docker.io/library/busybox:latest

die() { echo "bench-podman: $*" >&2; exit 1; }

timed() { # command... -> elapsed microseconds on stdout
  local t0 t1
  t0=$EPOCHREALTIME
  "$@" </dev/null >/dev/null 2>"$T/err" || {
    echo "bench-podman: failed: $*" >&2; cat "$T/err" >&2; return 1
  }
  t1=$EPOCHREALTIME
  echo $(( ${t1/./} - ${t0/./} ))
}

# ---------------------------------------------------------------------------
# Inner half: in the private mount namespace.
if [ "${1-}" = __inner ]; then
  T=$2 n=$3 warm=$4
  shift 4
  trap 'exit 143' TERM
  if [ "$(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then
    umount -l /sys/fs/cgroup/unified
  fi
  # shellcheck disable=SC2206
  PG=($PG_FLAGS)
  podman "${PG[@]}" load -q -i "$IMAGE_TAR" >/dev/null
  for ((i = -warm; i < n; i++)); do
    for rt in "$@"; do
      us=$(timed podman "${PG[@]}" --runtime "$rt" run --rm --network none \
        --cgroup-parent "$CGP" "$IMG" true)
      if ((i >= 0)); then echo "$us" >>"$T/times-$(basename "$rt")"; fi
    done
  done
  exit 0
fi

# ---------------------------------------------------------------------------
[ "$(id -u)" = 0 ] || die "must run as root"
n=${1:-${N:-20}}
[[ $n =~ ^[1-9][0-9]*$ ]] || die "N must be a positive integer, got '$n'"
warm=${WARMUP:-2}
pocket_runc=${POCKET_RUNC:-$repo/target/x86_64-unknown-linux-musl/release/pocket-runc}
[ -x "$pocket_runc" ] || die "no $pocket_runc (scripts/setup.sh makes it)"
[ "$(basename "$pocket_runc")" = pocket-runc ] || die "POCKET_RUNC must be named pocket-runc"
export IMAGE_TAR=$repo/target/images/busybox-docker.tar
[ -f "$IMAGE_TAR" ] || "$repo/scripts/mkimages.sh" "$repo/target/images" >/dev/null ||
  die "no $IMAGE_TAR (scripts/mkimages.sh)"

need=()
for pkg in podman conmon crun runc; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need+=("$pkg")
done
if ((${#need[@]})); then
  echo "bench-podman: installing ${need[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
runtimes=("$pocket_runc" "$(command -v crun)" "$(command -v runc)")

T=$(mktemp -d /tmp/pocket-bench-podman.XXXXXX)
export CGP=/pocket/bench-podman-$$
# Default state roots the runtimes make (podman passes no --root): removed
# at the end when they were not there before and are empty then.
roots=(/run/pocket-runc /run/crun /run/runc)
fresh=()
for d in "${roots[@]}"; do [ -e "$d" ] || fresh+=("$d"); done
inner=
cleanup() {
  set +e
  local p d
  # podman's own removal first; then anything still in our cgroups, by pid.
  podman "${PG[@]}" rm -a -f -t 0 >/dev/null 2>&1
  for p in $(cat $(find /sys/fs/cgroup -path "*$CGP*" -name cgroup.procs 2>/dev/null) /dev/null 2>/dev/null | sort -u); do
    kill -KILL "$p" 2>/dev/null
  done
  sleep 0.2
  for d in $(grep -F "$T" /proc/self/mountinfo | awk '{print $5}' | sort -r); do umount -l "$d"; done
  find /sys/fs/cgroup -mindepth 2 -maxdepth 8 -type d -path "*$CGP*" 2>/dev/null | sort -r | xargs -r rmdir 2>/dev/null
  find /sys/fs/cgroup -mindepth 2 -maxdepth 2 -type d -name pocket -empty 2>/dev/null | xargs -r rmdir 2>/dev/null
  for d in "${fresh[@]}"; do
    [ -d "$d" ] && [ -z "$(find "$d" ! -type d ! -name '*.lock' | head -1)" ] && rm -rf "$d"
  done
  rm -rf --one-file-system "$T"
}
trap cleanup EXIT
on_signal() {
  trap '' INT TERM
  if [ -n "$inner" ]; then kill -TERM "$inner" 2>/dev/null; wait "$inner" || true; fi
  exit 130
}
trap on_signal INT TERM

mkdir -p "$T/p/net" "$T/p/tmp"
ulimits=""
if (( (0x$(sed -n 's/^CapEff:\t*//p' /proc/self/status) >> 24 & 1) == 0 )); then
  # podman asks for nofile/nproc 1048576; without CAP_SYS_RESOURCE no
  # runtime can raise the hard limits that far.
  ulimits="default_ulimits = [\"nofile=$(ulimit -Hn):$(ulimit -Hn)\", \"nproc=4096:4096\"]"
fi
cat >"$T/p/containers.conf" <<EOF
[containers]
log_driver = "k8s-file"
netns = "none"
$ulimits
[network]
network_config_dir = "$T/p/net"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$T/p/events.log"
lock_type = "file"
tmp_dir = "$T/p/tmp"
static_dir = "$T/p/root/libpod"
volume_path = "$T/p/root/volumes"
runtime_supports_json = ["crun", "runc", "pocket-runc"]
EOF
cat >"$T/p/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$T/p/root"
runroot = "$T/p/run"
EOF
export CONTAINERS_CONF=$T/p/containers.conf CONTAINERS_STORAGE_CONF=$T/p/storage.conf
PG=(--root "$T/p/root" --runroot "$T/p/run" --storage-driver overlay --cgroup-manager cgroupfs
  --events-backend file --tmpdir "$T/p/tmp")
export PG_FLAGS="${PG[*]}"

echo "bench-podman: $n interleaved rounds (+$warm warm-up) of podman run --rm, 3 runtimes..." >&2
unshare -m --propagation private "$BASH" "$self" __inner "$T" "$n" "$warm" "${runtimes[@]}" &
inner=$!
wait "$inner" || die "benchmark failed"
inner=

med() { sort -n "$1" | awk '{ v[NR] = $1 } END { i = int(0.5 * NR + 0.999999); printf "%.1f", v[i] / 1000 }'; }
p10() { sort -n "$1" | awk '{ v[NR] = $1 } END { i = int(0.1 * NR + 0.999999); if (i < 1) i = 1; printf "%.1f", v[i] / 1000 }'; }
p90() { sort -n "$1" | awk '{ v[NR] = $1 } END { i = int(0.9 * NR + 0.999999); printf "%.1f", v[i] / 1000 }'; }
echo
echo "== podman run --rm --network none busybox true: $n interleaved rounds =="
echo "podman:  $(podman "${PG[@]}" --version), conmon $(conmon --version | sed -n 's/^conmon version //p')"
echo "crun:    $(crun --version | head -1); runc: $(runc --version | head -1)"
pm=$(med "$T/times-pocket-runc")
printf '%-12s %9s %9s %9s %10s\n' runtime p10_ms median_ms p90_ms vs_pocket
for rt in pocket-runc crun runc; do
  m=$(med "$T/times-$rt")
  printf '%-12s %9s %9s %9s %10s\n' "$rt" "$(p10 "$T/times-$rt")" "$m" "$(p90 "$T/times-$rt")" \
    "$(awk -v a="$m" -v b="$pm" 'BEGIN { printf "%.2fx", a / b }')"
done
for rt in crun runc; do
  awk -v t="$rt" -v a="$pm" -v b="$(med "$T/times-$rt")" \
    'BEGIN { printf "podman run --rm: pocket/%s = %.2fx (median)\n", t, a / b }'
done
