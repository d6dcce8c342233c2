#!/bin/sh
# Set everything up on a fresh Debian machine and run a demo container.
set -eu
cd "$(dirname "$0")/.."
scripts/setup.sh
pocket=target/x86_64-unknown-linux-musl/release/pocket
rootfs=target/rootfs
echo
echo "\$ pocket run -h demo --rootfs $rootfs sh -c '...'"
"$pocket" run --rm -h demo -e GREETING="hello from a pocket container" --rootfs "$rootfs" sh -c '
  echo "$GREETING"
  echo "I am PID $$ on host $(hostname)"
  echo "my processes:"; ps -o pid,comm
  echo "my mounts:"; cut -d" " -f5,8 /proc/self/mountinfo | sed "s/^/  /"
  echo "my network:"; ls /sys/class/net | sed "s/^/  /"
  true'
echo
echo "Try it yourself: $pocket run --rm -it --rootfs $rootfs sh"
