//! tokio-http: a hyper 0.14 HTTP/1.1 server on Tokio's multi-thread
//! runtime (Debian's crates), for recording a Tokio service under an
//! ordinary load (wrk): every request gets 200 "ok"; no handler blocks.
//! Loopback only.  Prints "listening on 127.0.0.1:PORT" once it accepts.
//!
//!   tokio-http [--port N] [--workers N] [--duration S]

use std::convert::Infallible;
use std::process::exit;
use std::time::Duration;

use hyper::service::{make_service_fn, service_fn};
use hyper::{Body, Request, Response, Server};

const USAGE: &str = "usage: tokio-http [--port N] [--workers N] [--duration S]
  --port N       loopback port (default 0: any free one)
  --workers N    worker threads (default 2)
  --duration S   exit after S seconds (default 60)
";

fn arg_num(args: &[String], i: usize, name: &str, lo: u64, hi: u64) -> u64 {
    match args.get(i).map(|v| v.parse::<u64>()) {
        Some(Ok(n)) if n >= lo && n <= hi => n,
        _ => {
            eprintln!("tokio-http: {}: want {}..{}", name, lo, hi);
            eprint!("{}", USAGE);
            exit(2);
        }
    }
}

async fn handle(_: Request<Body>) -> Result<Response<Body>, Infallible> {
    Ok(Response::new(Body::from("ok\n")))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (mut port, mut workers, mut duration) = (0u64, 2u64, 60u64);
    let mut i = 1;
    while i < args.len() {
        match args[i].as_str() {
            "--port" => port = arg_num(&args, i + 1, "--port", 0, 65535),
            "--workers" => workers = arg_num(&args, i + 1, "--workers", 1, 1024),
            "--duration" => duration = arg_num(&args, i + 1, "--duration", 1, 86400),
            "-h" | "--help" => {
                print!("{}", USAGE);
                exit(0);
            }
            a => {
                eprintln!("tokio-http: unknown argument: {}", a);
                eprint!("{}", USAGE);
                exit(2);
            }
        }
        i += 2;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers as usize)
        .enable_all()
        .build()
        .unwrap_or_else(|e| {
            eprintln!("tokio-http: cannot build the runtime: {}", e);
            exit(1);
        });
    rt.block_on(async move {
        let make = make_service_fn(|_| async { Ok::<_, Infallible>(service_fn(handle)) });
        let server = match Server::try_bind(&([127, 0, 0, 1], port as u16).into()) {
            Ok(b) => b.http1_keepalive(true).tcp_nodelay(true).serve(make),
            Err(e) => {
                eprintln!("tokio-http: cannot listen on port {}: {}", port, e);
                exit(1);
            }
        };
        println!("listening on {}", server.local_addr());
        let _ = tokio::time::timeout(Duration::from_secs(duration), server).await;
    });
}
