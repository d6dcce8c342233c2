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

# An image made by buildah (scripts/mkimages.sh), in pocket's default store.
echo
echo "\$ pocket load -i target/images/busybox-docker.tar && pocket images"
"$pocket" load -i target/images/busybox-docker.tar
"$pocket" images
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
echo "written on the host" >"$data/note"
echo
echo "\$ pocket run --rm -m 64m -v $data:/data busybox sh -c '...'"
"$pocket" run --rm -m 64m -v "$data:/data" busybox sh -c '
  echo "image config: $GREETING from $(pwd), as $(id -un)"
  echo "the volume: $(cat /data/note)"
  echo changed >/etc/motd && echo "my writes go to my own overlay upper dir"'
echo
echo "Try it yourself: $pocket run --rm -it busybox sh"
echo "             or: $pocket run --rm -it --rootfs $rootfs sh"
