//! The load client: `wrk` (one thread, keep-alive), pinned to CPU 1 like this process.

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

/// What one wrk run reports.
#[derive(Debug, Clone, Copy, Default)]
pub struct Run {
    pub requests: u64,
    pub per_sec: f64,
    pub p99: Duration,
}

/// Whether wrk is installed; if not, how to get it.
pub fn missing() -> Option<&'static str> {
    let ok = Command::new("wrk")
        .arg("--version")
        .output()
        .is_ok_and(|o| {
            String::from_utf8_lossy(&o.stdout).contains("wrk")
                || String::from_utf8_lossy(&o.stderr).contains("wrk")
        });
    (!ok).then_some("wrk is not installed: apt-get install wrk (the script tries it first)")
}

/// Tries to install wrk with apt (as root).
pub fn install() {
    let _ = Command::new("apt-get")
        .args(["install", "-y", "-qq", "wrk"])
        .status();
}

/// `wrk -t1 -c CONNS -d SECONDS --latency http://ADDR/PATH`.
pub fn run(addr: SocketAddr, path: &str, conns: usize, seconds: f64) -> Run {
    let out = Command::new("wrk")
        .args([
            "-t1",
            &format!("-c{conns}"),
            &format!("-d{}s", seconds.ceil() as u64),
            "--latency",
            &format!("http://{addr}{path}"),
        ])
        .output()
        .expect("wrk runs");
    parse(&String::from_utf8_lossy(&out.stdout))
}

fn parse(text: &str) -> Run {
    let mut r = Run::default();
    for line in text.lines() {
        let line = line.trim();
        if let Some(v) = line.strip_prefix("Requests/sec:") {
            r.per_sec = v.trim().parse().unwrap_or(0.0);
        } else if let Some(v) = line.strip_prefix("99%") {
            r.p99 = duration(v.trim());
        } else if line.contains("requests in") {
            r.requests = line
                .split_whitespace()
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
        }
    }
    r
}

/// wrk's `1.23ms`, `456.00us`, `1.01s`.
fn duration(v: &str) -> Duration {
    let (num, unit) = v.split_at(v.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(v.len()));
    let x: f64 = num.parse().unwrap_or(0.0);
    let secs = match unit {
        "us" => x / 1e6,
        "ms" => x / 1e3,
        "s" => x,
        "m" => x * 60.0,
        _ => 0.0,
    };
    Duration::from_secs_f64(secs)
}

#[cfg(test)]
mod tests {
    #[test]
    fn wrk_output_parses() {
        let text = "Running 5s test @ http://127.0.0.1:1/\n  1 threads and 10 connections\n  Latency Distribution\n     50%  100.00us\n     99%    1.50ms\n  123456 requests in 5.00s, 10.00MB read\nRequests/sec:  24691.20\n";
        let r = super::parse(text);
        assert_eq!(r.requests, 123456);
        assert!((r.per_sec - 24691.2).abs() < 0.01);
        assert_eq!(r.p99, std::time::Duration::from_micros(1500));
    }
}
