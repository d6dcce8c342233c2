#!/usr/bin/env bash
# Issue 15's goals besides `run` (scripts/bench.sh has those), each command
# timed alone, N rounds, medians; the floor beside it where there is one:
#   run -d         pocket run -d --rootfs R sleep 1000
#   exec true      pocket exec C true      | nsenter -t PID -a true (joins
#                  every namespace of the container and runs true, with no
#                  cgroup, user, seccomp or record) | the floor under both:
#                  scripts/enter-floor.c, static (nsenter is dynamically
#                  linked), the same joins, fork, exec, wait
#   rm -f          pocket rm -f C, C running
#   rm -f x100     one `pocket rm -f` of 100 running containers
#   ps -a x1000    pocket ps -a (and -q) with 1,000 created containers
#   monitor        VmRSS and Pss of a detached container's monitor at rest
#   bridge         run --rm on the default bridge, one right after another
#                  (each address's last veth may still be going with its
#                  namespace), beside --net none; start of a bridged
#                  container right after its stop (it keeps its address)
# and, for scale, `pocket version` and `/bin/true` (a process's start on
# this machine).
#
# Usage: scripts/bench-ops.sh [N]   (default 30; as root)
# Works in private mount and network namespaces (its state root's run/ a
# tmpfs there, as /run/pocket is; the bridge rows' bridge, veths and
# nf_tables table go with the network namespace), `--net none` elsewhere,
# a temp dir it removes with every container it made.
set -euo pipefail
export LC_ALL=C
self=$(readlink -f "${BASH_SOURCE[0]}")
repo=$(dirname "$(dirname "$self")")
pocket=${POCKET:-$repo/target/x86_64-unknown-linux-musl/release/pocket}
die() { echo "bench-ops: $*" >&2; exit 1; }

timed() { # command... -> elapsed microseconds on stdout
  local t0 t1
  t0=$EPOCHREALTIME
  "$@" </dev/null >/dev/null 2>"$T/err" || { echo "bench-ops: failed: $*" >&2; cat "$T/err" >&2; return 1; }
  t1=$EPOCHREALTIME
  echo $(( ${t1/./} - ${t0/./} ))
}
med() { sort -n | awk '{ v[NR] = $1 } END { printf "%.2f", v[int((NR + 1) / 2)] / 1000 }'; }
row() { printf '%-34s %9s ms\n' "$1" "$2"; }

if [ "${1-}" = __inner ]; then
  T=$2 n=$3
  ip link set lo up
  mkdir -p "$T/root/run" && mount -t tmpfs -o mode=0700 tmpfs "$T/root/run"
  P=("$pocket" --root "$T/root")
  R=$T/rootfs
  d() { "${P[@]}" run -d --net none --rootfs "$R" "$@" sleep 1000; }
  row "/bin/true (a process, for scale)" "$(for _ in $(seq "$n"); do timed "$R/bin/true"; done | med)"
  row "pocket version" "$(for _ in $(seq "$n"); do timed "${P[@]}" version; done | med)"
  row "run -d" "$(for i in $(seq "$n"); do timed d --name "d$i"; done | med)"
  c=$(d)
  pid=$("${P[@]}" inspect -f '{{.State.Pid}}' "$c")
  : >"$T/ex"; : >"$T/ns"; : >"$T/fl"
  for _ in $(seq "$n"); do
    timed "${P[@]}" exec "$c" true >>"$T/ex"
    timed nsenter -t "$pid" -a true >>"$T/ns"
    [ ! -x "$T/enter-floor" ] || timed "$T/enter-floor" "$pid" /bin/true >>"$T/fl"
  done
  row "exec true" "$(med <"$T/ex")"
  row "nsenter -t PID -a true" "$(med <"$T/ns")"
  if [ -x "$T/enter-floor" ]; then
    row "enter-floor PID /bin/true (floor)" "$(med <"$T/fl")"
  else
    echo "SKIP enter-floor: not built (scripts/setup.sh installs musl-tools for musl-gcc)"
  fi
  sleep 0.3
  mon=$(awk '{ print $4 }' "/proc/$pid/stat")
  rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$mon/status")
  pss=$(awk '/^Pss:/ { print $2 }' "/proc/$mon/smaps_rollup")
  printf '%-34s %9s KiB (Pss %s)\n' "monitor VmRSS at rest" "$rss" "$pss"
  "${P[@]}" rm -f "$c" >/dev/null
  row "rm -f (running)" "$(for i in $(seq "$n"); do timed "${P[@]}" rm -f "d$i"; done | med)"
  ids=()
  for _ in $(seq 100); do ids+=("$(d)"); done
  row "rm -f of 100 running, one command" "$(timed "${P[@]}" rm -f "${ids[@]}" | med)"
  for _ in $(seq 1000); do "${P[@]}" create --net none --rootfs "$R" true >/dev/null; done
  row "ps -a, 1,000 created" "$(for _ in $(seq "$n"); do timed "${P[@]}" ps -a; done | med)"
  row "ps -aq, 1,000 created" "$(for _ in $(seq "$n"); do timed "${P[@]}" ps -aq; done | med)"
  "${P[@]}" rm -f $("${P[@]}" ps -aq) >/dev/null
  b() { "${P[@]}" run --rm --net "$1" --rootfs "$R" true; }
  b bridge >/dev/null
  : >"$T/br"; : >"$T/none"
  for _ in $(seq "$n"); do
    timed b bridge >>"$T/br"
    timed b none >>"$T/none"
  done
  row "run --rm, bridge, back to back" "$(med <"$T/br")"
  row "run --rm, none, the same rounds" "$(med <"$T/none")"
  c=$("${P[@]}" run -d --net bridge --rootfs "$R" sleep 1000)
  : >"$T/st"
  for _ in $(seq "$n"); do
    "${P[@]}" stop -t 0 "$c" >/dev/null
    timed "${P[@]}" start "$c" >>"$T/st"
  done
  row "start right after stop, bridge" "$(med <"$T/st")"
  "${P[@]}" rm -f "$c" >/dev/null
  exit 0
fi

[ "$(id -u)" = 0 ] || die "must run as root"
n=${1:-30}
[ -x "$pocket" ] || (cd "$repo" && cargo build --release -q)
T=$(mktemp -d /var/tmp/pocket-bench-ops.XXXXXX)
trap 'rm -rf "$T"' EXIT
"$repo/scripts/mkrootfs.sh" "$T/rootfs" >/dev/null
if command -v musl-gcc >/dev/null; then
  musl-gcc -static -O2 -o "$T/enter-floor" "$repo/scripts/enter-floor.c" ||
    echo "bench-ops: enter-floor.c did not build; its row is skipped" >&2
fi
echo "bench-ops: $n rounds, medians; $(nproc) CPUs, load $(cut -d' ' -f1,4 /proc/loadavg); $(uname -r)"
unshare -m -n --propagation private "$self" __inner "$T" "$n"
