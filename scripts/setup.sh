#!/bin/sh
# Install what building and testing pocket needs on a fresh Debian machine,
# then build the release binary and the test rootfs. Idempotent and quick
# when everything is already there.
set -eu
cd "$(dirname "$0")/.."

need=""
for pkg in busybox-static crun runc musl-tools time file buildah skopeo umoci; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need="$need $pkg"
done
if [ -n "$need" ]; then
  echo "setup: installing$need"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
fi
rustup target list --installed 2>/dev/null | grep -q x86_64-unknown-linux-musl \
  || rustup target add x86_64-unknown-linux-musl

cargo build --release
bin=target/x86_64-unknown-linux-musl/release/pocket
# The OCI runtime front end is the same binary under another name.
ln -sf pocket target/x86_64-unknown-linux-musl/release/pocket-runc
echo "setup: $bin: $(stat -c %s "$bin") bytes stripped ($(file -b "$bin" | cut -d, -f1-2))"

rootfs=${POCKET_TEST_ROOTFS:-target/rootfs}
if [ ! -x "$rootfs/bin/busybox" ]; then
  scripts/mkrootfs.sh "$rootfs"
fi
echo "setup: test rootfs at $rootfs"

# Test images made by buildah, skopeo and umoci (tests/images.rs).
scripts/mkimages.sh target/images
