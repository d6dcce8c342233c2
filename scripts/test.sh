#!/bin/sh
# Every test, as CI runs it: set up (packages, musl target, release build,
# test rootfs), unit + integration tests against the release binary, the
# POSIX smoke test, and the initramfs VM test when the machine can run it.
set -eu
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo test --release
sh scripts/smoke.sh target/x86_64-unknown-linux-musl/release/pocket
if [ -x scripts/initramfs-test.sh ]; then
  POCKET_VM_OPTIONAL=${POCKET_VM_OPTIONAL:-1} scripts/initramfs-test.sh
fi
