//! 10,000 concurrent connections held open by one loop.
//!
//! The clients live in a child process (this test binary again, told so by an environment
//! variable), so that both ends together need not fit in one process's descriptor limit. Its own
//! test binary: it raises RLIMIT_NOFILE for the process.

use std::cell::Cell;
use std::io::{self, BufRead, Read, Write};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::time::Duration;

use conductor::net::{ServerOptions, start_server_with};
use conductor::streams::{StreamReader, StreamWriter};

const CONNECTIONS: usize = 10_000;
const CLIENT_ENV: &str = "CONDUCTOR_TEST_CLIENTS_OF";
const TEST_NAME: &str = "ten_thousand_connections_on_one_loop";
const READY: &str = "clients: all connected";

/// Raises the soft descriptor limit to the hard one; false when that is still below `need`.
fn raise_nofile(need: usize) -> bool {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid out-pointer.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
    lim.rlim_cur = lim.rlim_max;
    // SAFETY: `lim` is a valid in-pointer; raising the soft limit up to the hard one is allowed.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) }, 0);
    lim.rlim_cur as usize >= need
}

/// The child: opens every connection, checks each with one echoed line, says `ready`, and
/// holds them until its standard input closes.
fn clients(addr: SocketAddr) {
    assert!(raise_nofile(CONNECTIONS + 100));
    let mut conns = Vec::with_capacity(CONNECTIONS);
    for _ in 0..CONNECTIONS {
        conns.push(std::net::TcpStream::connect(addr).unwrap());
    }
    for c in &mut conns {
        c.write_all(b"x\n").unwrap();
    }
    for c in &mut conns {
        let mut reply = [0; 2];
        c.read_exact(&mut reply).unwrap();
        assert_eq!(&reply, b"x\n");
    }
    println!("{READY}");
    io::stdout().flush().unwrap();
    let mut rest = Vec::new();
    let _ = io::stdin().read_to_end(&mut rest);
}

#[test]
fn ten_thousand_connections_on_one_loop() {
    if let Ok(addr) = std::env::var(CLIENT_ENV) {
        return clients(addr.parse().unwrap());
    }
    if !raise_nofile(CONNECTIONS + 100) {
        eprintln!(
            "skipped: {TEST_NAME} needs {} file descriptors and the hard limit is lower \
             (raise it with `ulimit -Hn`)",
            CONNECTIONS + 100
        );
        return;
    }
    conductor::Runtime::new().unwrap().block_on(async {
        let open = Rc::new(Cell::new(0usize));
        let peak = Rc::new(Cell::new(0usize));
        let handler = {
            let (open, peak) = (open.clone(), peak.clone());
            move |mut reader: StreamReader, mut writer: StreamWriter| {
                let (open, peak) = (open.clone(), peak.clone());
                async move {
                    open.set(open.get() + 1);
                    peak.set(peak.get().max(open.get()));
                    let line = reader.readline().await?;
                    writer.write(&line);
                    writer.drain().await?;
                    // Held open until the client goes.
                    let rest = reader.read(1).await;
                    open.set(open.get() - 1);
                    rest.map(drop)
                }
            }
        };
        let options = ServerOptions::new().backlog(4096);
        let server = start_server_with(handler, "127.0.0.1:0", &options)
            .await
            .unwrap();
        let addr = server.local_addr().unwrap();

        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
            .env(CLIENT_ENV, addr.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        // libtest prints the test's name on the same line, before the child's output.
        let ready = conductor::to_thread(move || {
            let mut out = io::BufReader::new(stdout);
            let mut line = String::new();
            while out.read_line(&mut line).unwrap_or(0) > 0 {
                if line.trim_end().ends_with(READY) {
                    return Some(out);
                }
                line.clear();
            }
            None
        });
        let stdout = conductor::timeout(Duration::from_secs(120), ready)
            .await
            .expect("the clients did not connect within 2 minutes")
            .unwrap()
            .expect("the client process failed; see its output above");

        assert_eq!(server.connections(), CONNECTIONS);
        assert_eq!(peak.get(), CONNECTIONS);
        let stats = conductor::debug::loop_stats().unwrap();
        assert!(stats.io_sources > CONNECTIONS, "{stats:?}");

        drop(child.stdin.take()); // the clients leave
        let status = conductor::to_thread(move || {
            let _ = io::copy(&mut { stdout }, &mut io::sink());
            child.wait()
        })
        .await
        .unwrap();
        assert!(status.unwrap().success());
        server.close();
        conductor::timeout(Duration::from_secs(60), server.wait_closed())
            .await
            .expect("the connections did not all close");
        assert_eq!(open.get(), 0);
    });
}
