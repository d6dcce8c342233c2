#!/bin/sh
# Install what building and testing pocket needs on a fresh Debian machine,
# then build the release binary and the test rootfs. Idempotent and quick
# when everything is already there.
set -eu
cd "$(dirname "$0")/.."

need=""
# uidmap: newuidmap/newgidmap, for the rootless tests with a subuid range;
# slirp4netns: a plain user's network (their -p, ports and outbound tests).
for pkg in busybox-static crun runc musl-tools time file buildah skopeo umoci uidmap passwd slirp4netns; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need="$need $pkg"
done
if [ -n "$need" ]; then
  echo "setup: installing$need"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
fi
# The registry the pull tests run on 127.0.0.1 (and htpasswd for its
# Basic auth). Debian starts the packaged service on install; a temporary
# policy-rc.d keeps it from starting (the tests run their own, on a free
# loopback port).
for pkg in docker-registry apache2-utils; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed"; then
    echo "setup: installing $pkg"
    [ -n "$need" ] || apt-get update -qq
    need=x
    made=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
      chmod 755 /usr/sbin/policy-rc.d
      made=1
    fi
    # (policy-rc.d goes whether the install worked or not: left, it would
    # keep every service on this host from starting)
    rc=0
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null || rc=$?
    [ -z "$made" ] || rm -f /usr/sbin/policy-rc.d
    [ "$rc" = 0 ] || exit "$rc"
    # Nor enabled for the next boot: nothing of ours listens on :5000.
    if [ "$pkg" = docker-registry ] && command -v systemctl >/dev/null; then
      systemctl disable --quiet docker-registry 2>/dev/null || true
    fi
  fi
done
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
