#!/usr/bin/env bash
# Start-up cost of `pocket run --rootfs R true` next to unshare(1), crun and
# runc doing the same job, plus each tool's peak RSS; and `pocket run IMAGE
# true` (the same rootfs imported as an image, on overlayfs) against
# --rootfs, which issue 15 bounds at +1 ms: with the store where it is
# (/tmp's filesystem) and on a journaled ext4 made for the run.
#
# Usage: scripts/bench.sh [N]     (or N=... scripts/bench.sh; default 200)
# Then `podman run --rm` with pocket-runc, crun and runc as podman's runtime
# (scripts/bench-podman.sh, PODMAN_N rounds, default 20; BENCH_PODMAN=0
# skips it).
#
# Runs as root. Installs crun/runc/time/busybox-static if missing, builds
# pocket if missing, and works in a temp dir it removes on exit.
set -euo pipefail
export LC_ALL=C # $EPOCHREALTIME must use '.' as its decimal point

self=$(readlink -f "${BASH_SOURCE[0]}")
repo=$(dirname "$(dirname "$self")")
pocket=${POCKET:-$repo/target/x86_64-unknown-linux-musl/release/pocket}
# Container ids start with this; it is also how leftover cgroup dirs are found.
prefix=${BENCH_PREFIX:-pocketbench-$$}

die() { echo "bench: $*" >&2; exit 1; }

# crun 1.8 refuses cgroup "hybrid" mode (v1 controllers + cgroup2 at
# .../unified). Hiding the cgroup2 mount inside a private mount namespace
# makes it see plain v1; the host's mounts are never touched.
hybrid() { [ "$(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; }
unhybrid() { if hybrid; then umount -l /sys/fs/cgroup/unified; fi; }

# One timed command: elapsed microseconds go to stdout. $EPOCHREALTIME is a
# bash builtin variable, so the clock itself forks nothing.
timed() {
  local t0 t1
  t0=$EPOCHREALTIME
  "$@" </dev/null >/dev/null 2>"$tmp/err" || {
    echo "bench: failed: $*" >&2; cat "$tmp/err" >&2; return 1
  }
  t1=$EPOCHREALTIME
  echo $(( ${t1/./} - ${t0/./} ))
}

# ---------------------------------------------------------------------------
# Inner half: runs inside the private mount namespace, so that all four tools
# are measured under identical conditions, interleaved in one loop.
if [ "${1-}" = __inner ]; then
  tmp=$2 n=$3 warm=$4 rss_runs=$5
  # Stop between commands, never halfway through a crun/runc run.
  trap 'exit 143' TERM
  unhybrid
  # Each runtime's state where it keeps it by default: runc's and crun's
  # in /run (tmpfs), pocket's runtime part in /run/pocket too, pocket-runc's
  # in /run/pocket-runc; pocket's containers and images (/var/lib/pocket)
  # stay on the disk, as docker's and podman's do.
  for d in state-crun state-runc state-oci-pocket state-pocket/run; do
    mkdir -p "$tmp/$d" && mount -t tmpfs -o mode=0700 tmpfs "$tmp/$d"
  done
  bundle=$tmp/bundle rootfs=$tmp/bundle/rootfs
  tools=(pocket pocket-nosec pocket-img pocket-net unshare crun runc oci-pocket oci-crun oci-runc)
  # OCI life cycle of one bundle, as an engine drives it: create, start,
  # delete --force (the command may still run: it is killed).
  oci_cycle() { # runtime... -- id
    local id=${*: -1} rt=("${@:1:$#-2}")
    "${rt[@]}" create --bundle "$bundle" "$id" && "${rt[@]}" start "$id" &&
      "${rt[@]}" delete --force "$id"
  }
  tar -C "$rootfs" -c . | "$pocket" --root "$tmp/state-pocket" import - bench:img >/dev/null
  # The image row again with pocket's store on a journaled ext4 of this
  # namespace's own (a loop device, gone with the namespace). On an ext4
  # without a journal (this VM's root) every inode made skips the ones
  # freed in the last 5 to 305 s (recently_deleted() in fs/ext4/ialloc.c,
  # checked only without a journal), and an image run makes ~9: its
  # directories and overlayfs' probes at each mount.
  jfs=$tmp/jfs
  if truncate -s 1G "$tmp/jfs.img" && mkfs.ext4 -q -F "$tmp/jfs.img" >/dev/null 2>&1 &&
    mkdir -p "$jfs" && mount -o loop "$tmp/jfs.img" "$jfs" 2>/dev/null; then
    mkdir -p "$jfs/state/run" && mount -t tmpfs -o mode=0700 tmpfs "$jfs/state/run"
    tar -C "$rootfs" -c . | "$pocket" --root "$jfs/state" import - bench:img >/dev/null
    tools+=(pocket-img-j)
  else
    echo "bench: SKIP the image row on a journaled ext4: no loop device or mkfs.ext4 here" >&2
  fi
  cmd() { # tool, iteration -> the command line in array c
    case $1 in
      # Like crun/runc run: state kept in a directory of its own, removed at
      # exit; no network, as theirs (pocket-net is the default bridge's cost).
      pocket)  c=("$pocket" --root "$tmp/state-pocket" run --rm --net none --rootfs "$rootfs" /bin/true) ;;
      pocket-img) c=("$pocket" --root "$tmp/state-pocket" run --rm --net none bench:img /bin/true) ;;
      pocket-img-j) c=("$pocket" --root "$jfs/state" run --rm --net none bench:img /bin/true) ;;
      # Without the seccomp filter and no_new_privs: what they cost.
      pocket-nosec) c=("$pocket" --root "$tmp/state-pocket" run --rm --net none --security-opt seccomp=unconfined \
        --security-opt no-new-privileges=false --rootfs "$rootfs" /bin/true) ;;
      # On pocket's default bridge (inside the bench's own network namespace).
      pocket-net) c=("$pocket" --root "$tmp/state-pocket" run --rm --net bridge --rootfs "$rootfs" /bin/true) ;;
      unshare) c=(unshare -fpmuin --mount-proc chroot "$rootfs" /bin/true) ;;
      crun)    c=(crun --root "$tmp/state-crun" run --bundle "$bundle" "$prefix-c$2") ;;
      runc)    c=(runc --root "$tmp/state-runc" run --bundle "$bundle" "$prefix-r$2") ;;
      oci-pocket) c=(oci_cycle "$pocket" oci --root "$tmp/state-oci-pocket" -- "$prefix-op$2") ;;
      oci-crun) c=(oci_cycle crun --root "$tmp/state-crun" -- "$prefix-oc$2") ;;
      oci-runc) c=(oci_cycle runc --root "$tmp/state-runc" -- "$prefix-or$2") ;;
    esac
  }

  # Page cache, dentries and the runtimes' first-run work out of the way.
  for ((i = 0; i < warm; i++)); do
    for t in "${tools[@]}"; do cmd "$t" "w$i"; timed "${c[@]}" >/dev/null; done
  done

  # Every round in a new random order: no tool always runs right after the
  # same neighbour (whose teardown, e.g. a network namespace the kernel
  # cleans up in the background, would land on it).
  for ((i = 0; i < n; i++)); do
    mapfile -t order < <(printf '%s\n' "${tools[@]}" | shuf)
    for t in "${order[@]}"; do
      cmd "$t" "$i"
      timed "${c[@]}" >>"$tmp/times-$t"
    done
  done

  # GNU time's %M is ru_maxrss of the largest process in the tree it waited
  # for, the container's /bin/true included; measuring that busybox alone
  # gives the floor under every tool's figure.
  for ((i = 0; i < rss_runs; i++)); do
    for t in "${tools[@]}"; do
      # A life cycle is three processes: no one peak to show.
      case $t in oci-*) echo 0 >>"$tmp/rss-$t"; continue ;; esac
      cmd "$t" "m$i"
      /usr/bin/time -f %M -a -o "$tmp/rss-$t" "${c[@]}" </dev/null >/dev/null 2>"$tmp/err" ||
        { cat "$tmp/err" >&2; die "rss run of $t failed"; }
    done
  done
  for ((i = 0; i < rss_runs; i++)); do
    /usr/bin/time -f %M -a -o "$tmp/rss-floor" "$rootfs/bin/true"
  done
  exit 0
fi

# ---------------------------------------------------------------------------
# Outer half: setup, then the inner half, then the report.
[ "$(id -u)" = 0 ] || die "must run as root (namespaces, crun/runc)"
n=${1:-${N:-200}}
[[ $n =~ ^[1-9][0-9]*$ ]] || die "N must be a positive integer, got '$n'"
warm=${WARMUP:-5}
rss_runs=${RSS_RUNS:-5}

need=()
command -v crun >/dev/null || need+=(crun)
command -v runc >/dev/null || need+=(runc)
[ -x /usr/bin/time ] || need+=(time)
command -v python3 >/dev/null || need+=(python3)
command -v unshare >/dev/null || need+=(util-linux)
[ -x /bin/busybox ] && ! file -b /bin/busybox 2>/dev/null | grep -q dynamic || need+=(busybox-static)
if ((${#need[@]})); then
  echo "bench: installing ${need[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
if [ ! -x "$pocket" ]; then
  echo "bench: building pocket (release)" >&2
  (cd "$repo" && cargo build --release -q)
fi

tmp=$(mktemp -d /tmp/pocket-bench.XXXXXX)
cleanup() {
  set +e
  # A run that was interrupted leaves its container's state (and maybe a
  # process) behind; the state dir names are exactly the ids still alive.
  local rt id
  for rt in crun runc; do
    [ -d "$tmp/state-$rt" ] || continue
    for id in $(ls "$tmp/state-$rt"); do
      unshare -m --propagation private bash -c "$(declare -f hybrid unhybrid); unhybrid
        $rt --root '$tmp/state-$rt' delete -f '$id'" >/dev/null 2>&1
    done
  done
  # crun/runc remove their cgroups on a clean exit; this is for the others.
  find /sys/fs/cgroup -mindepth 1 -maxdepth 6 -type d -name "$prefix-*" 2>/dev/null |
    sort -r | xargs -r rmdir 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
# The inner half runs in the background so that `wait` returns as soon as a
# signal arrives; it is then told to stop, by pid, and waited for, so that
# cleanup never races a runtime that is still creating a container.
inner=
on_signal() {
  trap '' INT TERM
  if [ -n "$inner" ]; then kill -TERM "$inner" 2>/dev/null; wait "$inner" || true; fi
  exit 130
}
trap on_signal INT TERM

bundle=$tmp/bundle
mkdir -p "$bundle" "$tmp/state-crun" "$tmp/state-runc"
"$repo/scripts/mkrootfs.sh" "$bundle/rootfs" >/dev/null
(cd "$bundle" && runc spec)
# runc's default spec plus what pocket does: same namespaces (it adds cgroup),
# writable root, no terminal. The default mounts, capabilities, masked paths
# and rlimits stay: that is what a real crun/runc container gets.
python3 - "$bundle/config.json" <<'EOF'
import json, sys
path = sys.argv[1]
c = json.load(open(path))
c["process"]["args"] = ["/bin/true"]
c["process"]["terminal"] = False
c["root"] = {"path": "rootfs", "readonly": False}
c["linux"]["namespaces"] = [{"type": t} for t in
                            ("pid", "mount", "uts", "ipc", "network", "cgroup")]
json.dump(c, open(path, "w"), indent=2)
EOF

echo "bench: $n interleaved rounds (+$warm warm-up), then $rss_runs RSS runs per tool..." >&2
# Memory cgroups the kernel still keeps, most of them dying ones (removed
# groups that page cache still points at): hundreds of them make every
# runtime's start 2-3x slower on this VM (`echo 3 >
# /proc/sys/vm/drop_caches` releases them); said next to the figures.
memcgs_before=$(awk '$1 == "memory" { print $3 }' /proc/cgroups)
# Another process busy on a CPU puts pocket, its child and the container
# on the other one and hides what runs in parallel: the load before the
# runs (the 1-minute average, and what runs right now) is said too, with
# a warning when something else is running.
load_before=$(cut -d' ' -f1,4 /proc/loadavg)
running=$(awk '/^procs_running/ { print $2 - 1 }' /proc/stat)
if [ "$running" -gt 0 ]; then
  echo "bench: warning: $running other process(es) running now (load $load_before): figures will be off" >&2
fi
# What the store's filesystem is: ext4 says whether it has a journal.
store_fs=$(stat -fc %T /tmp)
dev=$(basename "$(findmnt -no SOURCE -T /tmp 2>/dev/null)" 2>/dev/null || true)
if [ -n "$dev" ] && [ -r "/sys/fs/ext4/$dev/journal_task" ]; then
  case $(cat "/sys/fs/ext4/$dev/journal_task") in
    '<none>') store_fs="ext4 without a journal ($dev)" ;;
    *) store_fs="ext4 with a journal ($dev)" ;;
  esac
fi
t_start=$EPOCHREALTIME
POCKET=$pocket BENCH_PREFIX=$prefix \
  unshare -m -n --propagation private "$BASH" "$self" __inner "$tmp" "$n" "$warm" "$rss_runs" &
inner=$!
wait "$inner" || die "benchmark failed"
inner=
elapsed=$(( (${EPOCHREALTIME/./} - ${t_start/./}) / 100000 ))
elapsed=$((elapsed / 10)).$((elapsed % 10))

# ---------------------------------------------------------------------------
# Report.
stats() { # file of microseconds -> "p10 p50 p90 mean" in ms (nearest rank)
  sort -n "$1" | awk '{ v[NR] = $1; s += $1 }
    function r(p) { i = int(p * NR + 0.999999); if (i < 1) i = 1; return v[i] / 1000 }
    END { printf "%.2f %.2f %.2f %.2f\n", r(0.10), r(0.50), r(0.90), s / NR / 1000 }'
}
maxrss() { sort -n "$1" | tail -1; }

stripped=$tmp/pocket.stripped
strip -o "$stripped" "$pocket" 2>/dev/null || cp "$pocket" "$stripped"

echo
echo "== pocket start-up benchmark: 'run /bin/true' in a busybox rootfs =="
echo "host:    $(uname -sr), $(nproc) CPU ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1))"
echo "pocket:  $("$pocket" --version 2>/dev/null | head -1), $(stat -c %s "$stripped") bytes stripped"
echo "unshare: $(unshare --version | head -1)"
echo "crun:    $(crun --version | head -1)"
echo "runc:    $(runc --version | head -1)"
echo "rounds:  $n interleaved (+$warm warm-up), ${elapsed}s total; RSS = max of $rss_runs runs"
echo "memcgs:  $memcgs_before memory cgroups in /proc/cgroups before the runs, $(awk '$1 == "memory" { print $3 }' /proc/cgroups) after (dying ones slow every runtime)"
echo "store:   $store_fs (pocket's containers and images; its run directory on tmpfs)"
echo "load:    $load_before (1-minute average, runnable/total) before the runs; $running other process(es) running then"
echo "RSS:     largest process of each tree, the container's /bin/true included (busybox alone: $(maxrss "$tmp/rss-floor") KiB)"
echo "cgroups: $(hybrid && echo "hybrid v1+v2 on the host; cgroup2 hidden in the bench's mount namespace" || echo "/sys/fs/cgroup is $(stat -fc %T /sys/fs/cgroup)")"
echo
printf '%-10s %9s %9s %9s %9s %12s %10s\n' tool p10_ms median_ms p90_ms mean_ms vs_pocket peak_RSS_KiB
declare -A med rss
ran=()
for t in pocket pocket-nosec pocket-img pocket-img-j pocket-net unshare crun runc oci-pocket oci-crun oci-runc; do
  [ -s "$tmp/times-$t" ] && ran+=("$t")
done
for t in "${ran[@]}"; do
  read -r p10 p50 p90 mean < <(stats "$tmp/times-$t")
  med[$t]=$p50 rss[$t]=$(maxrss "$tmp/rss-$t")
  ratio=$(awk -v a="$p50" -v b="${med[pocket]}" 'BEGIN { printf "%.1fx", a / b }')
  printf '%-10s %9s %9s %9s %9s %12s %10s\n' "$t" "$p10" "$p50" "$p90" "$mean" "$ratio" "${rss[$t]}"
done
echo
awk -v a="${med[pocket]}" -v b="${med[pocket-nosec]}" \
  'BEGIN { printf "seccomp + no_new_privs: %+.2f ms (median)\n", a - b }'
awk -v a="${med[pocket-img]}" -v b="${med[pocket]}" -v fs="$store_fs" \
  'BEGIN { printf "image over --rootfs: %+.2f ms (median; the store on %s)\n", a - b, fs }'
if [ -n "${med[pocket-img-j]-}" ]; then
  awk -v a="${med[pocket-img-j]}" -v b="${med[pocket]}" \
    'BEGIN { printf "image over --rootfs: %+.2f ms (median; the store on a journaled ext4, loop device)\n", a - b }'
fi
awk -v a="${med[pocket-net]}" -v b="${med[pocket]}" \
  'BEGIN { printf "bridge network over none: %+.2f ms (median)\n", a - b }'
for t in unshare crun runc; do
  awk -v t="$t" -v a="${med[$t]}" -v b="${med[pocket]}" \
    'BEGIN { printf "%s/pocket = %.1fx (median)\n", t, a / b }'
done
for t in oci-crun oci-runc; do
  awk -v t="$t" -v a="${med[oci-pocket]}" -v b="${med[$t]}" \
    'BEGIN { printf "OCI create+start+delete: pocket/%s = %.2fx (median)\n", substr(t, 5), a / b }'
done

echo
echo "| runtime | median (ms) | p10 (ms) | p90 (ms) | vs pocket | peak RSS (KiB) |"
echo "|---|---:|---:|---:|---:|---:|"
for t in "${ran[@]}"; do
  read -r p10 p50 p90 _ < <(stats "$tmp/times-$t")
  case $t in
    pocket) label='`pocket run --rootfs`' ;;
    pocket-img) label='`pocket run IMAGE` (overlayfs)' ;;
    pocket-img-j) label='`pocket run IMAGE`, store on a journaled ext4' ;;
    pocket-nosec) label='`pocket run --rootfs`, seccomp unconfined, no_new_privs off' ;;
    pocket-net) label='`pocket run --net bridge` (veth, address, route)' ;;
    unshare) label='`unshare -fpmuin --mount-proc chroot`' ;;
    oci-*) label="OCI \`create\` + \`start\` + \`delete -f\`: ${t#oci-}" ;;
    *) label="\`$t run\`" ;;
  esac
  ratio=$(awk -v a="$p50" -v b="${med[pocket]}" 'BEGIN { printf "%.1fx", a / b }')
  echo "| $label | $p50 | $p10 | $p90 | $ratio | ${rss[$t]} |"
done

if [ "${BENCH_PODMAN:-1}" != 0 ]; then
  echo
  POCKET_RUNC=$(dirname "$pocket")/pocket-runc
  [ -x "$POCKET_RUNC" ] || ln -sf "$(basename "$pocket")" "$POCKET_RUNC"
  POCKET_RUNC=$POCKET_RUNC "$repo/scripts/bench-podman.sh" "${PODMAN_N:-20}"
fi
