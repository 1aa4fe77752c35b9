//! A server out of file descriptors (EMFILE) pauses accepting on the loop clock instead of
//! spinning, and serves the waiting clients once descriptors are back.
//!
//! Its own test binary: it lowers RLIMIT_NOFILE for the whole process, which must not touch
//! other tests running in parallel.

use std::io;
use std::time::Duration;

use conductor::net::{ACCEPT_BACKOFF, TcpStream, start_server};
use conductor::streams::{StreamReader, StreamWriter};

fn nofile() -> libc::rlimit {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid out-pointer.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
    lim
}

fn set_nofile(lim: libc::rlimit) {
    // SAFETY: `lim` is a valid in-pointer; lowering or restoring the soft limit is allowed.
    let rc = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) };
    assert_eq!(rc, 0, "setrlimit: {}", io::Error::last_os_error());
}

async fn echo_line(mut reader: StreamReader, mut writer: StreamWriter) -> io::Result<()> {
    let line = reader.readline().await?;
    writer.write(&line);
    writer.drain().await
}

#[test]
fn out_of_file_descriptors_pauses_accepting_without_spinning() {
    // A server that spins keeps the paused clock from moving, so the test would hang: say so.
    std::thread::spawn(|| {
        std::thread::sleep(Duration::from_secs(60));
        eprintln!("net_emfile: still running after 60 s: does the accept loop spin on EMFILE?");
        std::process::exit(1);
    });
    let rt = conductor::Runtime::builder()
        .paused_clock()
        .build()
        .unwrap();
    rt.block_on(async {
        let server = start_server(echo_line, "127.0.0.1:0").await.unwrap();
        let addr = server.local_addr().unwrap();
        // The clients' sockets exist before the descriptors run out; connecting needs no more.
        let clients: Vec<socket2::Socket> = (0..3)
            .map(|_| socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None))
            .collect::<Result<_, _>>()
            .unwrap();

        let saved = nofile();
        let open = std::fs::read_dir("/proc/self/fd").unwrap().count() as libc::rlim_t;
        set_nofile(libc::rlimit {
            rlim_cur: open + 16,
            rlim_max: saved.rlim_max,
        });
        let mut filler = Vec::new();
        let exhausted = loop {
            match std::fs::File::open("/dev/null") {
                Ok(f) => filler.push(f),
                Err(e) => break e,
            }
        };
        assert_eq!(exhausted.raw_os_error(), Some(libc::EMFILE));

        for c in &clients {
            c.connect(&addr.into()).unwrap(); // lands in the accept queue
        }
        let polls = || conductor::debug::loop_stats().unwrap().polls;
        let before = polls();
        conductor::sleep(Duration::from_secs(1)).await;
        let spent = polls() - before;
        // One retry per backoff (10 in a second), and this task: not a spin.
        let retries = (Duration::from_secs(1).as_millis() / ACCEPT_BACKOFF.as_millis()) as u64;
        assert!(
            spent <= 3 * retries,
            "{spent} task polls in one second of EMFILE"
        );
        assert_eq!(server.connections(), 0);
        assert!(server.is_serving());

        // Descriptors come back: after its backoff the server accepts and serves them all.
        drop(filler);
        set_nofile(saved);
        for (i, c) in clients.into_iter().enumerate() {
            let mut stream = TcpStream::from_std(c.into()).unwrap();
            let line = format!("client {i}\n");
            stream.write_all(line.as_bytes()).await.unwrap();
            let mut reader = StreamReader::new(stream);
            assert_eq!(reader.readline().await.unwrap(), line.as_bytes());
        }
        server.close();
        server.wait_closed().await;
    });
}
