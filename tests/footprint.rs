//! A detached container's monitor stays small: at most 256 KiB resident
//! (VmRSS, and Pss: its share of pages it maps with others), at rest
//! after the start and again after 10,000 log lines and 100 execs.
//!
//! Where the figure comes from (x86_64, 6.18): 64 KiB of relocated data
//! (the static PIE's RELRO, .data and .bss, copied on write at start and
//! never given back), ~48 KiB of heap (the Spec kept for restarts, the
//! store, the log writer, the attach server), ~48 KiB of stack (the
//! frames from main down to the loop) and a page of text: 164 KiB.
//! Without giving pages back it was 1,540 KiB (1,144 of them text: every
//! fault in the binary maps the 128 KiB around the page).

mod common;
use common::mem::{ppid, vm_kib};
use common::*;

/// A monitor's memory as /proc shows it: VmRSS (status) and Pss
/// (smaps_rollup), in KiB.
fn footprint(pid: i32) -> (u64, u64) {
    (vm_kib(pid, "VmRSS:"), vm_kib(pid, "Pss:"))
}

const BOUND_KIB: u64 = 256;

/// The monitor gives its pages back once quiet for a second: wait for it
/// to be within the bound, 10 s at most, and return what it holds.
fn at_rest(monitor: i32, when: &str) -> (u64, u64) {
    let mut last = (0, 0);
    for _ in 0..100 {
        std::thread::sleep(std::time::Duration::from_millis(100));
        last = footprint(monitor);
        assert!(
            last.0 > 0,
            "{when}: no memory read for the monitor {monitor}"
        );
        if last.0 <= BOUND_KIB && last.1 <= BOUND_KIB {
            return last;
        }
    }
    panic!(
        "{when}: the monitor holds VmRSS {} KiB, Pss {} KiB (bound {BOUND_KIB})",
        last.0, last.1
    );
}

#[test]
fn a_detached_monitor_stays_under_256_kib() {
    if !root() {
        return;
    }
    let r = Root::new("footprint");
    // The lines wait for the first figure: it is the start's alone.
    let script = "while [ ! -e /tmp/go ]; do sleep 0.05; done; \
         i=0; while [ $i -lt 10000 ]; do echo line $i; i=$((i+1)); done; \
         echo done; sleep 600";
    let id = r.run_d(&["sh", "-c", script]);
    let monitor = ppid(r.pid(&id));
    let start = at_rest(monitor, "after the start");
    let o = r.out(&["exec", &id, "touch", "/tmp/go"]);
    assert_eq!(o.status.code(), Some(0), "exec: {}", stderr(&o));
    wait_for(30, "10,000 lines logged", || {
        stdout(&r.out(&["logs", "--tail", "1", &id]))
            .contains("done")
            .then_some(())
    });
    for _ in 0..100 {
        let o = r.out(&["exec", &id, "true"]);
        assert_eq!(o.status.code(), Some(0), "exec: {}", stderr(&o));
    }
    let after = at_rest(monitor, "after 10,000 lines and 100 execs");
    eprintln!("monitor VmRSS, Pss (KiB): at start {start:?}, after lines and execs {after:?}");
    // Still a working monitor: the log whole, stop and removal as ever.
    assert_eq!(stdout(&r.out(&["logs", &id])).lines().count(), 10001);
    let o = r.out(&["rm", "-f", &id]);
    assert_eq!(o.status.code(), Some(0), "rm -f: {}", stderr(&o));
    wait_for(10, "the monitor to end", || {
        matches!(state(monitor), None | Some('Z')).then_some(())
    });
}
