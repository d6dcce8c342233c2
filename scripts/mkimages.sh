#!/bin/sh
# Build the test images with tools nobody on this project wrote, from the
# busybox test rootfs, into DIR (default target/images):
#   busybox-oci.tar     buildah commit oci-archive: (plain layer)
#   busybox-docker.tar  buildah commit docker-archive:busybox:latest
#   busybox-oci/        skopeo copy oci: with gzip layers, tag "busybox:gz"
#   layered-oci/        umoci: a second layer that deletes /bin/vi and
#                       empties /home opaquely, adds /etc/motd (whiteouts)
#   user-docker.tar     Entrypoint, Cmd and User nobody (withuser:1)
#   rootfs.tar.gz       a plain rootfs tarball for `pocket import`
# buildah runs on its own vfs storage in a temp dir: nothing is left in
# the machine's container storage.
set -eu
cd "$(dirname "$0")/.."
out=${1:-target/images}
rootfs=${POCKET_TEST_ROOTFS:-target/rootfs}
[ -f "$out/.done" ] && exit 0
for t in buildah skopeo umoci; do
  command -v $t >/dev/null || { echo "mkimages: $t missing (scripts/setup.sh installs it)" >&2; exit 1; }
done
rm -rf "$out"; mkdir -p "$out"
tmp=$(mktemp -d)
trap 'buildah --root "$tmp/root" --runroot "$tmp/run" --storage-driver vfs rm -a >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
B="buildah --root $tmp/root --runroot $tmp/run --storage-driver vfs"
ctr=$($B from scratch)
$B copy "$ctr" "$rootfs" / >/dev/null
mkdir -p "$tmp/extra/srv/app" && echo 'from the image' > "$tmp/extra/srv/app/hello.txt"
$B copy "$ctr" "$tmp/extra" / >/dev/null
$B config --env GREETING=hello --env PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  --cmd '["/bin/sh","-c","echo $GREETING from $(pwd)"]' --workingdir /srv/app \
  --label org.example.test=yes --port 8080/tcp "$ctr"
$B commit -q "$ctr" oci-archive:"$out/busybox-oci.tar" >/dev/null
$B commit -q "$ctr" docker-archive:"$out/busybox-docker.tar":busybox:latest >/dev/null
# Entrypoint and User set in the image.
$B config --user nobody --entrypoint '["/bin/echo","ep:"]' --cmd '["default","args"]' "$ctr"
$B commit -q "$ctr" docker-archive:"$out/user-docker.tar":withuser:1 >/dev/null
skopeo copy -q --dest-compress oci-archive:"$out/busybox-oci.tar" oci:"$out/busybox-oci":busybox:gz
# A second layer with deletions, made by umoci (OCI whiteouts).
skopeo copy -q oci-archive:"$out/busybox-oci.tar" oci:"$tmp/layout":base
umoci unpack --image "$tmp/layout":base "$tmp/bundle" >/dev/null
rm -f "$tmp/bundle/rootfs/bin/vi"
rm -rf "$tmp/bundle/rootfs/srv/app"
mkdir -p "$tmp/bundle/rootfs/srv/app" && echo new > "$tmp/bundle/rootfs/srv/app/only.txt"
echo 'layered' > "$tmp/bundle/rootfs/etc/motd"
umoci repack --image "$tmp/layout":layered "$tmp/bundle" >/dev/null
skopeo copy -q oci:"$tmp/layout":layered oci:"$out/layered-oci":layered:latest
tar -C "$rootfs" -czf "$out/rootfs.tar.gz" .
touch "$out/.done"
echo "mkimages: test images in $out"
