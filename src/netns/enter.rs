//! Entering network namespaces: the only place rnetstat calls setns(2).
//!
//! A netlink socket belongs to the network namespace of the thread that creates it, and
//! /proc/thread-self/net shows that thread's namespace, so a namespace's tables are read by a
//! thread that has entered it. [`run_each`] spawns a few worker threads from the caller's thread
//! (which stays in its own namespace throughout); each worker enters one namespace, does the
//! work, returns to the namespace it started in, and takes the next. A worker that cannot
//! return ends at once, so no thread outlives its work inside a foreign namespace, and the work
//! itself must not spawn threads (they would start inside the namespace).

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Why a namespace's work did not run.
#[derive(Debug)]
pub enum EnterError {
    /// setns(2) refused (EPERM without CAP_SYS_ADMIN) or the namespace is unusable.
    Setns(io::Error),
    /// The worker thread could not be had, or died.
    Thread(io::Error),
}

impl std::fmt::Display for EnterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EnterError::Setns(_) => f.write_str("cannot enter the network namespace"),
            EnterError::Thread(_) => f.write_str("no thread to enter the network namespace with"),
        }
    }
}

impl std::error::Error for EnterError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            EnterError::Setns(e) | EnterError::Thread(e) => Some(e),
        }
    }
}

fn setns(fd: &OwnedFd) -> io::Result<()> {
    // SAFETY: setns only reads the descriptor number; a bad one is an error, not UB.
    let r = unsafe { libc::setns(fd.as_raw_fd(), libc::CLONE_NEWNET) };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The calling thread's own network namespace, to come back to.
fn home() -> io::Result<OwnedFd> {
    Ok(std::fs::File::open("/proc/thread-self/ns/net")?.into())
}

/// Runs `work(i)` for every `i` in `0..namespaces.len()` inside namespace `namespaces[i]` (or
/// in the caller's own when it is `None`), on at most `threads` worker threads, and returns the
/// results in order. The calling thread enters nothing.
pub fn run_each<T, F>(
    namespaces: &[Option<&OwnedFd>],
    threads: usize,
    work: F,
) -> Vec<Result<T, EnterError>>
where
    T: Send,
    F: Fn(usize) -> T + Sync,
{
    let n = namespaces.len();
    let slots: Mutex<Vec<Option<Result<T, EnterError>>>> =
        Mutex::new((0..n).map(|_| None).collect());
    let next = AtomicUsize::new(0);
    let put = |i: usize, r: Result<T, EnterError>| {
        if let Ok(mut s) = slots.lock() {
            s[i] = Some(r);
        }
    };
    let worker = || {
        let home = match home() {
            Ok(h) => h,
            Err(e) => {
                // Without a way back, this thread enters nothing; its share goes to the others
                // or is reported.
                return Err(e);
            }
        };
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(target) = namespaces.get(i) else {
                return Ok(());
            };
            let Some(fd) = target else {
                put(i, Ok(work(i)));
                continue;
            };
            if let Err(e) = setns(fd) {
                put(i, Err(EnterError::Setns(e)));
                continue;
            }
            let r = work(i);
            put(i, Ok(r));
            // Stuck in a foreign namespace: end this thread now.
            setns(&home)?;
        }
    };
    let threads = threads.clamp(1, n.max(1));
    let failed = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| std::thread::Builder::new().spawn_scoped(s, worker))
            .collect();
        let mut failed = None;
        for h in handles {
            match h {
                Ok(h) => match h.join() {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => failed = Some(e),
                    Err(_) => failed = Some(io::Error::other("a namespace worker panicked")),
                },
                Err(e) => failed = Some(e),
            }
        }
        failed
    });
    let slots = slots.into_inner().unwrap_or_else(|p| p.into_inner());
    let mut failed = failed;
    slots
        .into_iter()
        .map(|r| {
            r.unwrap_or_else(|| {
                let e = failed
                    .take()
                    .unwrap_or_else(|| io::Error::other("no worker reached this namespace"));
                Err(EnterError::Thread(io::Error::new(e.kind(), e.to_string())))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_in_our_own_namespace_runs_without_setns_and_keeps_order() {
        let none: Vec<Option<&OwnedFd>> = vec![None; 9];
        let got = run_each(&none, 3, |i| i * 2);
        let got: Vec<usize> = got.into_iter().map(|r| r.expect("ran")).collect();
        assert_eq!(got, (0..9).map(|i| i * 2).collect::<Vec<_>>());
        assert!(run_each(&[], 4, |i| i).is_empty());
    }

    #[test]
    fn entering_our_own_namespace_by_file_comes_back_home() {
        let mine: OwnedFd = std::fs::File::open("/proc/self/ns/net").expect("ns").into();
        let before = std::fs::read_link("/proc/thread-self/ns/net").expect("link");
        let got = run_each(&[Some(&mine), Some(&mine)], 1, |_| {
            std::fs::read_link("/proc/thread-self/ns/net").expect("link")
        });
        for r in got {
            match r {
                Ok(link) => assert_eq!(link, before),
                // Without CAP_SYS_ADMIN even our own namespace cannot be entered by file.
                Err(EnterError::Setns(e)) => {
                    assert_eq!(e.raw_os_error(), Some(libc::EPERM), "{e}")
                }
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(
            std::fs::read_link("/proc/thread-self/ns/net").expect("link"),
            before
        );
    }
}
