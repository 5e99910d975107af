// SPDX-License-Identifier: MIT
//! tokio-sched: bench/sched.c's six scheduler shapes on Tokio, with the
//! same counts, the same measuring loop and the same output columns, so
//! that bench/vs_tokio.sh can put wsrt and Tokio side by side.
//!
//! One iteration is one run of a shape (spawn 10,000 tasks and wait for
//! them all, ...), timed on the main thread from the first spawn until it
//! is woken by the last task: the main thread sleeps on a std channel as
//! sched's sleeps in wsrt_block_on.  A warm-up run counts the iterations
//! that fill --run-ms; then --runs timed runs of that many; printed: the
//! median and the minimum ns per operation.  Tokio 1.24's LIFO slot is
//! never stealable, so the mode is always `legacy`.  Futexes are not
//! counted here: those columns print `-`.
//!
//!   tokio-sched [--workers N] [--runs N] [--run-ms MS] [--filter SUBSTR] [--quick]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::time::Instant;

use tokio::runtime::{Builder, Runtime};
use tokio::sync::{mpsc, oneshot};

struct Done {
    rem: AtomicU64,
    tx: SyncSender<()>,
}

impl Done {
    fn finish_one(&self) {
        if self.rem.fetch_sub(1, Ordering::AcqRel) == 1 {
            let _ = self.tx.send(());
        }
    }
}

fn latch(n: u64) -> (Arc<Done>, Receiver<()>) {
    let (tx, rx) = sync_channel(1);
    (Arc::new(Done { rem: AtomicU64::new(n), tx }), rx)
}

fn spawn_many_local(rt: &Runtime, n: u64, _m: u64) {
    let (d, rx) = latch(n);
    rt.spawn(async move {
        for _ in 0..n {
            let d = d.clone();
            tokio::spawn(async move { d.finish_one() });
        }
    });
    rx.recv().unwrap();
}

fn spawn_many_remote(rt: &Runtime, n: u64, _m: u64) {
    let (d, rx) = latch(n);
    for _ in 0..n {
        let d = d.clone();
        rt.spawn(async move { d.finish_one() });
    }
    rx.recv().unwrap();
}

fn yield_many(rt: &Runtime, n: u64, m: u64) {
    let (d, rx) = latch(n);
    for _ in 0..n {
        let d = d.clone();
        rt.spawn(async move {
            for _ in 0..m {
                tokio::task::yield_now().await;
            }
            d.finish_one();
        });
    }
    rx.recv().unwrap();
}

fn ping_pong(rt: &Runtime, n: u64, _m: u64) {
    let (d, rx) = latch(n);
    for _ in 0..n {
        let d = d.clone();
        rt.spawn(async move {
            let (ping_tx, ping_rx) = oneshot::channel::<()>();
            let (pong_tx, pong_rx) = oneshot::channel::<()>();
            tokio::spawn(async move {
                ping_rx.await.unwrap();
                pong_tx.send(()).unwrap();
            });
            ping_tx.send(()).unwrap();
            pong_rx.await.unwrap();
            d.finish_one();
        });
    }
    rx.recv().unwrap();
}

fn chain(d: Arc<Done>, left: u64) {
    if left == 0 {
        d.finish_one();
    } else {
        tokio::spawn(async move { chain(d, left - 1) });
    }
}

fn chained_spawn(rt: &Runtime, n: u64, _m: u64) {
    // n + 1 tasks: the first spawned from main, the n others by their
    // predecessor, as in sched.c.
    let (d, rx) = latch(1);
    rt.spawn(async move { chain(d, n) });
    rx.recv().unwrap();
}

fn tiny_work(mut x: u64) -> u64 {
    for _ in 0..8 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    x
}

static SINK: AtomicU64 = AtomicU64::new(0);

fn short_handler(rt: &Runtime, n: u64, m: u64) {
    let (d, rx) = latch(1);
    let (tx, mut chrx) = mpsc::channel::<u64>(m as usize);
    rt.spawn(async move {
        let mut acc = 0u64;
        while let Some(v) = chrx.recv().await {
            acc = acc.wrapping_add(tiny_work(v));
        }
        SINK.fetch_add(acc, Ordering::Relaxed);
        d.finish_one();
    });
    rt.spawn(async move {
        for i in 0..n {
            tx.send(i + 1).await.unwrap();
        }
    });
    rx.recv().unwrap();
}

type Shape = fn(&Runtime, u64, u64);

fn ops_n(n: u64, _m: u64) -> u64 {
    n
}

fn ops_nm(n: u64, m: u64) -> u64 {
    n * m
}

fn ops_2n(n: u64, _m: u64) -> u64 {
    2 * n
}

struct Def {
    name: &'static str,
    op: &'static str,
    n: u64,
    m: u64,
    qn: u64,
    qm: u64,
    run: Shape,
    ops: fn(u64, u64) -> u64,
}

const BENCHES: &[Def] = &[
    Def { name: "spawn_many_local", op: "spawn", n: 10000, m: 0, qn: 500, qm: 0,
          run: spawn_many_local, ops: ops_n },
    Def { name: "spawn_many_remote", op: "spawn", n: 10000, m: 0, qn: 500, qm: 0,
          run: spawn_many_remote, ops: ops_n },
    Def { name: "yield_many", op: "yield", n: 200, m: 1000, qn: 20, qm: 50,
          run: yield_many, ops: ops_nm },
    Def { name: "ping_pong", op: "msg", n: 1000, m: 0, qn: 100, qm: 0,
          run: ping_pong, ops: ops_2n },
    Def { name: "chained_spawn", op: "spawn", n: 1000, m: 0, qn: 100, qm: 0,
          run: chained_spawn, ops: ops_n },
    Def { name: "short_handler", op: "msg", n: 100000, m: 64, qn: 2000, qm: 64,
          run: short_handler, ops: ops_n },
];

fn median(v: &mut [u64]) -> f64 {
    v.sort_unstable();
    let k = v.len();
    if k % 2 == 1 {
        v[k / 2] as f64
    } else {
        (v[k / 2 - 1] as f64 + v[k / 2] as f64) / 2.0
    }
}

fn usage() -> ! {
    eprintln!("usage: tokio-sched [--workers N] [--runs N] [--run-ms MS] [--filter SUBSTR] [--quick]");
    std::process::exit(2);
}

fn number(v: Option<String>, lo: u64, hi: u64) -> u64 {
    match v.and_then(|s| s.parse::<u64>().ok()) {
        Some(x) if x >= lo && x <= hi => x,
        _ => usage(),
    }
}

fn main() {
    let mut workers = std::thread::available_parallelism().map(|n| n.get() as u64).unwrap_or(2);
    let (mut runs, mut run_ms, mut quick, mut filter) = (7u64, 25u64, false, String::new());
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--workers" => workers = number(args.next(), 1, 1024),
            "--runs" => runs = number(args.next(), 1, 1000),
            "--run-ms" => run_ms = number(args.next(), 1, 60000),
            "--filter" => filter = args.next().unwrap_or_else(|| usage()),
            "--quick" => quick = true,
            "-h" | "--help" => usage(),
            _ => usage(),
        }
    }
    if quick {
        runs = 2;
    }
    println!("# tokio-sched: tokio=1.24 workers={} runs={} run_ms={}{}", workers, runs, run_ms,
             if quick { " quick" } else { "" });
    println!("# benchmark mode median_ns/op min_ns/op wakes/iter parks/iter iters op");
    for d in BENCHES.iter().filter(|d| d.name.contains(filter.as_str())) {
        let rt = Builder::new_multi_thread().worker_threads(workers as usize).enable_all()
            .build().expect("a runtime");
        let (n, m) = if quick { (d.qn, d.qm) } else { (d.n, d.m) };
        let mut iters = 1u64;
        let mut ns = Vec::new();
        for r in 0..=runs {
            let t0 = Instant::now();
            let mut i = 0u64;
            loop {
                (d.run)(&rt, n, m);
                i += 1;
                let done = if r > 0 { i >= iters } else {
                    quick || t0.elapsed().as_nanos() as u64 >= run_ms * 1_000_000 || i >= 100_000
                };
                if done {
                    break;
                }
            }
            if r > 0 {
                ns.push(t0.elapsed().as_nanos() as u64);
            } else {
                iters = i;
            }
        }
        let ops = ((d.ops)(n, m) * iters) as f64;
        let min = *ns.iter().min().unwrap() as f64 / ops;
        let med = median(&mut ns) / ops;
        println!("{:<20} {:<10} {:>12.1} {:>12.1} {:>10} {:>10} {:>6}  {}", d.name, "legacy",
                 med, min, "-", "-", iters, d.op);
        drop(rt);
    }
}
