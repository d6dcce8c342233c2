#!/bin/sh
# Smoke test: drive a real pocket binary the way a person would and check
# the effects from inside and outside the container. Prints TAP.
# Needs only pocket and busybox, so it also runs in an initramfs or a bare VM.
# Usage: scripts/smoke.sh [POCKET_BIN] [ROOTFS]   (as root)

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP not root"
	exit 0
fi

here=$(cd "$(dirname "$0")" && pwd)
POCKET=${1:-${POCKET:-$here/../target/x86_64-unknown-linux-musl/release/pocket}}
R=${2:-}
n=0
failed=0

bail() {
	echo "Bail out! $*"
	exit 1
}

[ -x "$POCKET" ] || bail "no pocket binary at $POCKET (cargo build --release)"
T=$(mktemp -d "${TMPDIR:-/tmp}/pocket-smoke.XXXXXX") || bail "mktemp failed"
# Container records go to the temp dir, removed with it at exit.
POCKET_ROOT=$T/state
export POCKET_ROOT
# The host's network is not the smoke test's to change: no default bridge
# (docker daemon.json's "bridge": "none"), unless the caller set its own.
if [ -z "${POCKET_CONFIG:-}" ]; then
  echo '{"bridge": "none"}' >"$T/config.json"
  POCKET_CONFIG=$T/config.json
  export POCKET_CONFIG
fi
mark=pocket-smoke.$$
bg=""
# A user's rootfs gets a marker file in /tmp, and a container may still run
# in the background: leave neither behind.
trap '[ -z "$bg" ] || kill -TERM $bg 2>/dev/null
	rm -rf "$T"; [ -z "$R" ] || rm -f "$R/tmp/$mark" "$R/$mark"' EXIT
trap 'exit 1' HUP INT PIPE TERM
# pocket must never read the terminal unless a test pipes something in.
exec </dev/null

if [ -z "$R" ]; then
	R=$T/rootfs
	# busybox sh answers "busybox" for its own applet name: find the file.
	bb=$(command -v busybox)
	case $bb in /*) ;; *) bb=$(which busybox 2>/dev/null) ;; esac
	[ -x "$bb" ] || bail "busybox not found"
	mkdir -p "$R/bin" "$R/proc" "$R/sys" "$R/dev" "$R/tmp" "$R/etc" || bail "cannot create $R"
	chmod 1777 "$R/tmp"
	cp "$bb" "$R/bin/busybox" || bail "cannot copy $bb"
	for a in $("$bb" --list); do
		[ -e "$R/bin/$a" ] || ln -s busybox "$R/bin/$a"
	done
	# A dynamic busybox would find no libc inside the rootfs.
	chroot "$R" /bin/busybox true 2>/dev/null || bail "$bb does not run alone in a rootfs; need a static busybox"
fi
[ -d "$R/tmp" ] || bail "rootfs $R has no /tmp"
printf 'echo smoke\n' >"$R/tmp/$mark" && chmod 644 "$R/tmp/$mark" || bail "cannot write to $R/tmp"

# Run pocket; leaves $out (stdout), $rc and stderr in $T/err.
pk() {
	out=$("$POCKET" "$@" 2>"$T/err")
	rc=$?
}

# is DESCRIPTION GOT WANT
is() {
	n=$((n + 1))
	if [ "$2" = "$3" ]; then
		echo "ok $n - $1"
		return
	fi
	failed=$((failed + 1))
	echo "not ok $n - $1"
	{
		echo "got:"; printf '%s\n' "$2"
		echo "want:"; printf '%s\n' "$3"
		echo "last pocket stderr:"; cat "$T/err"
	} | sed 's/^/#   /'
}

# Keep stderr of a failing run so the message format can be checked later.
keep_err() { cp "$T/err" "$T/err.$1"; }

mounts_before=$(wc -l </proc/self/mountinfo)
host_name=$(cat /proc/sys/kernel/hostname)

pk --version
case $out in "pocket version "[0-9]*) v=yes ;; *) v=no ;; esac
is "version prints a version" "$rc $v" "0 yes"

pk run --rootfs "$R" sh -c 'echo $$'
is "the command is PID 1" "$rc $out" "0 1"

pk run -h box --rootfs "$R" hostname
is "-h sets the hostname inside" "$rc $out" "0 box"
is "the host's hostname is unchanged" "$(cat /proc/sys/kernel/hostname)" "$host_name"

# ps as PID 1 must see itself alone: any host process would add a line.
pk run --rootfs "$R" ps -o pid
is "ps inside sees only the container's processes" "$rc $(echo $out)" "0 PID 1"

pk run --rootfs "$R" sh -c 'exit 7'
is "the command's exit status passes through" "$rc" 7

pk run --rootfs "$R" pocket-smoke-no-such-command
keep_err 127
is "a missing command exits 127" "$rc" 127

pk run --rootfs "$R" "/tmp/$mark"
keep_err 126
is "a non-executable file exits 126" "$rc" 126

pk run --rootfs "$R" --pocket-smoke-bogus true
keep_err flag
is "a bad flag exits 125" "$rc" 125

pk run --rootfs "$T/no-such-rootfs" true
keep_err rootfs
is "a missing rootfs exits 125" "$rc" 125

msgs=""
for e in flag rootfs 127 126; do
	# exactly one line, and that line is "pocket: ..."
	msgs="$msgs $e:$(grep -c '' "$T/err.$e")$(grep -c '^pocket: ' "$T/err.$e")"
done
cat "$T"/err.* >"$T/err"
is "errors are one line starting with 'pocket: '" "$msgs" " flag:11 rootfs:11 127:11 126:11"

pk run --rootfs "$R" printf '%s|' 'a b' '' 'x"y'
is "argv arrives intact" "$rc $out" '0 a b||x"y|'

export SMOKE_FROM_HOST=hosty
pk run -e K=V -e SMOKE_FROM_HOST -w /tmp --rootfs "$R" sh -c 'echo "$K $SMOKE_FROM_HOST"; pwd'
is "-e and -w are visible inside" "$rc $out" "0 V hosty
/tmp"

out=$(echo hi | "$POCKET" run -i --rootfs "$R" cat 2>"$T/err")
is "-i passes stdin through" "$?:$out" "0:hi"

out=$(echo hi | "$POCKET" run --rootfs "$R" cat 2>"$T/err")
is "without -i stdin is empty" "$?:$out" "0:"

# Like docker, -t makes a terminal even when pocket's stdin is not one; it
# must be a /dev/pts the container can see (ttyname fails otherwise).
pk run -t --rootfs "$R" tty
out=$(printf '%s' "$out" | tr -d '\r')
case $out in /dev/pts/[0-9]*) out=/dev/pts/N ;; esac
is "-t: the command's stdin is a terminal in its /dev/pts" "$rc $out" "0 /dev/pts/N"

# Extra host fds must not leak in. "; exit 0" stops sh from exec'ing ls,
# whose own directory fd would show up otherwise.
pk run --rootfs "$R" sh -c 'ls /proc/$$/fd; exit 0' 7</dev/null 9>"$T/fd9"
is "only fds 0 1 2 are open inside" "$rc $(echo $out)" "0 0 1 2"

pk run --read-only --rootfs "$R" touch "/$mark"
[ -e "$R/$mark" ] && where=host || where=nowhere
ro=$(grep -c 'Read-only file system' "$T/err")
is "--read-only: writing / fails" "$([ "$rc" != 0 ] && echo failed) $ro $where" "failed 1 nowhere"

pk run --no-pivot --rootfs "$R" sh -c 'echo $$; cat /tmp/'"$mark"
is "--no-pivot runs in the rootfs as PID 1" "$rc $(echo $out)" "0 1 echo smoke"

pk run --init --rootfs "$R" sh -c 'echo $$; tr "\0" " " </proc/1/cmdline'
pid=$(printf '%s\n' "$out" | sed -n 1p)
# PID 1 shows as docker's init does: `pocket-init -- CMD`.
case $(printf '%s\n' "$out" | sed -n 2p) in "pocket-init -- sh -c echo"*) one=pocket ;; *) one=other ;; esac
is "--init: pocket is PID 1, the command its child" "$rc $one $([ "$pid" != 1 ] && echo child)" "0 pocket child"

pk run --init --rootfs "$R" sh -c 'kill -9 $$'
is "--init: killed by SIGKILL exits 137" "$rc" 137

# Without --init a PID 1 shell ignores SIGTERM; with it, the init forwards it.
"$POCKET" run --init --rootfs "$R" sh -c 'echo ready; exec sleep 30' >"$T/out" 2>"$T/err" &
bg=$!
i=0
while ! grep -q ready "$T/out" && [ $i -lt 100 ]; do
	sleep 0.1 2>/dev/null || sleep 1
	i=$((i + 1))
done
kill -TERM $bg 2>/dev/null
wait $bg
is "--init: SIGTERM to pocket is forwarded (exit 143)" "$?" 143
bg=""

# Interface names: /proc/net/dev lines after the two header lines.
ifaces() { sed '1,2d; s/:.*//; s/ //g' | tr '\n' ' '; }

pk run --net none --rootfs "$R" cat /proc/net/dev
is "--net none has only lo" "$rc $(printf '%s\n' "$out" | ifaces)" "0 lo "

pk run --net none --rootfs "$R" cat /sys/class/net/lo/flags
# Guard the arithmetic: a non-number would abort the whole script.
case $out in 0x | 0x*[!0-9a-fA-F]*) up="?" ;; 0x*) up=$((out & 1)) ;; *) up="?" ;; esac
is "--net none: lo is up" "$rc $up" "0 1"

pk run --net host --rootfs "$R" cat /proc/net/dev
is "--net host sees the host's interfaces" "$rc $(printf '%s\n' "$out" | ifaces)" "0 $(ifaces </proc/net/dev)"

# Images: the rootfs as a tarball, imported, run on overlayfs.
tar -C "$R" -cf "$T/rootfs.tar" . 2>"$T/err"
pk import "$T/rootfs.tar" smoke:1
case $out in sha256:????????????????????????????????????????????????????????????????) imp=yes ;; *) imp=no ;; esac
is "import makes an image and prints its id" "$rc $imp" "0 yes"

pk run --rm smoke:1 sh -c "echo changed >/tmp/$mark; cat /tmp/$mark"
is "an image container writes its own copy, never the image's" "$rc $out $(cat "$R/tmp/$mark")" "0 changed echo smoke"

pk run --rm smoke:1 cat "/tmp/$mark"
is "the next container starts from the image again" "$rc $out" "0 echo smoke"

mkdir "$T/vol"
pk run --rm -v "$T/vol:/data" -v "$T/vol:/ro:ro" smoke:1 sh -c 'echo v >/data/f; echo x 2>/dev/null >/ro/g || echo refused; cat /ro/f'
is "-v: writes reach the host, :ro is read-only" "$rc $(echo $out) $(cat "$T/vol/f") $(ls "$T/vol")" "0 refused v v f"

pk rmi smoke:1
pk images -q
is "rmi removes the image" "$rc $out" "0 "

is "no mounts leaked onto the host" "$(wc -l </proc/self/mountinfo)" "$mounts_before"

echo "1..$n"
[ $failed = 0 ] || echo "# $failed of $n tests failed"
[ $failed = 0 ]
