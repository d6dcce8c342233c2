#!/bin/sh
# /init of the test VM built by scripts/initramfs-test.sh (busybox sh).
#
# / is deliberately left as the kernel's initramfs rootfs: no switch_root.
# That is the point of the test: on rootfs pivot_root(2) fails with EINVAL,
# so every `pocket run` below must fall back to MS_MOVE + chroot by itself.
#
# Output is TAP on the serial console between POCKET-VM-BEGIN and
# POCKET-VM-DONE rc=N, which the host script parses.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
export HOME=/ TERM=dumb

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
# A pure cgroup v2 host, as many minimal VMs are: nobody has enabled any
# controller for child groups; pocket must do it on its way down.
mkdir -p /sys/fs/cgroup
mount -t cgroup2 cgroup2 /sys/fs/cgroup
# overlayfs is a module in Debian's cloud kernel: image containers need it.
[ ! -f /lib/overlay.ko ] || insmod /lib/overlay.ko
# The kernel may have started us without stdio if the archive had no
# /dev/console; re-open it now that devtmpfs provides one.
exec </dev/console >/dev/console 2>&1

P=/pocket
R=/rootfs
# Generous: a check that hangs must not eat the host's whole VM timeout,
# or the report (and the sentinel) would be lost.
T=30
n=0
fails=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() {
  n=$((n + 1)); fails=$((fails + 1))
  echo "not ok $n - $1"
  [ -z "${2:-}" ] || printf '%s\n' "$2" | sed 's/^/#   /'
}
# expect DESC WANT_OUTPUT WANT_RC CMD...: stdout+stderr must equal WANT_OUTPUT
# exactly (so a warning from pocket is a failure too) and the status WANT_RC.
expect() {
  desc=$1 want=$2 wantrc=$3
  shift 3
  got=$(timeout $T "$@" 2>&1) && rc=0 || rc=$?
  if [ "$got" = "$want" ] && [ "$rc" = "$wantrc" ]; then
    ok "$desc"
  else
    notok "$desc" "command: $*
expected: rc=$wantrc output='$want'
got:      rc=$rc output='$got'"
  fi
}

# Own line: the firmware may not have ended its last one.
echo
echo POCKET-VM-BEGIN
echo "# kernel $(uname -r), $($P --version 2>&1 | head -n 1)"

# Everything below is meaningless unless / really is rootfs.
roottype=$(awk '$2 == "/" { print $3; exit }' /proc/mounts)
if [ "$roottype" = rootfs ]; then
  ok "/ is the initramfs rootfs (pivot_root(2) would fail with EINVAL)"
else
  notok "/ is the initramfs rootfs (pivot_root(2) would fail with EINVAL)" "/ is '$roottype'"
fi
# Control: without pocket's fallback a plain pivot_root really fails here,
# so the runs below do exercise it (done in a throwaway mount namespace).
got=$(unshare -m sh -c 'mount --make-rprivate / && mount --bind /rootfs /rootfs &&
  cd /rootfs && pivot_root . .' 2>&1) && rc=0 || rc=$?
case "$rc:$got" in
  [1-9]*:*"Invalid argument"*) ok "control: plain pivot_root(2) fails with EINVAL here" ;;
  *) notok "control: plain pivot_root(2) fails with EINVAL here" "rc=$rc: $got" ;;
esac

# This kernel has no bridge (a module the initramfs does not carry): a
# container without --net falls back to none with one warning line; an
# explicit --net bridge fails in one line and leaves no container.
got=$(timeout $T $P run --rm --rootfs $R ls /sys/class/net 2>&1) && rc=0 || rc=$?
first=$(printf '%s\n' "$got" | head -n 1)
rest=$(printf '%s\n' "$got" | tail -n +2)
case "$rc:$first:$rest" in
  "0:pocket: WARNING: no bridge network here ("*"); running with --net none:lo")
    ok "no bridge in this kernel: the default falls back to none, one warning" ;;
  *) notok "no bridge in this kernel: the default falls back to none, one warning" "rc=$rc: $got" ;;
esac
got=$(timeout $T $P run --rm --net bridge --rootfs $R true 2>&1) && rc=0 || rc=$?
case "$rc:$got" in
  0:*) notok "an explicit --net bridge fails without a bridge" "rc=$rc: $got" ;;
  *:pocket:*) [ "$(printf '%s\n' "$got" | wc -l)" = 1 ] && [ -z "$($P ps -aq)" ] &&
    ok "an explicit --net bridge fails without a bridge" ||
    notok "an explicit --net bridge fails without a bridge" "rc=$rc: $got; ps: $($P ps -aq)" ;;
  *) notok "an explicit --net bridge fails without a bridge" "rc=$rc: $got" ;;
esac
# The rest: as a host with no bridge is set up (docker's "bridge": "none").
mkdir -p /etc/pocket
echo '{"bridge": "none"}' >/etc/pocket/config.json
mounts_before=$(cat /proc/self/mountinfo)

expect "run from an initramfs: automatic fallback, PID 1 in the container" \
  1 0 $P run --rootfs $R sh -c 'echo $$'
expect "run -h box: hostname is isolated" \
  box 0 $P run -h box --rootfs $R hostname
expect "host hostname unchanged by the container" \
  "$(hostname)" 0 hostname
expect "run --no-pivot: PID 1 in the container" \
  1 0 $P run --no-pivot --rootfs $R sh -c 'echo $$'
# The old root stays mounted under the container's /, so make sure none of
# the initramfs's own files are reachable by path.
expect "container cannot see the initramfs outside /rootfs" \
  hidden 0 $P run --rootfs $R sh -c \
  'if [ -e /pocket ] || [ -e /init ] || [ -e /rootfs ]; then ls -a /; else echo hidden; fi'
expect "ls /pocket inside the container fails" \
  1 0 $P run --rootfs $R sh -c 'ls /pocket >/dev/null 2>&1; echo $?'
# Unlike pivot_root, the fallback leaves the initramfs mounted under the
# container's /: the container must not be able to unmount its root and
# uncover it.
expect "umount / inside cannot uncover the initramfs" \
  hidden 0 $P run --rootfs $R sh -c \
  'umount -l / 2>/dev/null; umount / 2>/dev/null; [ -e /pocket ] && echo visible || echo hidden'
expect "--no-pivot: initramfs hidden as well" \
  hidden 0 $P run --no-pivot --rootfs $R sh -c \
  'if [ -e /pocket ] || [ -e /init ]; then ls -a /; else echo hidden; fi'
expect "exit status propagates (exit 7)" \
  "" 7 $P run --rootfs $R sh -c 'exit 7'
expect "--read-only after the MS_MOVE fallback" \
  ro 0 $P run --read-only --rootfs $R sh -c 'touch /x 2>/dev/null && echo rw || echo ro'
# Resource limits on a real cgroup v2 tree (the host's tests only have a
# fake one: its cgroup2 offers no controller pocket uses).
expect "v2: the container sees itself at / in its cgroup namespace" \
  "0::/" 0 $P run --rm -m 32m --rootfs $R cat /proc/self/cgroup
id=$(timeout $T $P run -d -m 48m --pids-limit 7 --cpus 0.5 -c 512 --rootfs $R sleep 30 2>&1)
g=/sys/fs/cgroup/pocket/$id
got="$(cat $g/memory.max $g/pids.max $g/cpu.max $g/cpu.weight 2>&1 | tr '\n' ' ')"
# cpu.weight: 1 + (512 - 2) * 9999 / 262142 = 20, as runc and crun convert.
want="50331648 7 50000 100000 20 "
if [ "$got" = "$want" ]; then ok "v2: limits written with v2 names and units"; else
  notok "v2: limits written with v2 names and units" "want '$want' got '$got' (id: $id)"; fi
sub=" $(cat /sys/fs/cgroup/cgroup.subtree_control) "
case "$sub" in *" memory "*) case "$sub" in *" pids "*) sub=ok ;; esac ;; esac
if [ "$sub" = ok ]; then ok "v2: controllers enabled on the way down"; else
  notok "v2: controllers enabled on the way down" "$(cat /sys/fs/cgroup/cgroup.subtree_control)"; fi
timeout $T $P rm -f "$id" >/dev/null 2>&1
if [ -n "$id" ] && [ ! -e "$g" ]; then ok "v2: rm -f removes the group"; else notok "v2: rm -f removes the group" "$g"; fi
# Limits this v2 host cannot enforce, as docker treats them: warned about
# and dropped (--oom-kill-disable: v2 has no switch), or refused
# (real-time: no RT_GROUP_SCHED on v2), leaving no group behind.
groups_before=$(ls /sys/fs/cgroup/pocket)
expect "v2: --oom-kill-disable is warned about and dropped, as docker" \
  "WARNING: Your kernel does not support OomKillDisable. OomKillDisable discarded.
ran" 0 $P run --rm -m 32m --oom-kill-disable --rootfs $R echo ran
expect "v2: --cpu-rt-runtime is refused (125), as docker" \
  "pocket: --cpu-rt-runtime: Your kernel does not support cgroup cpu real-time runtime" 125 \
  $P run --rm --cpu-rt-runtime 1000 --rootfs $R true
if [ "$(ls /sys/fs/cgroup/pocket)" = "$groups_before" ]; then ok "v2: warned and refused runs leave no group"; else
  notok "v2: warned and refused runs leave no group" "$(ls /sys/fs/cgroup/pocket)"; fi
# The devices cgroup on v2: no devices.allow there, a BPF program pocket
# builds and attaches to the container's group. Root inside may make any
# node (CAP_MKNOD, as docker) but open only the allowed ones: /dev/kmsg
# (c 1:11) is not, until a rule or --device says so. Opened write-only:
# that is the one open of /dev/kmsg the kernel allows without CAP_SYSLOG
# (dmesg_restrict), so an EPERM here is the devices cgroup's.
expect "v2 devices: a node made inside opens only if allowed (EPERM)" \
  "sh: can't create /dev/k: Operation not permitted
null" 0 $P run --rm --rootfs $R sh -c 'mknod /dev/k c 1 11 && { (exec 3>/dev/k); echo x >/dev/null && echo null; } 2>&1'
expect "v2 devices: --device-cgroup-rule 'c 1:11 w' allows it" \
  "w" 0 $P run --rm --device-cgroup-rule 'c 1:11 w' --rootfs $R \
  sh -c 'mknod /dev/k c 1 11 && (exec 3>/dev/k) 2>&1 && echo w'
expect "v2 devices: --device-cgroup-rule 'c 1:11 r' does not allow writing" \
  "sh: can't create /dev/k: Operation not permitted" 0 $P run --rm --device-cgroup-rule 'c 1:11 r' --rootfs $R \
  sh -c 'mknod /dev/k c 1 11 && { (exec 3>/dev/k) && echo w; } 2>&1; true'
expect "v2 devices: --device /dev/kmsg makes the node and allows it" \
  "character special file 1:b
w" 0 $P run --rm --device /dev/kmsg --rootfs $R sh -c 'stat -c "%F %t:%T" /dev/kmsg && (exec 3>/dev/kmsg) && echo w'
id=$(timeout $T $P run -d --rootfs $R sleep 30 2>&1)
expect "v2 devices: exec joins the group, and its program" \
  "sh: can't create /dev/k: Operation not permitted" 0 $P exec "$id" sh -c 'mknod /dev/k c 1 11 && (exec 3>/dev/k) 2>&1; true'
timeout $T $P rm -f "$id" >/dev/null 2>&1
if [ -n "$id" ] && [ ! -e "/sys/fs/cgroup/pocket/$id" ]; then ok "v2 devices: the group (and its program) goes with rm -f"; else
  notok "v2 devices: the group (and its program) goes with rm -f" "/sys/fs/cgroup/pocket/$id"; fi
# --blkio-weight 300: iocost's io.weight (1..10000 scale: 1 + 290 * 9999 / 990
# = 2930) without BFQ; BFQ's own io.bfq.weight (as is) once bfq.ko is in.
weight() {
  id=$(timeout $T $P run -d --blkio-weight 300 --rootfs $R sleep 30 2>&1)
  got=$(cat /sys/fs/cgroup/pocket/$id/$1 2>&1 | tr '\n' ' ')
  timeout $T $P rm -f "$id" >/dev/null 2>&1
  if [ "$got" = "$2 " ]; then ok "v2: --blkio-weight 300 in $1 ($3)"; else
    notok "v2: --blkio-weight 300 in $1 ($3)" "want '$2 ' got '$got' (id: $id)"; fi
}
weight io.weight "default 2930" "iocost, no BFQ"
if [ -f /lib/bfq.ko ] && insmod /lib/bfq.ko; then
  weight io.bfq.weight "default 300" "BFQ loaded"
else
  echo "SKIP blkio weight with BFQ: no bfq.ko for this kernel"
fi
# pause/unpause on v2: cgroup.freeze, and the kernel's "frozen 1" in
# cgroup.events.
id=$(timeout $T $P run -d --rootfs $R sleep 30 2>&1)
timeout $T $P pause "$id" >/dev/null 2>&1
a=$(grep frozen /sys/fs/cgroup/pocket/$id/cgroup.events 2>&1)
timeout $T $P unpause "$id" >/dev/null 2>&1
b=$(grep frozen /sys/fs/cgroup/pocket/$id/cgroup.events 2>&1)
if [ "$a" = "frozen 1" ] && [ "$b" = "frozen 0" ]; then ok "v2: pause and unpause through cgroup.freeze"; else
  notok "v2: pause and unpause through cgroup.freeze" "paused: '$a' unpaused: '$b' (id: $id)"; fi
timeout $T $P pause "$id" >/dev/null 2>&1
timeout $T $P rm -f "$id" >/dev/null 2>&1
if [ ! -e /sys/fs/cgroup/pocket/$id ]; then ok "v2: rm -f of a paused container"; else
  notok "v2: rm -f of a paused container" "group left: $id"; fi
expect "v2: over the memory limit is OOM-killed (137)" \
  "" 137 $P run --rm -m 32m --rootfs $R sh -c 'dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null'
# User namespaces on a 6.1 kernel: --rootfs works; an image needs overlayfs
# layers by fd (6.13+), and says so.
expect "userns: root inside is 200000 outside" "0 200000 65536" 0 \
  $P run --rm --uidmap 0:200000:65536 --rootfs $R sh -c 'cat /proc/self/uid_map | tr -s " " | sed "s/^ //"'

# The sealed view on a kernel before 6.15, which takes no detached layer:
# pocket installed apart from its state re-executes from an overlayfs view
# over the run directory's empty layer, not from a memfd copy of itself
# (/pocket, in /, holds everything: that one gets the copy).
mkdir -p /usr/local/bin && cp /pocket /usr/local/bin/pocket
id=$(timeout $T /usr/local/bin/pocket run -d --rootfs $R sleep 30 2>&1)
init=$(timeout $T $P inspect -f '{{.State.Pid}}' "$id" 2>&1)
mon=$(awk '{print $4}' /proc/$init/stat 2>/dev/null)
exe=$(readlink /proc/$mon/exe 2>&1)
timeout $T $P rm -f "$id" >/dev/null 2>&1
# Its second layer: the run directory's empty one before 6.15, a
# detached tmpfs from 6.15 on (POCKET_VM_KERNEL may be newer).
case $(uname -r) in
  6.1[5-9]* | 6.[2-9][0-9]* | [7-9].*) seal_ok=true ;;
  *) seal_ok=false; [ -d /run/pocket/seal ] && seal_ok=true ;;
esac
if [ "$exe" = /pocket ] && $seal_ok; then
  ok "sealed view: pocket in /usr/local/bin runs from its overlayfs view"
else
  notok "sealed view: pocket in /usr/local/bin runs from its overlayfs view" \
    "monitor $mon exe: '$exe' (id $id, init $init); run dir: $(ls /run/pocket 2>&1 | tr '\n' ' ')"
fi
rm -f /usr/local/bin/pocket

# Rootless on a delegated cgroup v2 subtree, laid out as systemd's
# user@.service has it: the user owns the group and its control files,
# its own processes sit in a child (v2's no-internal-process rule), and
# the root group passes memory and pids down. A plain user, u (1000).
mkdir -p /etc /home/u
[ -f /etc/passwd ] || echo "root:x:0:0::/root:/bin/sh" >/etc/passwd
echo "u:x:1000:1000::/home/u:/bin/sh" >>/etc/passwd
chown 1000:1000 /home/u
cg=/sys/fs/cgroup
echo "+memory +pids" >$cg/cgroup.subtree_control
mkdir -p $cg/user-1000/session $cg/plain
for f in "" /cgroup.procs /cgroup.subtree_control /cgroup.threads /session /session/cgroup.procs; do
  chown 1000:1000 "$cg/user-1000$f"
done
# as_u GROUP CMD: CMD as u by su, from a shell moved into GROUP first
# (a program, so that expect's timeout can run it).
cat >/bin/as_u <<'EOF'
#!/bin/sh
echo $$ >"$1/cgroup.procs" && exec su -s /bin/sh u -c "$2"
EOF
chmod 755 /bin/as_u
d=$cg/user-1000/pocket
id=$(timeout $T as_u $cg/user-1000/session "$P run -d -m 32m --pids-limit 20 --rootfs $R sleep 30" 2>&1)
got="$(cat $d/$id/memory.max $d/$id/pids.max 2>&1 | tr '\n' ' ')"
pid=$(timeout $T as_u $cg/user-1000/session "$P inspect -f '{{.State.Pid}}' $id" 2>&1)
if [ "$got" = "33554432 20 " ] && grep -qx "$pid" $d/$id/cgroup.procs 2>/dev/null; then
  ok "rootless: -m and --pids-limit in the user's delegated v2 group, the container in it"
else
  notok "rootless: -m and --pids-limit in the user's delegated v2 group, the container in it" \
    "id: $id limits: '$got' pid $pid in: '$(cat $d/$id/cgroup.procs 2>&1)'"
fi
# pause, stats and update work on the user's group as on root's.
timeout $T as_u $cg/user-1000/session "$P pause $id" >/dev/null 2>&1
a=$(grep frozen $d/$id/cgroup.events 2>&1)
timeout $T as_u $cg/user-1000/session "$P unpause $id" >/dev/null 2>&1
b=$(grep frozen $d/$id/cgroup.events 2>&1)
timeout $T as_u $cg/user-1000/session "$P update --pids-limit 30 $id" >/dev/null 2>&1
c=$(cat $d/$id/pids.max 2>&1)
s=$(timeout $T as_u $cg/user-1000/session "$P stats --no-stream $id" 2>&1 | awk 'NR == 2 { print $NF }')
if [ "$a" = "frozen 1" ] && [ "$b" = "frozen 0" ] && [ "$c" = 30 ] && [ "$s" = 1 ]; then
  ok "rootless: pause, unpause, update and stats on the user's group"
else
  notok "rootless: pause, unpause, update and stats on the user's group" \
    "paused: '$a' unpaused: '$b' pids.max: '$c' stats PIDs: '$s'"
fi
timeout $T as_u $cg/user-1000/session "$P rm -f $id" >/dev/null 2>&1
if [ -n "$id" ] && [ ! -e "$d/$id" ]; then ok "rootless: rm -f removes the user's group"; else
  notok "rootless: rm -f removes the user's group" "$(ls $d 2>&1)"; fi
expect "rootless: over the memory limit in a delegated group is OOM-killed (137)" "" 137 \
  as_u $cg/user-1000/session "$P run --rm -m 32m --rootfs $R sh -c 'dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null'"
# Outside the delegated group: limits are refused by name, a run without
# them works.
expect "rootless: limits without a delegated group are refused" \
  "pocket: resource limits: need root or a delegated cgroup: no cgroup v2 subtree is delegated to you (your own group is root's; under systemd run pocket in \`systemd-run --user --scope\`) (run without -m, --cpus, --pids-limit...)" 125 \
  as_u $cg/plain "$P run --rm -m 32m --rootfs $R true"
expect "rootless: a run without limits works outside it" "0" 0 \
  as_u $cg/plain "$P run --rm --rootfs $R id -u"
rmdir $d $cg/user-1000/session $cg/user-1000 2>/dev/null || true

# The soak's short form (tests/soak.rs has the long one): mixed runs, then
# the VM must hold exactly the groups, records, mounts and processes it
# held before.
groups_before=$(ls /sys/fs/cgroup/pocket 2>/dev/null | grep -c . || true)
records_before=$($P ps -aq 2>&1)
# Live processes but kernel threads (kworkers come and go) and the
# measuring tools (busybox timeout's watcher lingers up to a second).
live() {
  cat /proc/[0-9]*/stat 2>/dev/null | awk '$3 != "Z" && $1 != 2 && $4 != 2 &&
    $2 !~ /^\((timeout|cat|awk|grep|wc)\)$/ { print $1, $2 }'
}
live >/tmp/procs.before
procs_before=$(wc -l </tmp/procs.before)
soakfail=""
i=0
while [ $i -lt 40 ]; do
  i=$((i + 1))
  case $((i % 4)) in
    0) out=$(timeout $T $P run --rm -m 32m --pids-limit 20 --rootfs $R true 2>&1) ;;
    1) id=$(timeout $T $P run -d --rootfs $R sleep 30 2>&1) &&
         out=$(timeout $T $P exec "$id" true 2>&1) &&
         out=$(timeout $T $P rm -f "$id" 2>&1 >/dev/null) ;;
    2) id=$(timeout $T $P run -d --rm --rootfs $R true 2>&1) && out="" ;;
    3) id=$(timeout $T $P run -d --rootfs $R sleep 30 2>&1) &&
         out=$(timeout $T $P stop -t 0 "$id" 2>&1 >/dev/null) &&
         out=$(timeout $T $P rm "$id" 2>&1 >/dev/null) ;;
  esac || soakfail="$soakfail run $i: $out;"
done
# The --rm -d ones end on their own: give their monitors a moment.
j=0
while [ "$($P ps -aq 2>/dev/null)" != "$records_before" ] && [ $j -lt 100 ]; do
  sleep 0.1; j=$((j + 1))
done
left=""
[ "$($P ps -aq 2>&1)" = "$records_before" ] || left=$($P ps -a 2>&1 | tail -n +2)
groups_after=$(ls /sys/fs/cgroup/pocket 2>/dev/null | grep -c . || true)
# (An exited monitor is reparented to this script, PID 1, a shell that
# reaps only its own jobs: such a zombie is the VM's init's, not a leak.)
zombies=$(cat /proc/[0-9]*/stat 2>/dev/null | awk '$3 == "Z" && $4 != 1' | wc -l)
live >/tmp/procs.after
procs_after=$(wc -l </tmp/procs.after)
new_procs=$(grep -vxF -f /tmp/procs.before /tmp/procs.after | tr '\n' ' ')
if [ -z "$soakfail" ] && [ -z "$left" ] && [ "$groups_after" = "$groups_before" ] &&
  [ "$zombies" = 0 ] && [ "$procs_after" -le "$procs_before" ]; then
  ok "soak: 40 mixed runs (-m, --pids-limit, -d, exec, stop, rm -f, --rm) leave nothing"
else
  notok "soak: 40 mixed runs (-m, --pids-limit, -d, exec, stop, rm -f, --rm) leave nothing" \
    "failures:$soakfail left: '$left' groups $groups_before->$groups_after zombies $zombies procs $procs_before->$procs_after (new: $new_procs)"
fi

# The fallback moves a mount onto / inside the container's mount namespace;
# the initramfs itself must come out of it untouched.
if [ -x /pocket ] && [ -x /init ] && [ "$(cat /proc/self/mountinfo)" = "$mounts_before" ]; then
  ok "initramfs root and mounts untouched after the runs"
else
  notok "initramfs root and mounts untouched after the runs" "$(cat /proc/self/mountinfo)"
fi
echo "1..$n"
[ "$fails" = 0 ] || echo "# $fails of $n built-in checks failed"

rc=$fails
if [ -f /smoke.sh ]; then
  echo "# smoke.sh /pocket /rootfs"
  # smoke.sh has its own plan; forward it as is.
  smokerc=0
  timeout 90 sh /smoke.sh $P $R 2>&1 || smokerc=$?
  echo "# smoke.sh exit status $smokerc"
  [ "$smokerc" = 0 ] || rc=$((rc + 1))
else
  echo "# no smoke.sh in the initramfs, skipped"
fi

echo "POCKET-VM-DONE rc=$rc"
sync
poweroff -f
# Not reached unless poweroff failed; sysrq then, and failing that the
# kernel panics when init exits and -no-reboot ends qemu.
echo o >/proc/sysrq-trigger
sleep 5
