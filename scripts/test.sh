#!/bin/sh
# Every test, as CI runs it: set up (packages, musl target, release build,
# test rootfs), unit + integration tests against the release binary, the
# POSIX smoke test, and the initramfs VM test when the machine can run it.
# Finally: no container cgroup may be left behind by any of it.
#
# Every part runs even when an earlier one failed (cargo with
# --no-fail-fast): one broken area must not hide the state of the rest.
# The last line sums it up: "N passed, N failed, N skipped", over cargo's
# tests, smoke.sh's and the VM's checks. Checks a host cannot run (no BFQ,
# no KVM, ...) print "SKIP what: why"; they are listed before the summary.
# Exit status: 0 only if nothing failed.
set -u
cd "$(dirname "$0")/.."
out=target/test-logs
mkdir -p "$out"
skips=$PWD/target/test-skips.log
: >"$skips"
export POCKET_SKIP_LOG="$skips"
passed=0 failed=0 broken=""
groups() { find /sys/fs/cgroup -path '*/pocket/*' -maxdepth 4 -mindepth 2 -type d 2>/dev/null | sort; }
before=$(groups)
# The host's network: the tests' bridges, veths and nf_tables tables live
# in network namespaces of their own; none may reach the host's.
hostnet() {
  ip -o link show 2>/dev/null | awk -F': ' '{ print $2 }' | sed 's/@.*//' | sort
  nft list tables 2>/dev/null | sort
}
net_before=$(hostnet)

# A part that could not even run (setup, a build) counts as one failure.
part_failed() { failed=$((failed + 1)); broken="$broken $1"; }

if ! scripts/setup.sh; then
  echo "test.sh: setup failed; nothing else can run" >&2
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi

# The suite changes no network of the host's: containers without --net get
# none (docker daemon.json's "bridge": "none"); the tests of bridge
# networks make network namespaces of their own and say what they want.
if [ -z "${POCKET_CONFIG:-}" ]; then
  echo '{"bridge": "none"}' >"$out/pocket-config.json"
  POCKET_CONFIG=$(cd "$out" && pwd)/pocket-config.json
  export POCKET_CONFIG
fi

# cargo: every test binary, even after a failure; counts from its
# "test result:" lines.
cargo test --release --no-fail-fast 2>&1 | tee "$out/cargo.log"
c_pass=$(sed -n 's/^test result: .*[^0-9]\([0-9][0-9]*\) passed; \([0-9][0-9]*\) failed.*/\1/p' "$out/cargo.log" | awk '{s+=$1} END {print s+0}')
c_fail=$(sed -n 's/^test result: .*[^0-9]\([0-9][0-9]*\) passed; \([0-9][0-9]*\) failed.*/\2/p' "$out/cargo.log" | awk '{s+=$1} END {print s+0}')
passed=$((passed + c_pass)) failed=$((failed + c_fail))
# A test binary that did not build or crashed has no result line.
if grep -q '^error: \(could not compile\|test failed\|[0-9]* targets failed\)' "$out/cargo.log" && [ "$c_fail" = 0 ]; then
  part_failed cargo
fi

# TAP: "ok N" and "not ok N" lines; a SKIP directive or line counts as skipped.
tap() {
  p=$(grep -c '^ok [0-9]' "$1" || true)
  f=$(grep -c '^not ok [0-9]' "$1" || true)
  passed=$((passed + p)) failed=$((failed + f))
  grep '^SKIP' "$1" >>"$skips" || true
}

sh scripts/smoke.sh target/x86_64-unknown-linux-musl/release/pocket 2>&1 | tee "$out/smoke.log"
tap "$out/smoke.log"
grep -q '^1\.\.[0-9]' "$out/smoke.log" || part_failed smoke.sh

# The build without TLS (cargo feature `tls` off): its size is the one the
# size budget is about; an https registry is refused in one line that
# says why (before any lookup: registry.invalid never resolves), and an
# insecure registry is still tried over plain http (the lookup's error).
notls=target/notls/x86_64-unknown-linux-musl/release/pocket
if CARGO_TARGET_DIR=target/notls cargo build --release --no-default-features -q 2>"$out/notls.log"; then
  echo "test.sh: $notls: $(stat -c %s "$notls") bytes stripped (without TLS)"
  nroot=$PWD/$out/notls-root
  {
    o=$("$notls" --root "$nroot" pull registry.invalid/x 2>&1 >/dev/null); rc=$?
    case "$rc:$o" in
      1:*"built without TLS"*) [ "$(printf '%s\n' "$o" | wc -l)" = 1 ] && echo "ok 1 - without TLS: https refused in one line" || echo "not ok 1 - without TLS: $o" ;;
      *) echo "not ok 1 - without TLS: https pull gave $rc: $o" ;;
    esac
    o=$("$notls" --root "$nroot" pull --insecure-registry registry.invalid registry.invalid/x 2>&1 >/dev/null); rc=$?
    case "$rc:$o" in
      1:*"no such host"*) echo "ok 2 - without TLS: an insecure registry is tried over http" ;;
      *) echo "not ok 2 - without TLS: insecure registry gave $rc: $o" ;;
    esac
  } >"$out/notls.tap"
  cat "$out/notls.tap"
  tap "$out/notls.tap"
  rm -rf "$nroot"
else
  cat "$out/notls.log" >&2
  part_failed notls-build
fi

# Real engines (podman + conmon, containerd's shim through ctr) driving
# pocket-runc, each scenario compared with runc's result.
if [ -x scripts/engines-test.sh ]; then
  engrc=0
  timeout 900 scripts/engines-test.sh target/x86_64-unknown-linux-musl/release/pocket-runc \
    >"$out/engines.log" 2>&1 || engrc=$?
  cat "$out/engines.log"
  tap "$out/engines.log"
  if [ "$engrc" != 0 ] && ! grep -q '^not ok' "$out/engines.log"; then
    part_failed engines-test.sh
  fi
fi

if [ -x scripts/initramfs-test.sh ]; then
  vmrc=0
  POCKET_VM_OPTIONAL=${POCKET_VM_OPTIONAL:-1} scripts/initramfs-test.sh >"$out/vm.log" 2>&1 || vmrc=$?
  cat "$out/vm.log"
  tap "$out/vm.log"
  if [ "$vmrc" != 0 ] && ! grep -q '^not ok' "$out/vm.log"; then
    part_failed initramfs-test.sh
  fi
fi

after=$(groups)
if [ "$before" != "$after" ]; then
  echo "test.sh: cgroups left behind:" >&2
  echo "$after" | grep -vxF "$before" >&2 || true
  part_failed cgroups-left-behind
else
  echo "test.sh: no cgroups left behind"
fi

net_after=$(hostnet)
if [ "$net_before" != "$net_after" ]; then
  echo "test.sh: the host's network changed (links, nf_tables tables):" >&2
  echo "$net_before" >"$out/net.before"
  echo "$net_after" >"$out/net.after"
  diff "$out/net.before" "$out/net.after" >&2 || true
  part_failed host-network-changed
else
  echo "test.sh: the host's network as it was (links, nf_tables tables)"
fi

nskip=$(sort -u "$skips" | grep -c . || true)
if [ "$nskip" -gt 0 ]; then
  echo "test.sh: skipped on this host:"
  sort -u "$skips" | sed 's/^/  /'
fi
[ -z "$broken" ] || echo "test.sh: failed to run:$broken" >&2
echo "$passed passed, $failed failed, $nskip skipped"
[ "$failed" = 0 ]
