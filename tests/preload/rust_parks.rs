// SPDX-License-Identifier: MIT
//! A foreign program for the preload shim: Rust, std only, parking the
//! ways a Tokio program does.  Workers named as Tokio names them
//! (`tokio-runtime-w`) sleep on a Mutex + Condvar job queue (std parks
//! those through `syscall(SYS_futex, ...)`); an "I/O driver" thread waits
//! in `epoll_wait` on an eventfd the workers write (as mio would); the
//! main thread sleeps in `thread::park` until the last job is done.
//!
//! Prints one line that depends only on the work done, so a run under
//! the shim (with or without injected faults) must print the same as a
//! plain run.  Spurious wakeups and EINTR are handled as std and mio
//! handle them: Condvar and park waits loop on their condition, EINTR is
//! retried.  Built by preload/preload.mk with the machine's rustc; uses
//! nothing newer than Rust 1.63 (Debian 12's).

use std::collections::VecDeque;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;

const WORKERS: usize = 4;
const JOBS: u64 = 20_000;
const IO_EVERY: u64 = 1_000; // a worker writes the eventfd every this many jobs

// struct epoll_event is packed on x86-64.
#[repr(C, packed)]
#[derive(Clone, Copy)]
struct EpollEvent {
    events: u32,
    data: u64,
}

extern "C" {
    fn epoll_create1(flags: i32) -> i32;
    fn epoll_ctl(epfd: i32, op: i32, fd: i32, event: *mut EpollEvent) -> i32;
    fn epoll_wait(epfd: i32, events: *mut EpollEvent, maxevents: i32, timeout: i32) -> i32;
    fn eventfd(initval: u32, flags: i32) -> i32;
    fn read(fd: i32, buf: *mut u8, count: usize) -> isize;
    fn write(fd: i32, buf: *const u8, count: usize) -> isize;
    fn close(fd: i32) -> i32;
}

const EPOLL_CLOEXEC: i32 = 0o2000000;
const EFD_CLOEXEC: i32 = 0o2000000;
const EFD_NONBLOCK: i32 = 0o4000;
const EPOLL_CTL_ADD: i32 = 1;
const EPOLLIN: u32 = 1;

struct Queue {
    state: Mutex<(VecDeque<u64>, bool)>, // jobs, shutting down
    ready: Condvar,
}

struct Shared {
    queue: Queue,
    sum: AtomicU64,
    done: AtomicU64,
    all_done: AtomicBool,
    main: thread::Thread,
    efd: i32,
}

fn worker(s: Arc<Shared>) {
    loop {
        let job = {
            let mut st = s.queue.state.lock().unwrap();
            loop {
                if let Some(j) = st.0.pop_front() {
                    break Some(j);
                }
                if st.1 {
                    break None;
                }
                st = s.queue.ready.wait(st).unwrap();
            }
        };
        let j = match job {
            Some(j) => j,
            None => return,
        };
        s.sum.fetch_add(j * j % 1_000_003, Ordering::Relaxed);
        let n = s.done.fetch_add(1, Ordering::AcqRel) + 1;
        if n % IO_EVERY == 0 {
            let one: u64 = 1;
            let w = unsafe { write(s.efd, &one as *const u64 as *const u8, 8) };
            assert_eq!(w, 8, "eventfd write");
        }
        if n == JOBS {
            s.all_done.store(true, Ordering::Release);
            s.main.unpark();
        }
    }
}

// Waits in epoll_wait until it has seen every eventfd write; returns how
// many wakeups it took (not printed: that depends on timing).
fn driver(efd: i32, want: u64) -> u64 {
    let ep = unsafe { epoll_create1(EPOLL_CLOEXEC) };
    assert!(ep >= 0, "epoll_create1");
    let mut ev = EpollEvent { events: EPOLLIN, data: 42 };
    assert_eq!(unsafe { epoll_ctl(ep, EPOLL_CTL_ADD, efd, &mut ev) }, 0);
    let mut evs = [EpollEvent { events: 0, data: 0 }; 8];
    let (mut seen, mut wakeups) = (0u64, 0u64);
    while seen < want {
        let n = unsafe { epoll_wait(ep, evs.as_mut_ptr(), evs.len() as i32, -1) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue; // as mio does
            }
            panic!("epoll_wait: {}", e);
        }
        wakeups += 1;
        for ev in &evs[..n as usize] {
            let data = ev.data;
            assert_eq!(data, 42);
            let mut v: u64 = 0;
            let r = unsafe { read(efd, &mut v as *mut u64 as *mut u8, 8) };
            if r == 8 {
                seen += v;
            }
        }
    }
    unsafe { close(ep) };
    wakeups
}

fn main() {
    let efd = unsafe { eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK) };
    assert!(efd >= 0, "eventfd");
    let s = Arc::new(Shared {
        queue: Queue { state: Mutex::new((VecDeque::new(), false)), ready: Condvar::new() },
        sum: AtomicU64::new(0),
        done: AtomicU64::new(0),
        all_done: AtomicBool::new(false),
        main: thread::current(),
        efd,
    });

    let want = JOBS / IO_EVERY;
    let io = thread::Builder::new()
        .name("io-driver".into())
        .spawn(move || driver(efd, want))
        .unwrap();
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let s = Arc::clone(&s);
            thread::Builder::new()
                .name("tokio-runtime-worker".into()) // truncated, as Tokio's is
                .spawn(move || worker(s))
                .unwrap()
        })
        .collect();

    // Jobs in small batches, one notify per job: workers keep going to
    // sleep and being woken.  Every 40 batches the producer waits for the
    // queue to drain, so the workers find it empty and wait on the
    // condvar however fast it produced: parks in every run (a sanitizer's
    // slowness once left only four).
    for batch in 0..JOBS / 50 {
        {
            let mut st = s.queue.state.lock().unwrap();
            for j in 0..50 {
                st.0.push_back(batch * 50 + j);
            }
        }
        for _ in 0..50 {
            s.queue.ready.notify_one();
        }
        if batch % 40 == 39 {
            while s.done.load(Ordering::Acquire) < (batch + 1) * 50 {
                thread::park_timeout(std::time::Duration::from_millis(1));
            }
        }
    }
    while !s.all_done.load(Ordering::Acquire) {
        thread::park(); // may return spuriously: the loop re-checks
    }
    let io_wakeups = io.join().unwrap();
    {
        let mut st = s.queue.state.lock().unwrap();
        st.1 = true;
    }
    s.queue.ready.notify_all();
    for w in workers {
        w.join().unwrap();
    }
    unsafe { close(efd) };
    assert!(io_wakeups >= 1 && io_wakeups <= want);
    println!(
        "rust-parks: jobs={} sum={} io_events={} workers={}",
        s.done.load(Ordering::Relaxed),
        s.sum.load(Ordering::Relaxed),
        want,
        WORKERS
    );
}
