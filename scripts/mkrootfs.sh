#!/bin/sh
# Build a minimal test rootfs from Debian's busybox-static: one static
# busybox, a symlink per applet, and the directories a container expects.
# Usage: scripts/mkrootfs.sh DIR
set -eu
dir=${1:?usage: mkrootfs.sh DIR}
bb=$(command -v busybox || true)
[ -x /bin/busybox ] && bb=/bin/busybox
[ -n "$bb" ] || { echo "mkrootfs: busybox not found (apt-get install busybox-static)" >&2; exit 1; }
case "$(file -b "$bb" 2>/dev/null || echo static)" in
  *dynamic*) echo "mkrootfs: $bb is dynamically linked; install busybox-static" >&2; exit 1 ;;
esac
mkdir -p "$dir"
cd "$dir"
mkdir -p bin sbin usr/bin usr/sbin etc proc sys dev tmp root home var/tmp
chmod 1777 tmp var/tmp
cp "$bb" bin/busybox
for app in $(bin/busybox --list-full); do
  [ -e "$app" ] || ln -s /bin/busybox "$app"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > etc/passwd
printf 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n' > etc/group
