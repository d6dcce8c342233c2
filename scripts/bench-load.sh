#!/usr/bin/env bash
# Loading an image against GNU tar extracting the same layer: a layer of
# many small files (default 200 MB in ~20,000 files of 1-20 KB), wrapped
# in a docker-archive. Timed side by side, interleaved, N rounds each:
#   tar      GNU tar -xf layer.tar (as root: owners, modes, mtimes kept)
#   pocket   pocket load -i image.tar (index, sha256 of every byte, safe
#            extraction, rename into the store)
# and the same with a gzip layer (tar -xzf vs a gzip docker-archive).
# Usage: scripts/bench-load.sh [N] (default 5); MB=... for another size,
# BENCH_DIR=/dev/shm to take the disk out (default /var/tmp).
set -euo pipefail
export LC_ALL=C
self=$(readlink -f "${BASH_SOURCE[0]}")
repo=$(dirname "$(dirname "$self")")
pocket=${POCKET:-$repo/target/x86_64-unknown-linux-musl/release/pocket}
n=${1:-5}
mb=${MB:-200}
[ "$(id -u)" = 0 ] || { echo "bench-load: must run as root" >&2; exit 1; }
[ -x "$pocket" ] || (cd "$repo" && cargo build --release -q)
tmp=$(mktemp -d "${BENCH_DIR:-/var/tmp}/pocket-bench-load.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "bench-load: making a ${mb} MB layer of small files..." >&2
python3 - "$tmp/tree" "$mb" <<'PY'
import os, random, sys
root, mb = sys.argv[1], int(sys.argv[2])
random.seed(42)
total, i = 0, 0
blob = os.urandom(1 << 20)
while total < mb * 1000 * 1000:
    d = os.path.join(root, "d%03d" % (i % 200), "s%02d" % (i % 7))
    os.makedirs(d, exist_ok=True)
    size = random.randint(1000, 20000)
    off = random.randint(0, len(blob) - size)
    with open(os.path.join(d, "f%06d" % i), "wb") as f:
        f.write(blob[off:off + size])
    total += size
    i += 1
print(i, "files", file=sys.stderr)
PY
tar -C "$tmp/tree" -cf "$tmp/layer.tar" .
gzip -1 -c "$tmp/layer.tar" > "$tmp/layer.tar.gz"
rm -rf "$tmp/tree"

archive() { # layer file, out: a docker-archive around it
  local layer=$1 out=$2 diff cfg d
  diff=$(sha256sum "$tmp/layer.tar" | cut -d' ' -f1)
  d=$tmp/arch; rm -rf "$d"; mkdir -p "$d/l"
  cp "$layer" "$d/l/layer.tar"
  printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$diff" > "$d/config.json"
  cfg=$(sha256sum "$d/config.json" | cut -d' ' -f1)
  mv "$d/config.json" "$d/$cfg.json"
  printf '[{"Config":"%s.json","RepoTags":["bench:load"],"Layers":["l/layer.tar"]}]' "$cfg" > "$d/manifest.json"
  tar -C "$d" -cf "$out" manifest.json "$cfg.json" l
  rm -rf "$d"
}
archive "$tmp/layer.tar" "$tmp/plain.tar"
archive "$tmp/layer.tar.gz" "$tmp/gzip.tar"

timed() { local t0=$EPOCHREALTIME; "$@" >/dev/null; local t1=$EPOCHREALTIME; echo $(( ${t1/./} - ${t0/./} )); }
run_tar() { mkdir "$tmp/x"; timed tar -C "$tmp/x" "$@"; rm -rf "$tmp/x"; }
run_pocket() { timed "$pocket" --root "$tmp/root" load -q -i "$1"; "$pocket" --root "$tmp/root" rmi bench:load >/dev/null; }
for ((i = 0; i < n; i++)); do
  sync; run_tar -xf "$tmp/layer.tar" >>"$tmp/t-tar"
  sync; run_pocket "$tmp/plain.tar" >>"$tmp/t-pocket"
  sync; run_tar -xzf "$tmp/layer.tar.gz" >>"$tmp/t-targz"
  sync; run_pocket "$tmp/gzip.tar" >>"$tmp/t-pocketgz"
done
med() { sort -n "$1" | awk '{ v[NR] = $1 } END { printf "%.3f", v[int((NR + 1) / 2)] / 1e6 }'; }
echo
echo "== load vs GNU tar: $(stat -c %s "$tmp/layer.tar") byte layer, $(tar -tf "$tmp/layer.tar" | wc -l) entries, $n rounds, medians =="
echo "fs:     $(df -T "$tmp" | awk 'NR == 2 { print $2 }') at $tmp; $(tar --version | head -1)"
printf '%-32s %8s s\n' "tar -xf layer.tar" "$(med "$tmp/t-tar")"
printf '%-32s %8s s\n' "pocket load (plain layer)" "$(med "$tmp/t-pocket")"
printf '%-32s %8s s\n' "tar -xzf layer.tar.gz" "$(med "$tmp/t-targz")"
printf '%-32s %8s s\n' "pocket load (gzip layer)" "$(med "$tmp/t-pocketgz")"
awk -v a="$(med "$tmp/t-pocket")" -v b="$(med "$tmp/t-tar")" -v c="$(med "$tmp/t-pocketgz")" -v d="$(med "$tmp/t-targz")" \
  'BEGIN { printf "pocket/tar = %.2fx plain, %.2fx gzip\n", a / b, c / d }'
