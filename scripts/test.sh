#!/bin/sh
# Every test, as CI runs it: set up (packages, musl target, release build,
# test rootfs), unit + integration tests against the release binary, the
# POSIX smoke test, and the initramfs VM test when the machine can run it.
# Finally: no container cgroup may be left behind by any of it.
set -eu
cd "$(dirname "$0")/.."
groups() { find /sys/fs/cgroup -path '*/pocket/*' -maxdepth 4 -mindepth 2 -type d 2>/dev/null | sort; }
before=$(groups)
scripts/setup.sh
cargo test --release
sh scripts/smoke.sh target/x86_64-unknown-linux-musl/release/pocket
if [ -x scripts/initramfs-test.sh ]; then
  POCKET_VM_OPTIONAL=${POCKET_VM_OPTIONAL:-1} scripts/initramfs-test.sh
fi
after=$(groups)
if [ "$before" != "$after" ]; then
  echo "test.sh: cgroups left behind:" >&2
  echo "$after" | grep -vxF "$before" >&2 || true
  exit 1
fi
echo "test.sh: no cgroups left behind"
