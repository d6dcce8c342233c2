#!/bin/bash
# Boot a qemu guest whose root is an initramfs and run pocket there.
#
# In an initramfs / is the kernel's rootfs and pivot_root(2) fails with
# EINVAL; pocket must notice and fall back to MS_MOVE + chroot on its own.
# No container or namespace on the host can reproduce that, hence a VM.
#
# Usage: scripts/initramfs-test.sh
# Env:   POCKET_BIN=PATH       binary to test (default: the release build)
#        POCKET_VM_OPTIONAL=1  no qemu is a SKIP (exit 0), not a failure
#        POCKET_VM_ACCEL=kvm|tcg  force the accelerator (default: see below)
#        POCKET_VM_KERNEL=PATH use this bzImage instead of Debian's cloud kernel
#        POCKET_VM_VERBOSE=1   print the whole serial log
#        POCKET_VM_TIMEOUT=N   seconds before the VM is killed (default 120)
# Output: the guest's TAP lines; exit 0 only if every check passed.
# Everything is kept under target/vm/; the kernel is downloaded once.
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
vm=$repo/target/vm
pocket=${POCKET_BIN:-$repo/target/x86_64-unknown-linux-musl/release/pocket}
timeout_s=${POCKET_VM_TIMEOUT:-120}
t0=$(date +%s.%N)

say() { echo "initramfs-test: $*" >&2; }
die() { say "FAIL: $*"; exit 1; }
# Missing KVM/qemu is an environment problem, not a pocket bug; CI without
# nested virtualisation can opt out.
skip() {
  if [ "${POCKET_VM_OPTIONAL:-0}" = 1 ]; then
    echo "SKIP initramfs VM: $*"
    exit 0
  fi
  die "$* (set POCKET_VM_OPTIONAL=1 to skip instead)"
}
# Leave no half-built files nor a running qemu behind, also on ^C (a
# background qemu ignores SIGINT, so it must be killed explicitly).
dl= stage= qpid=
cleanup() {
  [ -z "$qpid" ] || kill "$qpid" 2>/dev/null || true
  [ -z "$dl" ] || rm -rf "$dl"
  [ -z "$stage" ] || rm -rf "$stage"
  rm -f "$vm/initramfs.cpio.gz.new"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
elapsed() { awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1fs", b - a }'; }

# apt's package lists may be absent or stale in a fresh container: refresh
# them once, and only when something is actually missing.
apt_updated=0
apt_update_once() {
  [ "$apt_updated" = 1 ] && return 0
  apt_updated=1
  say "apt-get update"
  apt-get update -qq >/dev/null 2>&1 || say "apt-get update failed"
}

## 1. qemu and an accelerator
# KVM when it is real. Without it, or under PVM (kvm_pvm: nested KVM for
# guests that have no VT-x/SVM, e.g. inside a Firecracker microVM) an
# unmodified kernel crawls through instruction emulation -- minutes to
# reach init, then "KVM internal error" on cmpxchg16b -- while TCG boots
# this tiny guest in a few seconds. So TCG there.
accel=${POCKET_VM_ACCEL:-}
if [ -z "$accel" ]; then
  if [ ! -e /dev/kvm ]; then
    accel=tcg why="no /dev/kvm"
  elif ! { [ -r /dev/kvm ] && [ -w /dev/kvm ]; }; then
    accel=tcg why="/dev/kvm not accessible to $(id -un)"
  elif [ -d /sys/module/kvm_pvm ]; then
    accel=tcg why="/dev/kvm is PVM (kvm_pvm), far slower than TCG for a stock kernel"
  else
    accel=kvm why=
  fi
  # Not a failure: the same checks run, only slower. Said as a SKIP so
  # the suite's summary shows what this host lacks.
  [ -z "$why" ] || { say "using TCG: $why"; echo "SKIP kvm acceleration: $why (the VM runs under TCG)"; }
fi
case $accel in
  kvm) accel_args=(-enable-kvm) ;;
  tcg) accel_args=(-accel tcg,thread=multi -cpu max) ;;
  *) die "POCKET_VM_ACCEL must be kvm or tcg, not '$accel'" ;;
esac
if ! command -v qemu-system-x86_64 >/dev/null; then
  [ "$(id -u)" = 0 ] || skip "qemu-system-x86_64 missing and not root to apt-get install it"
  say "installing qemu-system-x86"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends qemu-system-x86 >/dev/null 2>&1 || {
    apt_update_once
    apt-get install -y -qq --no-install-recommends qemu-system-x86 >/dev/null 2>&1 ||
      skip "cannot apt-get install qemu-system-x86"
  }
fi

## 2. Kernel: Debian's cloud flavour is small, boots in seconds and has the
## 8250 serial console and every namespace built in.
mkdir -p "$vm"
kernel_config=
if [ -n "${POCKET_VM_KERNEL:-}" ]; then
  kernel=$POCKET_VM_KERNEL
  [ -f "$kernel" ] || die "POCKET_VM_KERNEL=$kernel does not exist"
else
  kdir=$vm/kernel
  # overlay.ko and bfq.ko came later: an older kernel dir without them is
  # fetched again.
  { [ -f "$kdir/overlay.ko" ] && [ -f "$kdir/bfq.ko" ]; } || rm -rf "$kdir"
  if [ ! -f "$kdir/vmlinuz" ]; then
    find_pkg() {
      apt-cache pkgnames linux-image-6.1.0- 2>/dev/null |
        grep -E '^linux-image-6\.1\.0-[0-9]+-cloud-amd64-unsigned$' | sort -V | tail -n 1
    }
    pkg=$(find_pkg)
    [ -n "$pkg" ] || { apt_update_once; pkg=$(find_pkg); }
    [ -n "$pkg" ] || skip "no linux-image-6.1.0-*-cloud-amd64-unsigned in apt's lists"
    say "downloading $pkg"
    dl=$(mktemp -d "$vm/dl.XXXXXX")
    # Sandbox user root: _apt cannot write into a root-owned target/ and
    # would only make apt warn about it.
    (cd "$dl" && apt-get download -qq -o APT::Sandbox::User=root "$pkg" >/dev/null 2>&1) || {
      apt_update_once
      (cd "$dl" && apt-get download -qq -o APT::Sandbox::User=root "$pkg" >/dev/null 2>&1) ||
        skip "cannot apt-get download $pkg"
    }
    # Only /boot, overlayfs (a module in this flavour; images need it) and
    # BFQ (a module too: the VM is the suite's host with BFQ) are needed,
    # not the 100 MB of modules.
    mkdir -p "$dl/x"
    dpkg-deb --fsys-tarfile "$dl"/*.deb | tar -x -C "$dl/x" --wildcards './boot/*' \
      './lib/modules/*/kernel/fs/overlayfs/overlay.ko' './lib/modules/*/kernel/block/bfq.ko'
    mkdir -p "$kdir.new"
    cp "$dl"/x/boot/vmlinuz-* "$kdir.new/vmlinuz"
    cp "$dl"/x/lib/modules/*/kernel/fs/overlayfs/overlay.ko "$kdir.new/overlay.ko"
    cp "$dl"/x/lib/modules/*/kernel/block/bfq.ko "$kdir.new/bfq.ko"
    cp "$dl"/x/boot/config-* "$kdir.new/config"
    echo "$pkg" >"$kdir.new/package"
    rm -rf "$kdir" "$dl"
    dl=
    mv "$kdir.new" "$kdir"
  fi
  kernel=$kdir/vmlinuz
  kernel_config=$kdir/config
fi
# Modules cannot be loaded from this initramfs, so all of pocket's needs
# must be built in (=y): fail with the missing option's name, not later
# with an obscure EINVAL from inside the guest.
if [ -n "$kernel_config" ]; then
  missing=
  for opt in BLK_DEV_INITRD RD_GZIP SERIAL_8250_CONSOLE DEVTMPFS TMPFS PROC_FS SYSFS \
    UNIX98_PTYS POSIX_MQUEUE NAMESPACES UTS_NS IPC_NS PID_NS NET_NS USER_NS \
    BINFMT_SCRIPT; do
    grep -qx "CONFIG_$opt=y" "$kernel_config" || missing="$missing $opt"
  done
  [ -z "$missing" ] || die "kernel $kernel lacks built-in:$missing"
fi

## 3. pocket
if [ ! -x "$pocket" ]; then
  [ -z "${POCKET_BIN:-}" ] || die "POCKET_BIN=$pocket is not executable"
  say "building pocket (cargo build --release)"
  (cd "$repo" && cargo build --release -q) || die "cargo build --release failed"
fi
# A dynamically linked binary would find no loader in the guest.
if command -v readelf >/dev/null && readelf -l "$pocket" 2>/dev/null | grep -q 'Requesting program interpreter'; then
  die "$pocket is dynamically linked"
fi
if [ -z "${POCKET_BIN:-}" ] &&
  [ -n "$(find "$repo/src" "$repo/Cargo.toml" -newer "$pocket" -print -quit 2>/dev/null)" ]; then
  say "note: sources are newer than $pocket; run cargo build --release to test them"
fi

## 4. initramfs
bb=/bin/busybox
[ -x "$bb" ] || bb=$(command -v busybox || true)
[ -n "$bb" ] || die "busybox not found (apt-get install busybox-static)"
stage=$vm/initramfs.d
rm -rf "$stage"
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,root}
cp "$bb" "$stage/bin/busybox"
for app in $("$stage/bin/busybox" --list-full); do
  [ -e "$stage/$app" ] || ln -s /bin/busybox "$stage/$app"
done
cp "$repo/scripts/initramfs-init.sh" "$stage/init"
chmod 755 "$stage/init"
cp "$pocket" "$stage/pocket"
# The init loads it (busybox insmod) so that image containers work.
if [ -n "${kdir:-}" ] && [ -f "$kdir/overlay.ko" ]; then
  mkdir -p "$stage/lib" && cp "$kdir/overlay.ko" "$stage/lib/overlay.ko"
fi
# Loaded halfway through the checks: block IO weights without, then with BFQ.
if [ -n "${kdir:-}" ] && [ -f "$kdir/bfq.ko" ]; then
  mkdir -p "$stage/lib" && cp "$kdir/bfq.ko" "$stage/lib/bfq.ko"
fi
sh "$repo/scripts/mkrootfs.sh" "$stage/rootfs" >/dev/null
if [ -f "$repo/scripts/smoke.sh" ]; then
  cp "$repo/scripts/smoke.sh" "$stage/smoke.sh"
else
  say "note: scripts/smoke.sh not found; only the built-in checks will run"
fi
# busybox cpio, so no GNU cpio is needed; -R 0:0 so the guest's files are
# root's even when the archive is built by another user.
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
  "$bb" cpio -o -H newc -R 0:0 2>/dev/null) | gzip -1 >"$vm/initramfs.cpio.gz.new"
mv "$vm/initramfs.cpio.gz.new" "$vm/initramfs.cpio.gz"
rm -rf "$stage"
stage=

## 5. boot
log=$vm/serial.log
kname=$kernel
[ -n "${POCKET_VM_KERNEL:-}" ] || kname=$(cat "$vm/kernel/package" 2>/dev/null || echo "$kernel")
say "booting $kname with $accel ($(elapsed) so far)"
boot0=$(date +%s.%N)
# In the background and watched, not under a bare `timeout`: a guest that
# dies with "KVM internal error" stays paused forever, and one that printed
# its verdict but failed to power off should not cost the full timeout.
qemu-system-x86_64 \
  "${accel_args[@]}" -m 512 -smp 2 \
  -nographic -no-reboot -nic none \
  -kernel "$kernel" -initrd "$vm/initramfs.cpio.gz" \
  -append 'console=ttyS0 quiet panic=-1 rdinit=/init' \
  </dev/null >"$log" 2>&1 &
qpid=$!
why_killed=
deadline=$((SECONDS + timeout_s))
done_at=
while kill -0 $qpid 2>/dev/null; do
  if grep -q 'KVM internal error' "$log"; then
    why_killed="KVM internal error (try POCKET_VM_ACCEL=tcg)"
  elif [ -z "$done_at" ] && grep -q 'POCKET-VM-DONE rc=' "$log"; then
    done_at=$SECONDS
  elif [ -n "$done_at" ] && [ $((SECONDS - done_at)) -ge 10 ]; then
    say "note: guest did not power off after its report; killing qemu"
    why_killed=none
  elif [ $SECONDS -ge $deadline ]; then
    why_killed="timed out after ${timeout_s}s"
  fi
  if [ -n "$why_killed" ]; then
    kill $qpid 2>/dev/null || true
    break
  fi
  sleep 0.2
done
qrc=0
wait $qpid 2>/dev/null || qrc=$?
qpid=
[ "$why_killed" = none ] && why_killed=
boot_s=$(awk -v a="$boot0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1fs", b - a }')
# The serial console ends lines with \r\n, and SeaBIOS leaves terminal
# resets in front of the first line the guest prints.
sed -i 's/\r$//; s/\x1bc//g; s/\x1b\[[0-9;?]*[A-Za-z]//g' "$log"

[ "${POCKET_VM_VERBOSE:-0}" = 1 ] && cat "$log"
# Unanchored: the guest's first line can land glued to firmware output.
if ! grep -q 'POCKET-VM-BEGIN$' "$log"; then
  tail -n 40 "$log" >&2
  die "/init never ran: ${why_killed:-qemu exit $qrc} (log: $log)"
fi
[ "${POCKET_VM_VERBOSE:-0}" = 1 ] || sed -n '/POCKET-VM-BEGIN$/,/POCKET-VM-DONE rc=/{/POCKET-VM-/d;p}' "$log"
done_line=$(grep -o 'POCKET-VM-DONE rc=[0-9]*' "$log" | tail -n 1 || true)
[ -n "$done_line" ] ||
  die "VM stopped before the checks finished: ${why_killed:-qemu exit $qrc} (log: $log)"
rc=${done_line#POCKET-VM-DONE rc=}
if [ "$rc" = 0 ]; then
  say "PASS (boot+checks $boot_s, total $(elapsed))"
  exit 0
fi
die "VM rc=$rc: failed built-in checks, +1 if smoke.sh failed; see 'not ok' above (boot+checks $boot_s, total $(elapsed); log: $log)"
