//! tokio-http: a small HTTP/1.1 server on Tokio's multi-thread runtime, for
//! recording a Tokio service under an ordinary load (wrk): keep-alive,
//! pipelining, a fixed 200 "ok" per request; no handler blocks.  Loopback
//! only.  Prints "listening on 127.0.0.1:PORT" once it accepts.
//!
//!   tokio-http [--port N] [--workers N] [--duration S]

use std::process::exit;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const USAGE: &str = "usage: tokio-http [--port N] [--workers N] [--duration S]
  --port N       loopback port (default 0: any free one)
  --workers N    worker threads (default 2)
  --duration S   exit after S seconds (default 60)
";
const MAX_HEAD: usize = 16384;
const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Type: text/plain\r\n\r\nok\n";

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

/// Answers every complete request head on the connection, in order.
async fn serve(mut s: TcpStream) {
    let mut buf = vec![0u8; MAX_HEAD];
    let mut have = 0;
    loop {
        let n = match s.read(&mut buf[have..]).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        have += n;
        let mut done = 0;
        while let Some(end) = buf[done..have].windows(4).position(|w| w == b"\r\n\r\n") {
            if s.write_all(RESPONSE).await.is_err() {
                return;
            }
            done += end + 4;
        }
        buf.copy_within(done..have, 0);
        have -= done;
        if have == buf.len() {
            let _ = s.write_all(b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").await;
            return;
        }
    }
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
        let l = TcpListener::bind(("127.0.0.1", port as u16)).await.unwrap_or_else(|e| {
            eprintln!("tokio-http: cannot listen on port {}: {}", port, e);
            exit(1);
        });
        println!("listening on {}", l.local_addr().expect("bound"));
        let accept = async {
            loop {
                if let Ok((s, _)) = l.accept().await {
                    let _ = s.set_nodelay(true);
                    tokio::spawn(serve(s));
                }
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(duration), accept).await;
    });
}
