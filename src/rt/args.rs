//! argv and environ as byte slices, borrowed from the process's memory.

use alloc::vec::Vec;
use core::ffi::{CStr, c_char, c_int};

/// The command line and environment of this process.
pub struct Args {
    pub argv: Vec<&'static [u8]>,
    pub env: Vec<&'static [u8]>,
    /// The kernel's own tables, for re-executing with the same arguments.
    pub raw_argv: *const *const c_char,
    pub raw_envp: *const *const c_char,
}

impl Args {
    /// # Safety
    /// `argv` must hold `argc` valid C strings and `envp` must be a
    /// NULL-terminated array of C strings, both living for the whole process.
    pub unsafe fn from_raw(
        argc: c_int,
        argv: *const *const c_char,
        envp: *const *const c_char,
    ) -> Args {
        let mut a = Vec::with_capacity(argc as usize);
        for i in 0..argc as usize {
            // SAFETY: guaranteed by the caller.
            a.push(unsafe { CStr::from_ptr(*argv.add(i)) }.to_bytes());
        }
        // The area /proc/PID/cmdline reads, where the kernel put the
        // strings end to end (each checked to follow the one before).
        let contiguous = a
            .windows(2)
            .all(|w| w[0].as_ptr() as usize + w[0].len() + 1 == w[1].as_ptr() as usize);
        if let (Some(first), Some(last), true) = (a.first(), a.last(), contiguous) {
            let end = last.as_ptr() as usize + last.len() + 1;
            crate::sys::proc::note_cmdline(first.as_ptr(), end - first.as_ptr() as usize);
        }
        let mut e = Vec::new();
        let mut p = envp;
        // SAFETY: envp is NULL-terminated per the caller's contract.
        unsafe {
            while !p.is_null() && !(*p).is_null() {
                e.push(CStr::from_ptr(*p).to_bytes());
                p = p.add(1);
            }
        }
        Args {
            argv: a,
            env: e,
            raw_argv: argv,
            raw_envp: envp,
        }
    }

    /// Value of environment variable `key` in this process.
    pub fn getenv(&self, key: &[u8]) -> Option<&'static [u8]> {
        lookup(&self.env, key)
    }
}

/// Look `key` up in a list of `KEY=VALUE` entries.
pub fn lookup<'a>(env: &[&'a [u8]], key: &[u8]) -> Option<&'a [u8]> {
    env.iter().find_map(|kv| {
        if kv.len() > key.len() && kv.starts_with(key) && kv[key.len()] == b'=' {
            Some(&kv[key.len() + 1..])
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::lookup;

    #[test]
    fn lookup_matches_whole_key() {
        let env: Vec<&[u8]> = vec![b"PATHX=1", b"PATH=/bin", b"EMPTY="];
        assert_eq!(lookup(&env, b"PATH"), Some(&b"/bin"[..]));
        assert_eq!(lookup(&env, b"EMPTY"), Some(&b""[..]));
        assert_eq!(lookup(&env, b"PAT"), None);
    }
}
