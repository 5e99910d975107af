//! tokio-lifo: the stuck-LIFO-task latency bubble (Tokio issue 4941) in
//! Tokio itself, and the controls that must not show it.
//!
//! Task B waits.  Once both workers are idle, task A starts on one of them,
//! makes B runnable — it wakes B (`--variant wake`, the default) or spawns
//! it (`--variant spawn`) — and then blocks its worker for `--block-ms`
//! without yielding, sleeping or (`--busy`) spinning.
//!
//! In a Tokio whose LIFO slot cannot be stolen (before PR 7431; Debian 12
//! ships 1.24), B goes into A's worker's LIFO slot, which wakes nobody: the
//! other worker stays parked and B runs only when A is done.  Wake-to-run
//! is about the block time.
//!
//! The controls, each of which lets B run at once:
//!   --control yield          A yields once after making B runnable (B,
//!                            in the slot, runs before A comes back);
//!   --control outside        B is woken by a thread outside the runtime
//!                            (the inject queue, which wakes a parked
//!                            worker) while A blocks;
//!   --control block-in-place A blocks inside `block_in_place`, which hands
//!                            its worker (and the slot) to another thread;
//!   --control no-lifo        the runtime is built with the LIFO slot
//!                            disabled (needs a build with
//!                            `--cfg tokio_unstable`; refused otherwise).
//!
//! `--yields N` measures instead what one task costs to yield N times (each
//! yield: a schedule and a poll), as one JSON line with ns_per_yield: what
//! recording adds per task poll (bench/tokio_cost.sh).
//!
//! Prints, per run, one line for people and one JSON line:
//!   {"scenario":"tokio-lifo","variant":"wake","control":"none",
//!    "wake_to_run_ms":F,"block_ms":N,"busy":false,"workers":2,
//!    "a_tid":N,"b_tid":N,"run":I}

use std::process::exit;
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use tokio::runtime::{Builder, Runtime};
use tokio::sync::oneshot;

#[derive(Clone, Copy, PartialEq)]
enum Variant {
    Wake,
    Spawn,
}

#[derive(Clone, Copy, PartialEq)]
enum Control {
    None,
    Yield,
    Outside,
    BlockInPlace,
    NoLifo,
}

#[derive(Clone, Copy)]
struct Opts {
    block_ms: u64,
    busy: bool,
    variant: Variant,
    control: Control,
    runs: u32,
    workers: usize,
    yields: u64,
}

const USAGE: &str = "usage: tokio-lifo [--block-ms N] [--busy] [--variant wake|spawn]
                  [--control none|yield|outside|block-in-place|no-lifo]
                  [--runs N] [--workers N]
  --block-ms N   how long task A blocks its worker (default 200)
  --busy         spin instead of sleeping while blocking
  --variant V    how A makes B runnable: wake (a oneshot send, default) or spawn
  --control C    a healthy control (see the source's comment; default none)
  --runs N       repeat the scenario N times in this runtime (default 1)
  --yields N     instead: time N yields of one task (ns per yield)
  --workers N    worker threads (default 2; at least 2 but for --yields)
";

fn value<'a>(args: &'a [String], i: &mut usize, name: &str) -> &'a str {
    *i += 1;
    match args.get(*i) {
        Some(v) => v,
        None => {
            eprintln!("tokio-lifo: {} needs a value", name);
            eprint!("{}", USAGE);
            exit(2);
        }
    }
}

fn number(v: &str, name: &str, lo: u64, hi: u64) -> u64 {
    match v.parse::<u64>() {
        Ok(n) if n >= lo && n <= hi => n,
        _ => {
            eprintln!("tokio-lifo: {}: want {}..{}: {}", name, lo, hi, v);
            exit(2);
        }
    }
}

fn parse_args() -> Opts {
    let args: Vec<String> = std::env::args().collect();
    let mut o = Opts {
        block_ms: 200,
        busy: false,
        variant: Variant::Wake,
        control: Control::None,
        runs: 1,
        workers: 2,
        yields: 0,
    };
    let mut i = 1;
    while i < args.len() {
        let a = args[i].as_str();
        match a {
            "--block-ms" => o.block_ms = number(value(&args, &mut i, a), a, 1, 600_000),
            "--busy" => o.busy = true,
            "--variant" => {
                o.variant = match value(&args, &mut i, a) {
                    "wake" => Variant::Wake,
                    "spawn" => Variant::Spawn,
                    v => {
                        eprintln!("tokio-lifo: --variant: want wake or spawn: {}", v);
                        exit(2);
                    }
                }
            }
            "--control" => {
                o.control = match value(&args, &mut i, a) {
                    "none" => Control::None,
                    "yield" => Control::Yield,
                    "outside" => Control::Outside,
                    "block-in-place" => Control::BlockInPlace,
                    "no-lifo" => Control::NoLifo,
                    v => {
                        eprintln!(
                            "tokio-lifo: --control: want none, yield, outside, block-in-place or no-lifo: {}",
                            v
                        );
                        exit(2);
                    }
                }
            }
            "--runs" => o.runs = number(value(&args, &mut i, a), a, 1, 10_000) as u32,
            "--workers" => o.workers = number(value(&args, &mut i, a), a, 1, 1024) as usize,
            "--yields" => o.yields = number(value(&args, &mut i, a), a, 1, 1_000_000_000),
            "-h" | "--help" => {
                print!("{}", USAGE);
                exit(0);
            }
            _ => {
                eprintln!("tokio-lifo: unknown argument: {}", a);
                eprint!("{}", USAGE);
                exit(2);
            }
        }
        i += 1;
    }
    if o.workers < 2 && o.yields == 0 {
        eprintln!("tokio-lifo: --workers: the stall needs an idle worker: at least 2");
        exit(2);
    }
    if o.control == Control::Outside && o.variant == Variant::Spawn {
        eprintln!("tokio-lifo: --control outside wakes B from another thread: only with --variant wake");
        exit(2);
    }
    o
}

/// This thread's kernel id (the tid a trace shows), from /proc/thread-self.
fn tid() -> u64 {
    std::fs::read_link("/proc/thread-self")
        .ok()
        .and_then(|p| p.file_name().and_then(|n| n.to_str()).and_then(|s| s.parse().ok()))
        .unwrap_or(0)
}

/// Keeps the calling thread (a worker) from the runtime for `ms`.
fn block(ms: u64, busy: bool) {
    let d = Duration::from_millis(ms);
    if !busy {
        std::thread::sleep(d);
        return;
    }
    let end = Instant::now() + d; // (each now() is a clock read: not optimised out)
    while Instant::now() < end {}
}

/// A's blocking part, as the control asks.
fn block_as(o: &Opts) {
    if o.control == Control::BlockInPlace {
        let (ms, busy) = (o.block_ms, o.busy);
        tokio::task::block_in_place(move || block(ms, busy));
    } else {
        block(o.block_ms, o.busy);
    }
}

struct Run {
    wake_to_run: Duration,
    a_tid: u64,
    b_tid: u64,
}

/// Lets the workers go idle and park: B is pending, nothing else runs.
fn settle() {
    std::thread::sleep(Duration::from_millis(50));
}

fn run_wake(rt: &Runtime, o: Opts) -> Run {
    let (tx, rx) = oneshot::channel::<Instant>();
    let b = rt.spawn(async move {
        let woke = rx.await.expect("A dropped the channel");
        (woke.elapsed(), tid())
    });
    settle();
    let a = if o.control == Control::Outside {
        // A blocks a worker; a plain thread wakes B meanwhile.
        let (started_tx, started_rx) = std_mpsc::channel::<()>();
        let a = rt.spawn(async move {
            let me = tid();
            started_tx.send(()).expect("main thread gone");
            block_as(&o);
            me
        });
        started_rx.recv().expect("A never started");
        std::thread::spawn(move || {
            let _ = tx.send(Instant::now());
        })
        .join()
        .expect("waker thread panicked");
        a
    } else {
        rt.spawn(async move {
            let me = tid();
            let _ = tx.send(Instant::now()); // B into this worker's LIFO slot
            if o.control == Control::Yield {
                tokio::task::yield_now().await;
            }
            block_as(&o);
            me
        })
    };
    rt.block_on(async move {
        let a_tid = a.await.expect("task A panicked");
        let (wake_to_run, b_tid) = b.await.expect("task B panicked");
        Run { wake_to_run, a_tid, b_tid }
    })
}

fn run_spawn(rt: &Runtime, o: Opts) -> Run {
    settle();
    let a = rt.spawn(async move {
        let me = tid();
        let spawned = Instant::now();
        // From a worker: B goes into this worker's LIFO slot.
        let b = tokio::spawn(async move { (spawned.elapsed(), tid()) });
        if o.control == Control::Yield {
            tokio::task::yield_now().await;
        }
        block_as(&o);
        (me, b)
    });
    rt.block_on(async move {
        let (a_tid, b) = a.await.expect("task A panicked");
        let (wake_to_run, b_tid) = b.await.expect("task B panicked");
        Run { wake_to_run, a_tid, b_tid }
    })
}

fn build_runtime(o: &Opts) -> Runtime {
    let mut b = Builder::new_multi_thread();
    b.worker_threads(o.workers).enable_time();
    if o.control == Control::NoLifo {
        #[cfg(tokio_unstable)]
        b.disable_lifo_slot();
        #[cfg(not(tokio_unstable))]
        {
            eprintln!("tokio-lifo: --control no-lifo needs a build with RUSTFLAGS=\"--cfg tokio_unstable\"");
            exit(2);
        }
    }
    b.build().unwrap_or_else(|e| {
        eprintln!("tokio-lifo: cannot build the runtime: {}", e);
        exit(1);
    })
}

/// One task yielding n times: ns per yield.
fn yields(rt: &Runtime, n: u64) -> f64 {
    let t = Instant::now();
    rt.block_on(async move {
        tokio::spawn(async move {
            for _ in 0..n {
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("the yielding task panicked");
    });
    t.elapsed().as_nanos() as f64 / n as f64
}

fn main() {
    let o = parse_args();
    let rt = build_runtime(&o);
    if o.yields > 0 {
        println!(
            "{{\"scenario\":\"tokio-yields\",\"yields\":{},\"ns_per_yield\":{:.1}}}",
            o.yields,
            yields(&rt, o.yields)
        );
        return;
    }
    let variant = match o.variant {
        Variant::Wake => "wake",
        Variant::Spawn => "spawn",
    };
    let control = match o.control {
        Control::None => "none",
        Control::Yield => "yield",
        Control::Outside => "outside",
        Control::BlockInPlace => "block-in-place",
        Control::NoLifo => "no-lifo",
    };
    for run in 0..o.runs {
        let r = match o.variant {
            Variant::Wake => run_wake(&rt, o),
            Variant::Spawn => run_spawn(&rt, o),
        };
        let ms = r.wake_to_run.as_secs_f64() * 1e3;
        println!(
            "task B made runnable by A (tid {}) ran on tid {} after {:.3} ms (A blocked {} ms, {}; variant {}, control {})",
            r.a_tid,
            r.b_tid,
            ms,
            o.block_ms,
            if o.busy { "spinning" } else { "sleeping" },
            variant,
            control
        );
        println!(
            "{{\"scenario\":\"tokio-lifo\",\"variant\":\"{}\",\"control\":\"{}\",\"wake_to_run_ms\":{:.3},\"block_ms\":{},\"busy\":{},\"workers\":{},\"a_tid\":{},\"b_tid\":{},\"run\":{}}}",
            variant, control, ms, o.block_ms, o.busy, o.workers, r.a_tid, r.b_tid, run
        );
    }
}
