#!/bin/bash
# Real engines drive an OCI runtime: podman (with conmon) and containerd
# (ctr, through containerd-shim-runc-v2, the path Kubernetes' CRI takes) run
# the same scenarios with each runtime given, and every result is compared
# with runc's, the control.
#
# Usage: scripts/engines-test.sh [RUNTIME...]     (as root)
#   RUNTIME: path to a runc-compatible binary (default: runc alone; later
#   target/x86_64-unknown-linux-musl/release/pocket-runc). runc always runs
#   first, as the control: for any other runtime each scenario is checked on
#   its own AND compared with runc's observable result (output, exit code).
# Env: ENGINES_TIMEOUT  seconds per command (default 30)
#      ENGINES_CALLS    write the runtime calls seen (normalized) to this file
#      ENGINES_KEEP=1   keep the temp dir (logs, transcripts) for a post-mortem
#
# Needs: Debian's podman 4.3, conmon, containerd 1.6 (ctr and
# containerd-shim-runc-v2), runc, python3, all installed here with apt-get
# when missing; the busybox test image target/images/busybox-docker.tar
# (scripts/mkimages.sh). No network: the image is loaded from that file.
#
# Prints TAP ("ok N - podman run --rm output (runc)"), then one summary line
# "engines-test: N passed, N failed"; exits non-zero if anything failed.
#
# Leaves the machine as it found it:
# * podman runs on a private store, run root, tmp dir, events file, file
#   locks (not /dev/shm/libpod_lock) and network config dir, all under one
#   temp dir, through a private containers.conf and storage.conf; cgroupfs
#   manager (no systemd here), `--network none` (no netavark, no CNI, the
#   host's network untouched). Even `podman version` gets these options: a
#   bare podman call creates /var/lib/containers/storage, /run/libpod, ...
# * containerd is a private daemon (root, state, sockets under the temp dir,
#   CRI and unused snapshotters disabled) started here and stopped by pid.
#   ctr gets --fifo-dir and --runc-root in the temp dir.
# * every container's cgroup is under /pocket/engines-test-PID (podman's
#   --cgroup-parent, ctr's --cgroup), removed at the end.
# * at the end: no process in our cgroups or naming the temp dir, no mount
#   under the temp dir, no new entry in /run, /var/lib, /dev/shm, ... (an
#   empty state root a runtime made, such as /run/runc, is removed); each
#   leak is a failing test line, then cleaned (files: when in /run, /tmp or
#   /dev/shm; elsewhere they are left to look at). Processes are only ever
#   killed by pid.
#
# Quirks of this host handled here: the sandbox has no CAP_SYS_RESOURCE, so
# podman's default RLIMIT_NOFILE/NPROC of 1048576 cannot be set by the
# runtime; containers.conf then sets limits within the current hard ones.
# podman 4.3 does not pass --runtime-flag to its exit command
# (`podman container cleanup`), so the runtime's default --root is used
# (runc: /run/runc): podman never passes --root itself.
set -u
# runtimes given relative to where we were called from
ARGS=()
for r in "$@"; do ARGS+=("$(realpath -s -- "$r" 2>/dev/null || echo "$r")"); done
set -- "${ARGS[@]}"
cd "$(dirname "$0")/.." || exit 1
REPO=$PWD
START=$SECONDS
TMO=${ENGINES_TIMEOUT:-30}
IMAGE_TAR=$REPO/target/images/busybox-docker.tar
IMG=docker.io/library/busybox:latest
PY=/usr/bin/python3

bail() {
	echo "Bail out! $*"
	exit 1
}
[ "$(id -u)" = 0 ] || bail "engines-test.sh must run as root"

# --- packages -------------------------------------------------------------
need=""
for pkg in podman conmon containerd runc python3; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need="$need $pkg"
done
if [ -n "$need" ]; then
	echo "# engines-test: installing$need"
	apt-get update -qq >/dev/null || bail "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null || bail "apt-get install$need failed"
fi
CONTROL=$(command -v runc) || bail "runc not found"
if [ ! -f "$IMAGE_TAR" ]; then
	scripts/mkimages.sh target/images >/dev/null || bail "no $IMAGE_TAR (run scripts/setup.sh)"
fi

# --- runtimes: runc first (the control), then the ones asked for ---------
RT_PATH=("$CONTROL")
for r in "$@"; do
	[ -x "$r" ] && [ -f "$r" ] || bail "$r is not an executable file"
	[ "$(realpath "$r")" = "$(realpath "$CONTROL")" ] && continue
	RT_PATH+=("$r")
done
RT_LABEL=()
for i in "${!RT_PATH[@]}"; do
	l=$(basename "${RT_PATH[i]}")
	for j in "${!RT_LABEL[@]}"; do [ "${RT_LABEL[j]}" = "$l" ] && l="$l#$i"; done
	RT_LABEL+=("$l")
done

# --- state before -----------------------------------------------------------
T=$(mktemp -d /tmp/engines-test.XXXXXX) || bail "mktemp failed"
chmod 711 "$T"
CGP=/pocket/engines-test-$$
SOCK=$T/c/sock
CTD_PID=""
ENGINE_NAMES="runc|crun|containerd|containers|libpod|podman|conmon|cni|netns|storage|runc-process|pty[0-9]|buildah"
for r in "$@"; do ENGINE_NAMES="$ENGINE_NAMES|$(basename "$r")"; done
WATCH_DIRS="/run /run/containers /var/lib /var/lib/containers /dev/shm /etc/containers /etc/cni/net.d /var/lib/cni /run/netns /opt /var/tmp /root/.local/share /root/.config"
snapshot_dirs() {
	local d
	for d in $WATCH_DIRS; do
		[ -d "$d" ] && ls -A "$d" | sed "s#^#$d/#"
	done
	# the engines' helpers put sockets and files in /tmp when nothing says otherwise
	find /tmp -mindepth 1 -maxdepth 1 -regextype posix-extended -regex "/tmp/($ENGINE_NAMES).*"
}
snapshot_dirs | sort >"$T/dirs.before"
grep -v -F "$T" /proc/self/mountinfo | awk '{print $5}' | sort >"$T/mounts.before"
# hierarchies that had no /pocket parent: we remove the one a runtime makes
POCKET_NEW=""
for h in /sys/fs/cgroup/*/; do
	[ -d "${h}pocket" ] || POCKET_NEW="$POCKET_NEW ${h}pocket"
done

cleaned=""
cleanup() {
	[ -n "$cleaned" ] && return
	cleaned=1
	final_cleanup >/dev/null 2>&1
	if [ "${ENGINES_KEEP:-0}" = 1 ]; then
		echo "# engines-test: kept $T"
	elif ! grep -q -F "$T" /proc/self/mountinfo; then
		rm -rf --one-file-system "$T"
	else
		echo "# engines-test: $T still has mounts; left in place" >&2
	fi
}
trap cleanup EXIT
trap 'exit 130' HUP INT TERM PIPE
exec </dev/null
# Fds we inherited past 2 would reach every engine, daemon and runtime
# (and keep a caller's pipe open): close them (bash's own 255 stays).
for fd in /proc/$$/fd/*; do
	fd=${fd##*/}
	case $fd in 0 | 1 | 2 | 255) ;; *) eval "exec $fd>&-" 2>/dev/null ;; esac
done

# Engines and daemons work from the temp dir: conmon 2.1.6 writes an empty
# file "oom" into its working directory (podman's) when a container is
# OOM-killed.
cd "$T" || bail "cd $T"

# the environment as we got it: the runtime's summary shows what the engines add
{ compgen -e; echo CONTAINERS_CONF; echo CONTAINERS_STORAGE_CONF; } | sort -u >"$T/env.base"
mkdir -p "$T/tr" "$T/vol" "$T/p/tmp" "$T/p/net" "$T/c/tmp" "$T/c/fifo" "$T/calls"

# --- a pty harness: run a command on a new 80x24 terminal ----------------
cat >"$T/ptyrun.py" <<'EOF'
import os, pty, select, signal, struct, sys, time, fcntl, termios
# ptyrun.py TIMEOUT WAIT_FOR INPUT CMD...: run CMD on a new pty (80x24);
# once WAIT_FOR shows in its output (at once if empty) type INPUT; print
# the output without CRs; exit with CMD's status (124 on timeout).
timeout, wait_for, data = float(sys.argv[1]), sys.argv[2].encode(), sys.argv[3].encode()
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[4], sys.argv[4:])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
out, sent, rc = b"", not data, None
deadline = time.monotonic() + timeout
while True:
    if time.monotonic() > deadline:
        os.kill(pid, signal.SIGKILL)
        rc = 124
        break
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            chunk = b""
        if not chunk:
            break
        out += chunk
    if not sent and wait_for in out:
        os.write(fd, data)
        sent = True
_, status = os.waitpid(pid, 0)
if rc is None:
    rc = os.waitstatus_to_exitcode(status)
    rc = 128 - rc if rc < 0 else rc
sys.stdout.write(out.replace(b"\r", b"").decode(errors="replace"))
sys.exit(rc)
EOF

# --- each runtime behind a wrapper that logs how the engines call it -----
# The wrapper has the runtime's own name (podman decides on the name, e.g.
# whether to pass --log-format=json) and execs the runtime itself. Its
# helper reads the wrapper's open fds and environment from outside: a
# redirection or a pipe in the shell would add fds of its own.
cat >"$T/fdlog.py" <<'EOF'
import os, re, sys
# fdlog.py PID WRAPPER CALLER LOG ARGS...: the fds and environment names
# of PID (the wrapper's shell: its fd reading WRAPPER is not counted).
# Its stderr is the runtime's, maybe the container's: never write there.
sys.stderr = open(os.devnull, "w")
pid, wrapper, caller, log, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
unix = {}
try:
    with open("/proc/net/unix") as f:
        for line in f.readlines()[1:]:
            w = line.split()
            unix[w[6]] = w[7] if len(w) > 7 else "(unnamed)"
except OSError:
    pass
def name(t):
    m = re.match(r"socket:\[(\d+)\]$", t)
    if m:
        return "socket " + unix.get(m.group(1), "(not unix)")
    return re.sub(r":\[\d+\]$", "", t)
skip = False
sub = ""
for a in args:
    if skip:
        skip = False
    elif a in ("--root", "--log", "--log-format", "--criu"):
        skip = True
    elif not a.startswith("-"):
        sub = a
        break
fds = []
for n in sorted(os.listdir("/proc/%s/fd" % pid), key=int):
    try:
        t = os.readlink("/proc/%s/fd/%s" % (pid, n))
        if t != wrapper:
            fds.append("%s:%s" % (n, name(t)))
    except OSError:
        pass
with open(log, "a") as f:
    f.write("%s %s\tfds %s\tenv %s\n" % (caller, sub, " ".join(fds), " ".join(sorted(os.environ))))
# keep the documents the engine wrote for the runtime: config.json,
# process.json, update's resources
flat = []
for a in args:
    flat.extend(a.split("=", 1) if a.startswith("--") and "=" in a else [a])
for flag, doc in (("--bundle", "config.json"), ("--process", ""), ("--resources", "")):
    if flag in flat[:-1]:
        src = flat[flat.index(flag) + 1]
        src = os.path.join(src, doc) if doc else src
        dst = "%s.%s-%s-%d.json" % (log, caller, sub, os.getpid())
        try:
            with open(src, "rb") as i, open(dst, "wb") as o:
                o.write(i.read())
        except OSError:
            pass
EOF
RT_WRAP=()
for i in "${!RT_PATH[@]}"; do
	w=$T/rt/$i/$(basename "${RT_PATH[i]}")
	mkdir -p "$T/rt/$i"
	cat >"$w" <<EOF
#!/bin/sh
read -r caller </proc/\$PPID/comm || caller=?
printf '%s %s\n' "\$caller" "\$*" >>"$T/calls/$i.log"
$PY -IS "$T/fdlog.py" \$\$ "$w" "\$caller" "$T/calls/$i.env" "\$@"
exec "${RT_PATH[i]}" "\$@"
EOF
	chmod 755 "$w"
	RT_WRAP+=("$w")
done

# --- running commands --------------------------------------------------------
# x CMD...: run with a timeout; stdout in $OUT, stderr in $ERRT, status in
# $RC; all three go to the scenario's transcript, shown if it fails.
TR=/dev/null
SHOW=""
x() {
	timeout -k 5 "$TMO" "$@" >"$T/o" 2>"$T/e" </dev/null
	RC=$?
	OUT=$(cat "$T/o")
	ERRT=$(cat "$T/e")
	transcript "$@"
}
# xi INPUT CMD...: the same with INPUT on stdin (a pipe).
xi() {
	local input=$1
	shift
	printf '%s' "$input" | timeout -k 5 "$TMO" "$@" >"$T/o" 2>"$T/e"
	RC=$?
	OUT=$(cat "$T/o")
	ERRT=$(cat "$T/e")
	transcript "$@"
}
# xp WAIT INPUT CMD...: the same on a pty (stderr merged into $OUT).
xp() {
	local wait=$1 input=$2
	shift 2
	timeout -k 5 $((TMO + 10)) "$PY" -I "$T/ptyrun.py" "$TMO" "$wait" "$input" "$@" >"$T/o" 2>"$T/e" </dev/null
	RC=$?
	OUT=$(cat "$T/o")
	ERRT=$(cat "$T/e")
	transcript "$@"
}
transcript() {
	{
		printf '$ %s\n' "${SHOW:-$*}"
		[ -z "$OUT" ] || printf '%s\n' "$OUT" | sed 's/^/  out: /'
		[ -z "$ERRT" ] || printf '%s\n' "$ERRT" | sed 's/^/  err: /'
		echo "  exit $RC"
		[ "$RC" != 124 ] || echo "  (timed out after ${TMO}s)"
	} >>"$TR"
	SHOW=""
}

# podman with its private configuration; CUR is the runtime being tested.
CUR=0
PG=()
pm() {
	SHOW="podman $*"
	x podman "${PG[@]}" --runtime "${RT_WRAP[CUR]}" "$@"
}
pmi() { # INPUT podman-args...: with INPUT on stdin
	local input=$1
	shift
	SHOW="[stdin] podman $*"
	xi "$input" podman "${PG[@]}" --runtime "${RT_WRAP[CUR]}" "$@"
}
pmp() { # WAIT INPUT podman-args...: on a pty
	local wait=$1 input=$2
	shift 2
	SHOW="[pty] podman $*"
	xp "$wait" "$input" podman "${PG[@]}" --runtime "${RT_WRAP[CUR]}" "$@"
}
RUNF=(--cgroup-parent "$CGP" --network none)

# ctr against the private daemon; crun_flags ID: what `ctr run` needs.
ct() {
	SHOW="ctr $*"
	x ctr -a "$SOCK" -n engines "$@"
}
cti() {
	local input=$1
	shift
	SHOW="[stdin] ctr $*"
	xi "$input" ctr -a "$SOCK" -n engines "$@"
}
ctp() {
	local wait=$1 input=$2
	shift 2
	SHOW="[pty] ctr $*"
	xp "$wait" "$input" ctr -a "$SOCK" -n engines "$@"
}
CF=()
crun_flags() {
	CF=(--runc-binary "${RT_WRAP[CUR]}" --runc-root "$T/c/runc" --fifo-dir "$T/c/fifo" --cgroup "$CGP/$1")
}

# --- checks ---------------------------------------------------------------------
ERR=""
OBS=""
fail() { ERR="${ERR:+$ERR; }$*"; }
want_rc() { [ "$RC" = "$1" ] || fail "$2: exit code $RC, want $1"; }
want_out() { [ "$OUT" = "$1" ] || fail "$2: output '$(printf '%s' "$OUT" | tr '\n' '|')', want '$(printf '%s' "$1" | tr '\n' '|')'"; }
# check WHAT CMD...: CMD must succeed; either way WHAT (or "NOT WHAT") goes
# into the observable result compared with runc's.
check() {
	local what=$1
	shift
	if "$@"; then
		OBS="${OBS:+$OBS, }$what"
	else
		OBS="${OBS:+$OBS, }NOT $what"
		fail "not $what"
	fi
}
has_line() { printf '%s\n' "$OUT" | grep -q -x -F -- "$1"; }
want_line() { check "$2: line '$1'" has_line "$1"; }
# poll SECONDS CMD...: retry CMD (a shell function or command) every 0.1 s
poll() {
	local end=$((SECONDS + $1))
	shift
	while :; do
		"$@" && return 0
		[ $SECONDS -lt $end ] || return 1
		sleep 0.1
	done
}
# The host's view of a container process: its cgroup (memory hierarchy).
cg_of() { sed -n 's/^[0-9]*:memory:\(.*\)/\1/p' "/proc/$1/cgroup" 2>/dev/null; }
pid_gone() { ! kill -0 "$1" 2>/dev/null || grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
dir_gone() { [ ! -d "$1" ]; }
file_is() { [ "$(cat "$1" 2>/dev/null)" = "$2" ]; }
file_has_num() { grep -q '^[0-9][0-9]*$' "$1" 2>/dev/null; }

n=0
passed=0
failed=0
tap() { # STATUS(0 ok) DESCRIPTION [DIAGNOSTIC]
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		passed=$((passed + 1))
		echo "ok $n - $2"
	else
		failed=$((failed + 1))
		echo "not ok $n - $2"
		[ -z "${3:-}" ] || printf '%s\n' "$3" | sed 's/^/#   /'
	fi
}

declare -A CONTROL_OBS
# scenario NAME FUNCTION: run it with each runtime; each gets its own line,
# and each runtime but runc a second one: the same observable result as runc.
scenario() {
	local name=$1 fn=$2 i tr
	for i in "${!RT_PATH[@]}"; do
		CUR=$i
		ERR=""
		OBS=""
		tr=$T/tr/$((n + 1))
		TR=$tr
		: >"$TR"
		echo "# --- $name" >>"$T/calls/$i.log"
		"$fn"
		sweep
		TR=/dev/null
		if [ -n "$ERR" ]; then
			tap 1 "$name (${RT_LABEL[i]})" "$ERR
$(cat "$tr")"
		else
			tap 0 "$name (${RT_LABEL[i]})"
		fi
		if [ "$i" = 0 ]; then
			CONTROL_OBS[$fn]=$OBS
		elif [ "$OBS" = "${CONTROL_OBS[$fn]}" ]; then
			tap 0 "$name (${RT_LABEL[i]}) same as runc"
		else
			tap 1 "$name (${RT_LABEL[i]}) same as runc" "runc:   ${CONTROL_OBS[$fn]}
${RT_LABEL[i]}: $OBS"
		fi
	done
}
# After each scenario: nothing of it may stay (what stays is removed).
ENGINE=""
sweep() {
	local ids id
	if [ "$ENGINE" = podman ]; then
		pm ps -aq
		[ -z "$OUT" ] || pm rm -f -t 0 -a
	elif [ "$ENGINE" = containerd ]; then
		ct containers ls -q
		ids=$OUT
		for id in $ids; do
			ct tasks delete -f "$id"
			ct containers rm "$id"
		done
	fi
}

# --- podman ---------------------------------------------------------------------
CAN_SYS_RESOURCE=$((0x$(sed -n 's/^CapEff:\t*//p' /proc/self/status) >> 24 & 1))
podman_setup() {
	local drv=$1 ulimits=""
	if [ "$CAN_SYS_RESOURCE" = 0 ]; then
		# podman asks for nofile and nproc 1048576; without CAP_SYS_RESOURCE
		# no runtime can raise the hard limits that far.
		ulimits="default_ulimits = [\"nofile=$(ulimit -Hn):$(ulimit -Hn)\", \"nproc=4096:4096\"]"
	fi
	local json="\"runc\"" l
	for l in "${RT_LABEL[@]}"; do json="$json, \"${l%%#*}\""; done
	cat >"$T/p/containers.conf" <<EOF
[containers]
log_driver = "k8s-file"
netns = "none"
$ulimits
[network]
network_config_dir = "$T/p/net"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$T/p/events.log"
lock_type = "file"
tmp_dir = "$T/p/tmp"
static_dir = "$T/p/root/libpod"
volume_path = "$T/p/root/volumes"
runtime_supports_json = [$json]
EOF
	cat >"$T/p/storage.conf" <<EOF
[storage]
driver = "$drv"
graphroot = "$T/p/root"
runroot = "$T/p/run"
EOF
	export CONTAINERS_CONF=$T/p/containers.conf CONTAINERS_STORAGE_CONF=$T/p/storage.conf
	PG=(--root "$T/p/root" --runroot "$T/p/run" --storage-driver "$drv" --cgroup-manager cgroupfs
		--events-backend file --tmpdir "$T/p/tmp")
}

p_run_out() {
	pm run --rm "${RUNF[@]}" $IMG echo hello from podman
	want_rc 0 "run --rm"
	want_out "hello from podman" "run --rm"
	OBS="exit $RC, out '$OUT'"
}
p_exit3() {
	pm run --rm "${RUNF[@]}" $IMG sh -c 'exit 3'
	want_rc 3 "sh -c 'exit 3'"
	OBS="exit $RC"
}
# podman turns the runtime's error text into 127 / 126, as docker does:
# "executable file not found" / "permission denied".
p_exit127() {
	pm run --rm "${RUNF[@]}" $IMG nosuchcmd
	want_rc 127 "a missing command"
	OBS="exit $RC"
}
p_exit126() {
	pm run --rm "${RUNF[@]}" $IMG /etc
	want_rc 126 "a directory as the command"
	OBS="exit $RC"
}
p_stdin() {
	pmi $'line1\nline2\n' run -i --rm "${RUNF[@]}" $IMG sh -c 'cat; echo end'
	want_rc 0 "run -i"
	want_out "line1
line2
end" "run -i: stdin to the end"
	OBS="exit $RC, out '$OUT'"
}
p_netnone() {
	pm run --rm "${RUNF[@]}" $IMG ls /sys/class/net
	want_rc 0 "ls /sys/class/net"
	want_out "lo" "--network none"
	OBS="exit $RC, out '$OUT'"
}
# A namespace left out of config.json is the caller's: podman runs in a
# network namespace made here (never the host's), and --network host must
# give the container that one.
p_nethost() {
	SHOW="[unshare -n] podman run --rm --network host $IMG readlink /proc/self/ns/net"
	x unshare -n sh -c 'readlink /proc/self/ns/net; exec "$@"' sh podman "${PG[@]}" --runtime "${RT_WRAP[CUR]}" \
		run --rm --cgroup-parent "$CGP" --network host $IMG readlink /proc/self/ns/net
	want_rc 0 "run --network host"
	OBS="exit $RC"
	check "the caller's net namespace" test "$(printf '%s\n' "$OUT" | sed -n 1p)" = "$(printf '%s\n' "$OUT" | sed -n 2p)"
	check "not the host's" test "$(printf '%s\n' "$OUT" | sed -n 1p)" != "$(readlink /proc/self/ns/net)"
}
p_process() {
	pm run --rm -e FOO=bar -w /tmp --hostname eng-host --tmpfs /scratch:size=1m --sysctl net.ipv4.ip_forward=1 \
		"${RUNF[@]}" $IMG sh -c 'echo "$FOO $(pwd) $(hostname) $(cat /proc/sys/net/ipv4/ip_forward)"; grep " /scratch " /proc/mounts | cut -d" " -f1-3'
	want_rc 0 "run -e -w --hostname --tmpfs --sysctl"
	want_out "bar /tmp eng-host 1
tmpfs /scratch tmpfs" "run -e -w --hostname --tmpfs --sysctl"
	OBS="exit $RC, out '$OUT'"
}
p_logs() {
	local c=eng-logs-$CUR
	pm run -d --name $c "${RUNF[@]}" $IMG sh -c 'echo out1; echo err1 >&2; echo out2; exec sleep 600'
	want_rc 0 "run -d"
	logs_done() {
		pm logs $c
		[ "$OUT" = "out1
out2" ] && [ "$ERRT" = err1 ]
	}
	poll 10 logs_done || fail "logs: stdout '$OUT' stderr '$ERRT', want out1,out2 and err1"
	OBS="stdout '$OUT' stderr '$ERRT'"
}
p_exec() {
	local c=eng-exec-$CUR
	pm run -d --name $c "${RUNF[@]}" $IMG sleep 600
	pm exec $c sh -c 'echo in; tr "\0" " " </proc/1/cmdline; echo; exit 4'
	want_rc 4 "exec sh -c 'exit 4'"
	want_out "in
sleep 600 " "exec"
	OBS="exit $RC, out '$OUT'"
	pm exec $c nosuchcmd
	want_rc 127 "exec of a missing command"
	OBS="$OBS; missing: exit $RC"
	pm exec --user 1000 --workdir /tmp -e FOO=bar $c sh -c 'echo $(id -u) $(pwd) $FOO'
	want_out "1000 /tmp bar" "exec --user --workdir -e"
	OBS="$OBS; $OUT"
}
p_exec_t() {
	local c=eng-exect-$CUR
	pm run -d --name $c "${RUNF[@]}" $IMG sleep 600
	# podman 4.3 gives an exec no consoleSize: conmon sizes the pty once
	# the process started (a race a fast runtime loses now and then, and
	# stty then fails): the size must arrive, within a second.
	pmp '' '' exec -t $c sh -c 'tty; [ -t 0 ] && echo stdin-tty
		for i in 1 2 3 4 5 6 7 8 9 10; do s=$(stty size 2>/dev/null) && [ "$s" != "0 0" ] && break; sleep 0.1; done
		echo "$s"; exit 4'
	want_rc 4 "exec -t ... exit 4"
	OBS="exit $RC"
	want_line /dev/pts/0 "exec -t: tty"
	want_line stdin-tty "exec -t: stdin"
	want_line "24 80" "exec -t: window size"
	pmp '# ' $'echo $((20+22)); exit 6\r' exec -it $c sh
	want_rc 6 "exec -it sh, typed 'exit 6'"
	OBS="$OBS; -it: exit $RC"
	want_line 42 "exec -it: typed echo"
}
p_run_it() {
	pmp '# ' $'echo $((6*7)); tty; stty size; exit 5\r' run -it --rm "${RUNF[@]}" $IMG sh
	want_rc 5 "run -it sh, typed 'exit 5'"
	OBS="exit $RC"
	want_line 42 "run -it: typed echo"
	want_line /dev/pts/0 "run -it: tty"
	want_line "24 80" "run -it: window size"
}
# A shell that writes "ready" once its TERM trap is set (a signal before it
# would be ignored: PID 1 has no default action).
trapper() { # NAME EXIT-CODE
	local d=$T/vol/$1
	mkdir -p "$d"
	pm run -d --name "$1" -v "$d:/x" "${RUNF[@]}" $IMG sh -c "trap 'exit $2' TERM; echo > /x/ready; while :; do sleep 0.1; done"
	want_rc 0 "run -d (trap TERM)"
	poll 10 test -f "$d/ready" || fail "the container never got ready"
}
p_stop() {
	local c=eng-stop-$CUR t0
	trapper $c 0
	t0=$SECONDS
	pm stop -t 10 $c
	want_rc 0 "stop"
	[ $((SECONDS - t0)) -le 5 ] || fail "stop of a TERM-trapping container took $((SECONDS - t0))s"
	pm inspect --format '{{.State.Status}} {{.State.ExitCode}}' $c
	want_out "exited 0" "state after stop"
	OBS="$OUT"
}
p_stop_kill() {
	local c=eng-stopk-$CUR t0
	pm run -d --name $c "${RUNF[@]}" $IMG sleep 600
	t0=$SECONDS
	pm stop -t 1 $c
	want_rc 0 "stop -t 1"
	pm inspect --format '{{.State.Status}} {{.State.ExitCode}}' $c
	want_out "exited 137" "state after stop -t 1 (TERM ignored by PID 1, then KILL)"
	OBS="$OUT"
}
p_kill() {
	local c=eng-kill-$CUR
	pm run -d --name $c "${RUNF[@]}" $IMG sleep 600
	pm kill $c
	want_rc 0 "kill"
	pm wait $c
	want_out 137 "wait after kill"
	OBS="wait: $OUT"
	c=eng-killt-$CUR
	trapper $c 7
	pm kill -s TERM $c
	pm wait $c
	want_out 7 "wait after kill -s TERM (trap: exit 7)"
	OBS="$OBS; TERM: $OUT"
}
p_rm_f() {
	local c=eng-rm-$CUR pid cg
	pm run -d --name $c "${RUNF[@]}" $IMG sleep 600
	pm inspect --format '{{.State.Pid}}' $c
	pid=$OUT
	cg=$(cg_of "$pid")
	case $cg in "$CGP"/*) ;; *) fail "container pid '$pid' in memory cgroup '$cg', not under $CGP" ;; esac
	pm rm -f -t 0 $c
	want_rc 0 "rm -f of a running container"
	OBS="exit $RC"
	check "process gone" poll 5 pid_gone "$pid"
	check "cgroup gone" poll 5 dir_gone "/sys/fs/cgroup/memory$cg"
	pm ps -a -q --filter name=$c
	check "not listed by ps -a" test -z "$OUT"
}
p_pause() {
	local c=eng-pause-$CUR d=$T/vol/eng-pause-$CUR pid a b st
	mkdir -p "$d"
	pm run -d --name $c -v "$d:/x" "${RUNF[@]}" $IMG sh -c 'i=0; while :; do i=$((i+1)); echo $i > /x/c.new; mv /x/c.new /x/c; sleep 0.05; done'
	poll 10 file_has_num "$d/c" || fail "the counter never started"
	pm inspect --format '{{.State.Pid}}' $c
	pid=$OUT
	pm pause $c
	want_rc 0 "pause"
	pm inspect --format '{{.State.Status}}' $c
	want_out paused "state after pause"
	OBS="pause: exit $RC, $OUT"
	st=$(cat "$(cgfile "$pid" freezer freezer.state)" 2>/dev/null)
	check "freezer.state FROZEN on the host" test "$st" = FROZEN
	a=$(cat "$d/c")
	sleep 0.6
	b=$(cat "$d/c")
	check "counter still while paused" test "$a" = "$b"
	pm unpause $c
	want_rc 0 "unpause"
	pm inspect --format '{{.State.Status}}' $c
	want_out running "state after unpause"
	OBS="$OBS; unpause: exit $RC, $OUT"
	moved() { [ "$(cat "$d/c")" != "$b" ]; }
	check "counter moving after unpause" poll 5 moved
}
p_restart() {
	local c=eng-restart-$CUR pid1 pid2
	pm run -d --name $c "${RUNF[@]}" $IMG sh -c 'echo started; exec sleep 600'
	pm inspect --format '{{.State.Pid}}' $c
	pid1=$OUT
	pm restart -t 0 $c
	want_rc 0 "restart"
	pm inspect --format '{{.State.Status}} {{.State.Pid}}' $c
	pid2=${OUT#* }
	OBS="state ${OUT%% *}"
	check "a new pid" test "$pid2" != "$pid1"
	check "the first process gone" poll 5 pid_gone "$pid1"
	two_starts() {
		pm logs $c
		[ "$OUT" = "started
started" ]
	}
	check "two starts in the logs" poll 10 two_starts
}
cgfile() { # PID CONTROLLER FILE: the container's cgroup file, from the host
	echo "/sys/fs/cgroup/$2$(sed -n "s/^[0-9]*:$2:\(.*\)/\1/p" "/proc/$1/cgroup")/$3"
}
p_memory() {
	local c=eng-mem-$CUR pid in host
	pm run -d --name $c --memory 64m "${RUNF[@]}" $IMG sleep 600
	pm exec $c cat /sys/fs/cgroup/memory/memory.limit_in_bytes
	in=$OUT
	[ "$in" = 67108864 ] || fail "memory.limit_in_bytes inside: '$in'"
	pm inspect --format '{{.State.Pid}}' $c
	pid=$OUT
	host=$(cat "$(cgfile "$pid" memory memory.limit_in_bytes)" 2>/dev/null)
	[ "$host" = 67108864 ] || fail "memory.limit_in_bytes on the host: '$host'"
	pm update --memory 128m $c
	want_rc 0 "update --memory 128m"
	pm exec $c cat /sys/fs/cgroup/memory/memory.limit_in_bytes
	[ "$OUT" = 134217728 ] || fail "memory.limit_in_bytes inside after update: '$OUT'"
	in="$in, updated $OUT"
	# busybox tail keeps a line that never ends: it grows until OOM-killed
	pm run --rm --memory 32m "${RUNF[@]}" $IMG tail /dev/zero
	want_rc 137 "tail /dev/zero under --memory 32m (OOM kill)"
	OBS="inside $in, host $host, oom exit $RC"
}
p_pids() {
	pm run --rm --pids-limit 10 "${RUNF[@]}" $IMG sh -c 'cat /sys/fs/cgroup/pids/pids.max; for i in $(seq 15); do sleep 2 & done; echo unreachable'
	want_out 10 "pids.max inside"
	want_rc 2 "sh after a refused fork"
	printf '%s' "$ERRT" | grep -q "can't fork" || fail "no fork refused"
	OBS="exit $RC, out '$OUT', err '$ERRT'"
}
p_capdrop() {
	local eff
	pm run --rm --cap-drop CHOWN,NET_RAW "${RUNF[@]}" $IMG sh -c 'grep -E "^Cap(Prm|Eff|Bnd)" /proc/self/status; touch /f; chown 1 /f'
	want_rc 1 "chown without CAP_CHOWN"
	printf '%s' "$ERRT" | grep -q "Operation not permitted" || fail "chown: '$ERRT', want EPERM"
	eff=$(printf '%s\n' "$OUT" | sed -n 's/^CapEff:\t*//p')
	[ -n "$eff" ] && (((0x$eff & 1) == 0 && (0x$eff >> 13 & 1) == 0 && (0x$eff >> 1 & 1) == 1)) ||
		fail "CapEff '$eff': want CHOWN, NET_RAW dropped and DAC_OVERRIDE kept"
	OBS="exit $RC, $(printf '%s' "$OUT" | tr '\n\t' '| ')"
}
p_readonly() {
	pm run --rm --read-only "${RUNF[@]}" $IMG sh -c 'touch /etc/x 2>&1; echo rc=$?; touch /tmp/y && echo tmp-writable'
	want_out "touch: /etc/x: Read-only file system
rc=1
tmp-writable" "--read-only"
	OBS="exit $RC, out '$OUT'"
}
p_volume() {
	local d=$T/vol/eng-vol-$CUR
	mkdir -p "$d"
	echo from-host >"$d/in"
	pm run --rm -v "$d:/x" -v "$d:/y:ro" "${RUNF[@]}" $IMG sh -c 'cat /x/in; echo from-ctr > /x/out; { echo no > /y/z; } 2>&1; echo ro=$?'
	want_out "from-host
sh: can't create /y/z: Read-only file system
ro=1" "-v HOSTDIR:/x and :ro"
	OBS="exit $RC, out '$OUT'"
	check "the host sees /x/out" file_is "$d/out" from-ctr
	check "nothing written through :ro" test ! -e "$d/z"
}
p_user() {
	pm run --rm --user 1000 "${RUNF[@]}" $IMG sh -c 'id; grep CapEff /proc/self/status'
	want_rc 0 "--user 1000"
	printf '%s' "$OUT" | grep -q '^uid=1000[( ]' || fail "id: '$OUT'"
	want_line "CapEff:	0000000000000000" "no capabilities as uid 1000"
	OBS="exit $RC, out '$OUT'"
}

# --- containerd -----------------------------------------------------------------
ctd_start() {
	mkdir -p "$T/c"
	cat >"$T/c/config.toml" <<EOF
version = 2
root = "$T/c/root"
state = "$T/c/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$SOCK.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.snapshotter.v1.overlayfs"]
  root_path = "$T/c/root/overlayfs"
EOF
	# TMPDIR: where the shim writes exec process files and console sockets.
	TMPDIR=$T/c/tmp containerd --config "$T/c/config.toml" >"$T/c/log" 2>&1 &
	CTD_PID=$!
	ctd_up() { ctr -a "$SOCK" version >/dev/null 2>&1; }
	poll 15 ctd_up
}
c_ids=0
cid() { c_ids=$((c_ids + 1)); echo "eng-$1-$CUR-$c_ids"; }
c_run_out() {
	local id
	id=$(cid run)
	crun_flags $id
	ct run --rm "${CF[@]}" $IMG $id echo hello from ctr
	want_rc 0 "ctr run --rm"
	want_out "hello from ctr" "ctr run --rm"
	OBS="exit $RC, out '$OUT'"
}
c_stdin() {
	local id
	id=$(cid stdin)
	crun_flags $id
	# ctr 1.6 never closes the task's stdin at EOF: read two lines only
	cti $'line1\nline2\n' run --rm "${CF[@]}" $IMG $id sh -c 'read a; read b; echo "$b $a"; echo end'
	want_rc 0 "ctr run with stdin"
	want_out "line2 line1
end" "ctr run: stdin"
	OBS="exit $RC, out '$OUT'"
}
c_exit3() {
	local id
	id=$(cid exit)
	crun_flags $id
	ct run --rm "${CF[@]}" $IMG $id sh -c 'exit 3'
	want_rc 3 "sh -c 'exit 3'"
	OBS="exit $RC"
}
# ctr says 1 for a failed create; the runtime's message reaches the client
# (CRI and docker look for "executable file not found" in it).
c_missing() {
	local id
	id=$(cid missing)
	crun_flags $id
	ct run --rm "${CF[@]}" $IMG $id nosuchcmd
	want_rc 1 "ctr run of a missing command"
	OBS="exit $RC"
	check "'executable file not found' in the error" grep -q 'executable file not found' "$T/e"
	ct containers ls -q
	check "no container left" test -z "$OUT"
}
c_detach_ls() {
	local id pid
	id=$(cid detach)
	crun_flags $id
	ct run -d "${CF[@]}" $IMG $id sleep 600
	want_rc 0 "ctr run -d"
	check "RUNNING in tasks ls" task_state $id RUNNING
	pid=$(printf '%s\n' "$OUT" | awk -v id=$id '$1 == id {print $2}')
	check "the task's pid in $CGP/ID" test "$(cg_of "$pid")" = "$CGP/$id"
	check "the task's pid runs 'sleep 600'" test "$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline")" = "sleep 600 "
	ct tasks ps $id
	want_rc 0 "tasks ps"
	check "the pid in tasks ps" grep -q -E "^$pid( |\$)" "$T/o"
}
c_exec() {
	local id
	id=$(cid exec)
	crun_flags $id
	ct run -d "${CF[@]}" $IMG $id sleep 600
	ct tasks exec --fifo-dir "$T/c/fifo" --exec-id e1 $id sh -c 'echo in; tr "\0" " " </proc/1/cmdline; echo; exit 4'
	want_rc 4 "tasks exec ... exit 4"
	want_out "in
sleep 600 " "tasks exec"
	OBS="exit $RC, out '$OUT'"
	ct tasks exec --fifo-dir "$T/c/fifo" --exec-id e2 --user 1000 --cwd /tmp $id sh -c 'echo $(id -u) $(pwd)'
	want_out "1000 /tmp" "tasks exec --user --cwd"
	OBS="$OBS; $OUT"
	ct tasks exec --fifo-dir "$T/c/fifo" --exec-id e3 $id nosuchcmd
	[ "$RC" != 0 ] || fail "tasks exec of a missing command succeeded"
	printf '%s' "$ERRT" | grep -q 'executable file not found' || fail "no 'executable file not found' in '$ERRT'"
	OBS="$OBS; missing: exit $RC"
}
c_exec_t() {
	local id
	id=$(cid exect)
	crun_flags $id
	ct run -d "${CF[@]}" $IMG $id sleep 600
	# ctr sets the window size only after the start: stty size would race
	ctp '' '' tasks exec -t --fifo-dir "$T/c/fifo" --exec-id t1 $id sh -c 'tty; [ -t 0 ] && echo stdin-tty; exit 4'
	want_rc 4 "tasks exec -t ... exit 4"
	OBS="exit $RC"
	want_line /dev/pts/0 "tasks exec -t: tty"
	want_line stdin-tty "tasks exec -t: stdin"
}
c_tty_run() {
	local id
	id=$(cid tty)
	crun_flags $id
	ctp '# ' $'echo $((6*7)); tty; stty size; exit 5\r' run --rm -t "${CF[@]}" $IMG $id sh
	want_rc 5 "ctr run -t sh, typed 'exit 5'"
	OBS="exit $RC"
	want_line 42 "run -t: typed echo"
	want_line /dev/pts/0 "run -t: tty"
	want_line "24 80" "run -t: window size"
}
task_state() { # ID STATE
	ct tasks ls
	printf '%s\n' "$OUT" | grep -q -E "^$1 +[0-9]+ +$2\$"
}
c_pause() {
	local id d a b pid st
	id=$(cid pause)
	d=$T/vol/$id
	mkdir -p "$d"
	crun_flags $id
	ct run -d "${CF[@]}" --mount "type=bind,src=$d,dst=/x,options=rbind:rw" $IMG $id sh -c 'i=0; while :; do i=$((i+1)); echo $i > /x/c.new; mv /x/c.new /x/c; sleep 0.05; done'
	poll 10 file_has_num "$d/c" || fail "the counter never started"
	ct tasks pause $id
	want_rc 0 "tasks pause"
	OBS="pause: exit $RC"
	check "PAUSED in tasks ls" task_state $id PAUSED
	pid=$(printf '%s\n' "$OUT" | awk -v id=$id '$1 == id {print $2}')
	st=$(cat "$(cgfile "$pid" freezer freezer.state)" 2>/dev/null)
	check "freezer.state FROZEN on the host" test "$st" = FROZEN
	a=$(cat "$d/c")
	sleep 0.6
	b=$(cat "$d/c")
	check "counter still while paused" test "$a" = "$b"
	ct tasks resume $id
	want_rc 0 "tasks resume"
	OBS="$OBS; resume: exit $RC"
	check "RUNNING in tasks ls" task_state $id RUNNING
	moved() { [ "$(cat "$d/c")" != "$b" ]; }
	check "counter moving after resume" poll 5 moved
}
c_kill() {
	local id d
	id=$(cid kill)
	d=$T/vol/$id
	mkdir -p "$d"
	crun_flags $id
	ct run -d "${CF[@]}" --mount "type=bind,src=$d,dst=/x,options=rbind:rw" $IMG $id sh -c "trap 'exit 7' TERM; echo > /x/ready; while :; do sleep 0.1; done"
	poll 10 test -f "$d/ready" || fail "the container never got ready"
	ct tasks kill $id
	want_rc 0 "tasks kill (SIGTERM)"
	OBS="kill: exit $RC"
	check "STOPPED after SIGTERM" poll 10 task_state $id STOPPED
	ct tasks delete $id
	want_rc 0 "tasks delete"
	check "exit code 7 reported" grep -q -E 'exit code 7("|$)' "$T/e"
}
# The exit code of a task killed by SIGKILL, seen by a foreground ctr run.
c_exit137() {
	local id bg rc=""
	id=$(cid k9)
	crun_flags $id
	(timeout -k 5 "$TMO" ctr -a "$SOCK" -n engines run --rm "${CF[@]}" $IMG $id sleep 600 >"$T/bg.out" 2>"$T/bg.err"
	echo $? >"$T/bg.rc") &
	bg=$!
	poll 10 task_state $id RUNNING || fail "never RUNNING"
	ct tasks kill -s SIGKILL $id
	want_rc 0 "tasks kill -s SIGKILL"
	wait $bg
	rc=$(cat "$T/bg.rc")
	echo "  foreground ctr run: exit $rc, err: $(cat "$T/bg.err")" >>"$TR"
	[ "$rc" = 137 ] || fail "foreground ctr run exit code $rc, want 137"
	OBS="exit $rc"
}
c_delete() {
	local id pid cg
	id=$(cid del)
	crun_flags $id
	ct run -d "${CF[@]}" $IMG $id sleep 600
	task_state $id RUNNING || fail "never RUNNING"
	pid=$(printf '%s\n' "$OUT" | awk -v id=$id '$1 == id {print $2}')
	cg=$(cg_of "$pid")
	ct tasks kill -s SIGKILL $id
	poll 10 task_state $id STOPPED || fail "not STOPPED after SIGKILL"
	ct tasks delete $id
	want_rc 0 "tasks delete of a stopped task"
	OBS="delete: exit $RC"
	check "exit code 137 reported" grep -q -E 'exit code 137("|$)' "$T/e"
	ct tasks ls -q
	check "not in tasks ls" test -z "$OUT"
	check "process gone" poll 5 pid_gone "$pid"
	check "cgroup gone" poll 5 dir_gone "/sys/fs/cgroup/memory$cg"
	ct containers rm $id
	want_rc 0 "containers rm"
	# a running task, deleted by force
	id=$(cid delf)
	crun_flags $id
	ct run -d "${CF[@]}" $IMG $id sleep 600
	task_state $id RUNNING || fail "never RUNNING"
	pid=$(printf '%s\n' "$OUT" | awk -v id=$id '$1 == id {print $2}')
	cg=$(cg_of "$pid")
	ct tasks delete -f $id
	want_rc 0 "tasks delete -f of a running task"
	OBS="$OBS; delete -f: exit $RC"
	check "process gone" poll 5 pid_gone "$pid"
	check "cgroup gone" poll 5 dir_gone "/sys/fs/cgroup/memory$cg"
	ct containers rm $id
	ct containers ls -q
	check "no container left" test -z "$OUT"
}
c_memory() {
	local id pid host
	id=$(cid mem)
	crun_flags $id
	ct run -d "${CF[@]}" --memory-limit 67108864 $IMG $id sleep 600
	task_state $id RUNNING || fail "never RUNNING"
	pid=$(printf '%s\n' "$OUT" | awk -v id=$id '$1 == id {print $2}')
	host=$(cat "$(cgfile "$pid" memory memory.limit_in_bytes)" 2>/dev/null)
	[ "$host" = 67108864 ] || fail "memory.limit_in_bytes on the host: '$host'"
	id=$(cid oom)
	crun_flags $id
	ct run --rm "${CF[@]}" --memory-limit 33554432 $IMG $id tail /dev/zero
	want_rc 137 "tail /dev/zero under --memory-limit 32 MiB (OOM kill)"
	OBS="host $host, oom exit $RC"
}

# --- what is left -----------------------------------------------------------------
# Processes: in our cgroups, or naming the temp dir (conmon, shims,
# podman's cleanup, the daemon when asked).
our_pids() {
	local p
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		[ "$p" = $$ ] || [ "$p" = "$BASHPID" ] && continue
		[ "$p" = "${1:-}" ] && continue
		if grep -q -E ":$CGP(/|\$)" "/proc/$p/cgroup" 2>/dev/null ||
			tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" | grep -q -F "$T"; then
			echo "$p"
		fi
	done
}
describe_pids() { local p; for p in "$@"; do echo "$p $(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" | cut -c1-200)"; done; }
kill_pids() { # send TERM, wait, then KILL: by pid only
	[ $# -gt 0 ] || return 0
	kill -TERM "$@" 2>/dev/null
	local end=$((SECONDS + 5)) p alive
	while [ $SECONDS -lt $end ]; do
		alive=""
		for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ -n "$alive" ] || return 0
		sleep 0.1
	done
	kill -KILL "$@" 2>/dev/null
}
our_mounts() { grep -F "$T" /proc/self/mountinfo | awk '{print $5}'; }
# Not a leak: podman's overlay driver bind-mounts its home onto itself
# (made private) and a podman that exits on an error path may leave it.
leaked_mounts() { our_mounts | grep -v -x -F "$T/p/root/overlay"; }
our_cgroups() { find /sys/fs/cgroup -mindepth 2 -maxdepth 7 -type d \( -path "*$CGP" -o -path "*$CGP/*" \) 2>/dev/null | sort -r; }
no_cleanup_procs() { [ -z "$(our_pids "$CTD_PID")" ]; }

# An engine's own end: after all its containers are gone, nothing may stay.
engine_left() { # NAME MOUNT-PREFIX
	local left p m
	poll 10 no_cleanup_procs
	p=$(our_pids "$CTD_PID")
	left=""
	[ -z "$p" ] || left="processes: $(describe_pids $p)"
	m=$(leaked_mounts | grep -F "$2")
	[ -z "$m" ] || left="$left${left:+
}mounts: $m"
	# container cgroups (podman's shared conmon group is its own, kept)
	m=$(our_cgroups | grep -v -E "$CGP(/conmon)?\$")
	[ -z "$m" ] || left="$left${left:+
}cgroups: $(echo "$m" | head -20)"
	if [ -z "$left" ]; then
		tap 0 "$1: no process, mount or container cgroup left"
	else
		tap 1 "$1: no process, mount or container cgroup left" "$left"
		kill_pids $p
	fi
}

FINAL_LEFT=""
final_cleanup() {
	local p m d h
	FINAL_LEFT=""
	if [ ${#PG[@]} -gt 0 ]; then
		CUR=0
		pm rm -a -f -t 0
	fi
	if [ -n "$CTD_PID" ]; then
		CUR=0
		ENGINE=containerd
		sweep
		kill_pids "$CTD_PID"
		wait "$CTD_PID" 2>/dev/null
		CTD_PID=""
	fi
	p=$(our_pids)
	if [ -n "$p" ]; then
		FINAL_LEFT="processes: $(describe_pids $p)"
		kill_pids $p
	fi
	m=$(leaked_mounts)
	[ -z "$m" ] || FINAL_LEFT="$FINAL_LEFT${FINAL_LEFT:+
}mounts: $m"
	# ours, deepest first, so that rm -rf can never reach through one
	for d in $(our_mounts | sort -r); do umount -l "$d"; done
	for d in $(our_cgroups); do
		rmdir "$d" 2>/dev/null || FINAL_LEFT="$FINAL_LEFT${FINAL_LEFT:+
}cgroup not removable: $d ($(cat "$d/cgroup.procs" 2>/dev/null | tr '\n' ' '))"
	done
	for h in $POCKET_NEW; do rmdir "$h" 2>/dev/null; done
	# Files outside the temp dir. A new entry named after an engine or a
	# runtime is ours: an empty directory tree is a default state root
	# (runc: /run/runc, containerd's shims: /run/containerd/s), removed
	# with a note; anything else is a leak, removed too when it is volatile
	# state (/run, /tmp, /dev/shm), else left to look at. Other new entries
	# are only shown: other people work on this machine at the same time.
	snapshot_dirs | sort >"$T/dirs.after"
	for d in $(comm -13 "$T/dirs.before" "$T/dirs.after"); do
		if ! basename "$d" | grep -q -E "^($ENGINE_NAMES)"; then
			echo "# engines-test: new on the host, not ours?: $d"
		elif [ -d "$d" ] && [ -z "$(find "$d" ! -type d ! -name '*.lock' | head -1)" ]; then
			# pocket's state roots keep their flock(2) files (names.lock).
			find "$d" -name '*.lock' -type f -delete
			find "$d" -depth -type d -empty -delete
			echo "# engines-test: removed $d (empty directories and lock files, an engine's or runtime's default state root)"
		else
			FINAL_LEFT="$FINAL_LEFT${FINAL_LEFT:+
}left on the host: $(find "$d" | head -10 | tr '\n' ' ')"
			case $d in /run/* | /tmp/* | /dev/shm/*) rm -rf --one-file-system "$d" ;; esac
		fi
	done
	grep -v -F "$T" /proc/self/mountinfo | awk '{print $5}' | sort >"$T/mounts.after"
	m=$(comm -13 "$T/mounts.before" "$T/mounts.after")
	[ -z "$m" ] || echo "# engines-test: new host mounts, not under our temp dir (not ours?): $m"
}

# --- main ---------------------------------------------------------------------------
echo "# engines-test: runtimes: ${RT_PATH[*]} (runc is the control)"
podman_setup overlay
echo "# versions:"
CUR=0
pm version --format '{{.Client.Version}}'
echo "#   podman $OUT"
echo "#   $(conmon --version | head -1)"
echo "#   $(containerd --version)"
echo "#   containerd-shim-runc-v2 $(containerd-shim-runc-v2 -v | sed -n 's/^ *Version: *//p')"
for i in "${!RT_PATH[@]}"; do
	echo "#   ${RT_LABEL[i]}: $("${RT_PATH[i]}" --version 2>&1 | head -1) (${RT_PATH[i]})"
done

# podman: load the image; overlay, else vfs
TR=$T/tr/setup
pm load -i "$IMAGE_TAR"
if [ "$RC" != 0 ]; then
	echo "# engines-test: podman overlay storage failed ($ERRT); trying vfs"
	rm -rf --one-file-system "$T/p/root" "$T/p/run"
	podman_setup vfs
	pm load -i "$IMAGE_TAR"
fi
[ "$RC" = 0 ] || bail "podman load -i $IMAGE_TAR: $ERRT"
pm info --format '{{.Host.CgroupManager}} {{.Host.CgroupsVersion}} {{.Store.GraphDriverName}}'
echo "# podman: cgroup manager, cgroups, storage: $OUT"
TR=/dev/null

ENGINE=podman
scenario "podman run --rm: output" p_run_out
scenario "podman run --rm: exit code 3" p_exit3
scenario "podman run: exit code 127 for a missing command" p_exit127
scenario "podman run: exit code 126 for a non-executable" p_exit126
scenario "podman run -i: stdin through to EOF" p_stdin
scenario "podman run --network none: only lo" p_netnone
scenario "podman run --network host in a fresh netns: the caller's namespace" p_nethost
scenario "podman run -e -w --hostname --tmpfs --sysctl" p_process
scenario "podman run -d, logs: stdout and stderr" p_logs
scenario "podman exec: output, exit code, 127, --user --workdir -e" p_exec
scenario "podman exec -t, exec -it (pty)" p_exec_t
scenario "podman run -it (pty): typed input, tty, window size, exit code" p_run_it
scenario "podman stop: TERM trapped, exit code 0" p_stop
scenario "podman stop -t 1: TERM ignored, KILL, exit code 137" p_stop_kill
scenario "podman kill: exit code 137; kill -s TERM: trap's exit code" p_kill
scenario "podman rm -f: process, cgroup and container gone" p_rm_f
scenario "podman pause/unpause: frozen, then running" p_pause
scenario "podman restart: a new process, the same container" p_restart
scenario "podman run --memory 64m, update --memory 128m: limits inside and on the host, OOM kill 137" p_memory
scenario "podman run --pids-limit 10: pids.max, fork refused" p_pids
scenario "podman run --cap-drop CHOWN,NET_RAW" p_capdrop
scenario "podman run --read-only" p_readonly
scenario "podman run -v HOSTDIR:/x, :ro" p_volume
scenario "podman run --user 1000" p_user
ENGINE=""
TR=$T/tr/podman-end
pm rm -a -f -t 0
engine_left podman "$T/p/"

TR=$T/tr/containerd-setup
ctd_start || bail "containerd did not start: $(tail -5 "$T/c/log")"
echo "# containerd: ctr client and server $(ctr -a "$SOCK" version | sed -n "s/^ *Version: *//p" | paste -sd/ -)"
ct images import "$IMAGE_TAR"
[ "$RC" = 0 ] || bail "ctr images import: $ERRT"
TR=/dev/null

ENGINE=containerd
scenario "ctr run --rm: output" c_run_out
scenario "ctr run: stdin" c_stdin
scenario "ctr run --rm: exit code 3" c_exit3
scenario "ctr run: a missing command fails, its message reaches ctr" c_missing
scenario "ctr run -d, tasks ls, tasks ps" c_detach_ls
scenario "ctr tasks exec: output, exit code, --user --cwd, missing command" c_exec
scenario "ctr tasks exec -t (pty)" c_exec_t
scenario "ctr run -t (pty): typed input, tty, window size, exit code" c_tty_run
scenario "ctr tasks pause/resume: frozen, then running" c_pause
scenario "ctr tasks kill: SIGTERM trapped, exit code 7" c_kill
scenario "ctr run, tasks kill -s SIGKILL: exit code 137" c_exit137
scenario "ctr tasks delete, delete -f: process and cgroup gone" c_delete
scenario "ctr run --memory-limit: limit on the host, OOM kill 137" c_memory
ENGINE=""
engine_left containerd "$T/c/"

# What the engines called on each runtime, normalized: <tmp> is the temp
# dir, <id> a container or exec id; [engine:caller] names the process that
# ran the runtime. Then, per caller and subcommand, the fds the runtime
# found open and the environment names the engine added.
norm() {
	sed -E -e "s#$T#<tmp>#g" -e 's/[0-9a-f]{64}/<id>/g' -e 's/eng-[a-z0-9]+-[0-9]+(-[0-9]+)?/<id>/g' \
		-e 's/conmon-term\.[A-Za-z0-9]+/conmon-term.XXXXXX/g' -e 's/(runc-process|exec-process-)[0-9]+/\1<N>/g' \
		-e 's/pty[0-9]+/pty<N>/g' -e 's#<tmp>/rt/[0-9]+/##g' -e 's#/var/tmp/podman[0-9]+#/var/tmp/podman<N>#g' \
		-e 's/^(conmon|podman) /[podman:\1] /' -e 's/^containerd-shim /[containerd:shim] /'
}
calls_summary() {
	local i
	for i in "${!RT_PATH[@]}"; do
		echo "## ${RT_LABEL[i]}: calls (count, caller, arguments)"
		grep -v '^# ---' "$T/calls/$i.log" | norm | sort | uniq -c | sort -k2 | sed 's/^ *\([0-9]*\) /\1x /'
		echo "## ${RT_LABEL[i]}: fds open and environment added, per caller and subcommand"
		awk -F'\t' -v base="$T/env.base" '
			BEGIN { while ((getline l < base) > 0) skip[l] = 1 }
			{ n = split(substr($3, 5), e, " "); env = ""
			  for (k = 1; k <= n; k++) if (!(e[k] in skip)) env = env " " e[k]
			  print $1 "\t" $2 "\tenv" env }' "$T/calls/$i.env" | norm | sort | uniq -c | sed 's/^ *\([0-9]*\) /\1x /'
	done
}
calls_summary >"$T/calls.txt"
[ -z "${ENGINES_CALLS:-}" ] || cp "$T/calls.txt" "$ENGINES_CALLS"

final_cleanup
if [ -z "$FINAL_LEFT" ]; then
	tap 0 "nothing left: processes, mounts, cgroups, files outside the temp dir"
else
	tap 1 "nothing left: processes, mounts, cgroups, files outside the temp dir" "$FINAL_LEFT"
fi
echo "1..$n"
echo "engines-test: $passed passed, $failed failed ($((SECONDS - START))s; runtimes: ${RT_LABEL[*]})"
[ "$failed" = 0 ]
