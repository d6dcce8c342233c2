#!/usr/bin/env bash
# Rootless start time: `pocket run --rm` as a plain user (its own user
# namespace, subuid range through newuidmap, no cgroup, --net none) against
# `podman run --rm --network none` as the same user (podman's rootless
# mode), interleaved in one loop, medians.
#
# Usage: scripts/bench-rootless.sh [N]     (default 20 rounds; as root)
#
# As root it makes a throwaway user with a range in /etc/subuid and
# /etc/subgid, copies pocket, the test rootfs and the busybox image where
# that user can read them, and runs its own second half as that user;
# everything (user, subid lines, home, podman's store) goes at the end.
set -euo pipefail
export LC_ALL=C

self=$(readlink -f "${BASH_SOURCE[0]}")
repo=$(dirname "$(dirname "$self")")

timed() { # command... -> elapsed microseconds on stdout
  local t0 t1
  t0=$EPOCHREALTIME
  "$@" </dev/null >/dev/null 2>"$HOME/err" || {
    echo "bench-rootless: failed: $*" >&2; cat "$HOME/err" >&2; return 1
  }
  t1=$EPOCHREALTIME
  echo $(( ${t1/./} - ${t0/./} ))
}

median() { sort -n "$1" | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# ---------------------------------------------------------------------------
# Second half: as the plain user.
if [ "${1-}" = __inner ]; then
  n=$2 warm=3
  cd "$HOME"
  export POCKET_CONFIG='{"bridge":"none"}'
  ./pocket load -q -i busybox.tar >/dev/null
  # podman's rootless runtime: crun 1.8 refuses this host's hybrid
  # cgroup layout even without cgroups, so runc where crun cannot.
  podman=""
  if command -v podman >/dev/null && podman load -q -i busybox.tar >/dev/null 2>"$HOME/podman-err"; then
    for rt in crun runc; do
      if podman --runtime "$rt" run --rm --network none docker.io/library/busybox true \
        </dev/null >/dev/null 2>>"$HOME/podman-err"; then
        podman=$rt
        break
      fi
    done
  fi
  [ -n "$podman" ] || echo "bench-rootless: podman rootless unavailable: $(tail -c 300 "$HOME/podman-err")" >&2
  echo "$podman" >runtime
  for ((i = -warm; i < n; i++)); do
    a=$(timed ./pocket run --rm --rootfs "$HOME/rootfs" true)
    b=$(timed ./pocket run --rm busybox true)
    c=""
    [ -z "$podman" ] || c=$(timed podman --runtime "$podman" run --rm --network none docker.io/library/busybox true)
    if ((i >= 0)); then
      echo "$a" >>rootfs.t; echo "$b" >>image.t
      [ -z "$c" ] || echo "$c" >>podman.t
    fi
  done
  printf '%s %s %s %s\n' "$(median rootfs.t)" "$(median image.t)" \
    "$( [ -s podman.t ] && median podman.t || echo -)" "${podman:--}"
  exit 0
fi

# ---------------------------------------------------------------------------
[ "$(id -u)" = 0 ] || { echo "bench-rootless: must run as root" >&2; exit 1; }
n=${1:-${N:-20}}
bin=$repo/target/x86_64-unknown-linux-musl/release/pocket
[ -x "$bin" ] || { echo "bench-rootless: build first (cargo build --release)" >&2; exit 1; }
user=pkbench$$
home=$(mktemp -d /tmp/pocket-bench-rootless.XXXXXX)
cleanup() {
  # Rootless podman leaves its pause process (catatonit) running as the
  # user: the throwaway user's own processes go first, by pid.
  if id -u "$user" >/dev/null 2>&1; then
    for p in $(ps -o pid= -u "$(id -u "$user")" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
    sleep 0.2
  fi
  for f in /etc/subuid /etc/subgid; do sed -i "/^$user:/d" "$f"; done
  userdel "$user" 2>/dev/null || true
  rm -rf "$home"
}
trap cleanup EXIT
useradd -M -N -s /usr/sbin/nologin "$user"
for f in /etc/subuid /etc/subgid; do
  sed -i "/^$user:/d" "$f"
  echo "$user:724288:65536" >>"$f"
done
uid=$(id -u "$user") gid=$(id -g "$user")
cp "$bin" "$home/pocket"
cp -a "$repo/target/rootfs" "$home/rootfs"
cp "$repo/target/images/busybox-docker.tar" "$home/busybox.tar"
cp "$self" "$home/bench.sh"
mkdir -m 700 "$home/run"
chown -R "$uid:$gid" "$home"
read -r rootfs image podman runtime < <(
  setpriv --reuid="$uid" --regid="$gid" --clear-groups \
    env -i HOME="$home" XDG_RUNTIME_DIR="$home/run" PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    bash "$home/bench.sh" __inner "$n"
)
# Whatever podman left as the user's subids (its store) goes with $home.
echo "rootless run --rm ... true, $n interleaved rounds, medians (us):"
printf '  pocket --rootfs R  %8s\n  pocket IMAGE       %8s\n  podman IMAGE       %8s  (runtime %s)\n' \
  "$rootfs" "$image" "$podman" "$runtime"
if [ "$podman" != - ]; then
  awk -v a="$image" -v b="$podman" 'BEGIN { printf "  pocket/podman (image): %.3fx\n", a / b }'
fi
