#!/usr/bin/env bash
# A ~200 MB image of 8 layers and a registry on 127.0.0.1 (Debian's
# docker-registry), side by side in one run.
# Pull, each round into an empty store:
#   pocket pull                                  (download + verify + extract, one pass)
#   skopeo copy docker://... oci:DIR + pocket load -i DIR
#   podman pull                                  (private store, overlay)
# Push, each into a fresh, empty registry (nothing to skip or mount):
#   pocket push                                  (tar + gzip + upload, one pass)
#   skopeo copy docker-archive:FILE docker://... (the image's own tars, gzipped)
#   podman push                                  (from its store, as it loaded the image)
#
# Usage: scripts/bench-registry.sh [ROUNDS]    (default 3; as root)
# Env: SIZE_MB (default 200), LAYERS (default 8)
set -euo pipefail
export LC_ALL=C
repo=$(cd "$(dirname "$0")/.." && pwd)
pocket=${POCKET:-$repo/target/x86_64-unknown-linux-musl/release/pocket}
n=${1:-3}
size=${SIZE_MB:-200}
layers=${LAYERS:-8}
die() { echo "bench-registry: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root"
for p in docker-registry skopeo podman; do
  command -v $p >/dev/null || die "needs $p (scripts/setup.sh installs docker-registry and skopeo; podman: apt-get install podman)"
done
[ -x "$pocket" ] || die "no $pocket"

T=$(mktemp -d /tmp/pocket-bench-registry.XXXXXX)
reg_pid=
cleanup() {
  set +e
  [ -n "$reg_pid" ] && kill "$reg_pid" 2>/dev/null && wait "$reg_pid" 2>/dev/null
  [ -d "$T/pp" ] && pm "$T/pp" rmi -a -f >/dev/null 2>&1
  for d in $(grep -F "$T" /proc/self/mountinfo | awk '{print $5}' | sort -r); do umount -l "$d"; done
  rm -rf --one-file-system "$T"
}
trap cleanup EXIT

# --- the image: LAYERS layers of SIZE_MB/LAYERS each, half random (as
# binaries), half text (compressible), 100 KB files -------------------------
echo "bench-registry: making a ${size} MB image of $layers layers..." >&2
per=$((size * 1024 / layers / 100)) # files per layer
mkdir -p "$T/img"
diffs=() files=()
for ((l = 0; l < layers; l++)); do
  d=$T/layer$l
  mkdir -p "$d/data$l"
  for ((f = 0; f < per; f++)); do
    if ((f % 2)); then
      head -c 102400 /dev/urandom >"$d/data$l/f$f"
    else
      (yes "layer $l file $f: the quick brown fox jumps over the lazy dog" || true) | head -c 102400 >"$d/data$l/f$f"
    fi
  done
  tar --owner=0 --group=0 -C "$d" -cf "$T/img/layer$l.tar" .
  rm -rf "$d"
  diffs+=("\"sha256:$(sha256sum "$T/img/layer$l.tar" | cut -c1-64)\"")
  files+=("\"layer$l.tar\"")
done
join() { local IFS=,; echo "$*"; }
printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["true"]},"rootfs":{"type":"layers","diff_ids":[%s]}}' \
  "$(join "${diffs[@]}")" >"$T/img/config.json"
printf '[{"Config":"config.json","RepoTags":["bench/big:1"],"Layers":[%s]}]' "$(join "${files[@]}")" >"$T/img/manifest.json"
tar -C "$T/img" -cf "$T/big.tar" .
rm -rf "$T/img"

# A registry on a free port with its storage in $T/$1 (port in $port).
registry() {
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  cat >"$T/reg.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $T/$1
http:
  addr: 127.0.0.1:$port
EOF
  docker-registry serve "$T/reg.yml" >"$T/reg.log" 2>&1 &
  reg_pid=$!
  for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
}
stop_registry() {
  kill "$reg_pid" && wait "$reg_pid" 2>/dev/null || true
  reg_pid=
  rm -rf "$T/$1"
}
registry regdata
img=127.0.0.1:$port/bench/big:1
skopeo copy -q --dest-tls-verify=false "docker-archive:$T/big.tar" "docker://$img"
blob_mb=$(du -sm "$T/regdata" | cut -f1)

# podman on a private store (as engines-test.sh), plain HTTP to the loopback.
mkdir -p "$T/p"
cat >"$T/p/registries.conf" <<EOF
[[registry]]
location = "127.0.0.1:$port"
insecure = true
EOF
export CONTAINERS_REGISTRIES_CONF=$T/p/registries.conf
pm() { podman --root "$1" --runroot "$1.run" --storage-driver overlay --cgroup-manager cgroupfs \
  --events-backend file --tmpdir "$1.tmp" "${@:2}"; }

now() { echo "$EPOCHREALTIME"; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f\n", (b - a) * 1000 }'; }
: >"$T/t-pocket"; : >"$T/t-skopeo"; : >"$T/t-podman"
echo "bench-registry: $n rounds of 3 pulls of $img ($blob_mb MB in the registry)..." >&2
for ((i = 0; i < n; i++)); do
  for tool in pocket skopeo podman; do
    root=$T/r-$tool-$i
    a=$(now)
    case $tool in
      pocket) "$pocket" --root "$root" pull -q "$img" >/dev/null ;;
      skopeo)
        skopeo copy -q --src-tls-verify=false "docker://$img" "oci:$root.oci:big" &&
          "$pocket" --root "$root" load -q -i "$root.oci" >/dev/null ;;
      podman) pm "$root" pull -q "$img" >/dev/null ;;
    esac
    b=$(now)
    ms "$a" "$b" >>"$T/t-$tool"
    case $tool in
      podman) pm "$root" rmi -a -f >/dev/null 2>&1 || true ;;
    esac
    for d in $(grep -F "$root" /proc/self/mountinfo | awk '{print $5}' | sort -r); do umount -l "$d"; done
    rm -rf --one-file-system "$root" "$root.oci" "$root.run" "$root.tmp"
  done
done
stop_registry regdata

# --- push: the image loaded into a pocket store and a podman store, then
# pushed by each tool into a registry of its own, fresh each time (skopeo
# and podman make the same blobs and share a blob cache: in one registry
# the second would only mount the first's) -------------------------------
"$pocket" --root "$T/ps" load -q -i "$T/big.tar" >/dev/null
pm "$T/pp" load -q -i "$T/big.tar" >/dev/null
: >"$T/u-pocket"; : >"$T/u-skopeo"; : >"$T/u-podman"
echo "bench-registry: $n rounds of 3 pushes, each into an empty registry..." >&2
for ((i = 0; i < n; i++)); do
  for tool in pocket skopeo podman; do
    registry "push-$tool$i"
    dst=127.0.0.1:$port/bench/big:1
    if [ $tool = pocket ]; then
      "$pocket" --root "$T/ps" tag bench/big:1 "$dst"
      # (what an earlier round's push recorded would send nothing)
      rm -f "$T"/ps/images/layers/*.pushed
    fi
    a=$(now)
    case $tool in
      pocket) "$pocket" --root "$T/ps" push -q "$dst" >/dev/null ;;
      skopeo) skopeo copy -q --dest-tls-verify=false "docker-archive:$T/big.tar" "docker://$dst" ;;
      podman) pm "$T/pp" push -q --tls-verify=false bench/big:1 "docker://$dst" ;;
    esac
    b=$(now)
    ms "$a" "$b" >>"$T/u-$tool"
    [ $tool = pocket ] && "$pocket" --root "$T/ps" rmi "$dst" >/dev/null
    stop_registry "push-$tool$i"
  done
done

med() { sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
p=$(med "$T/t-pocket"); s=$(med "$T/t-skopeo"); q=$(med "$T/t-podman")
echo
echo "== pull of a ${size} MB, $layers-layer image from docker-registry on 127.0.0.1 ($n rounds, medians) =="
echo "pocket pull:                   $p ms"
echo "skopeo copy + pocket load:     $s ms"
echo "podman pull:                   $q ms ($(podman --version))"
awk -v p="$p" -v s="$s" -v q="$q" 'BEGIN {
  printf "pocket / (skopeo + load) = %.2fx (bound: <= 1.2)\n", p / s
  printf "pocket / podman          = %.2fx (bound: <= 1)\n", p / q }'
p=$(med "$T/u-pocket"); s=$(med "$T/u-skopeo"); q=$(med "$T/u-podman")
echo
echo "== push of it into an empty docker-registry on 127.0.0.1 ($n rounds, medians) =="
echo "pocket push:                          $p ms"
echo "skopeo copy docker-archive: docker:// $s ms"
echo "podman push:                          $q ms"
awk -v p="$p" -v s="$s" -v q="$q" 'BEGIN {
  printf "pocket / skopeo = %.2fx, pocket / podman = %.2fx\n", p / s, p / q }'
