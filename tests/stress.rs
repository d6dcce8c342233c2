//! Many runs in a row leave nothing behind: no mounts, no zombies, no
//! container processes.

mod common;
use common::*;

#[test]
fn two_hundred_runs_leave_no_mounts_and_no_zombies() {
    if !root() {
        return;
    }
    let before = host_mounts();
    let me = std::process::id() as i32;
    for i in 0..200 {
        // Alternate a few shapes of run: plain, --init, failing exec.
        let (args, want): (Vec<&str>, i32) = match i % 4 {
            0 => (vec!["true"], 0),
            1 => (vec!["--init", "sh", "-c", "sleep 0 & exit 3"], 3),
            2 => (vec!["no-such-command"], 127),
            _ => (vec!["--no-pivot", "sh", "-c", "exit 9"], 9),
        };
        let o = run(&args);
        assert_eq!(
            o.status.code(),
            Some(want),
            "run {i} {args:?}: {}",
            stderr(&o)
        );
    }
    assert_eq!(host_mounts(), before);
    let zombies: Vec<i32> = children(me)
        .into_iter()
        .filter(|&p| state(p) == Some('Z'))
        .collect();
    assert!(zombies.is_empty(), "zombies: {zombies:?}");
    assert!(
        procs_rooted_in(rootfs()).is_empty(),
        "container processes left: {:?}",
        procs_rooted_in(rootfs())
    );
}
