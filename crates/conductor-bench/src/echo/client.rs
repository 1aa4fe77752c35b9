//! The load client, shared by every server: one thread, raw epoll (level-triggered), `conns`
//! connections each sending a message and waiting for its whole echo before the next.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

/// What one timed run measured.
pub struct Load {
    /// Round trips completed within the run's duration.
    pub requests: u64,
    /// Each of those round trips' latency, in nanoseconds.
    pub latencies: Vec<u64>,
    /// How long the run lasted.
    pub elapsed: Duration,
}

struct Conn {
    stream: TcpStream,
    sent: usize,
    received: usize,
    started: Instant,
    waiting_out: bool,
}

/// `conns` connections to an echo server.
pub struct Client {
    epoll: i32,
    conns: Vec<Conn>,
}

fn ctl(epoll: i32, op: i32, fd: i32, events: u32, token: usize) -> io::Result<()> {
    let mut ev = libc::epoll_event {
        events,
        u64: token as u64,
    };
    // SAFETY: `ev` is a valid epoll_event; `epoll` and `fd` are open descriptors.
    if unsafe { libc::epoll_ctl(epoll, op, fd, &mut ev) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

impl Client {
    /// Opens `conns` connections (blocking connects, then non-blocking IO).
    pub fn connect(addr: SocketAddr, conns: usize) -> io::Result<Client> {
        // SAFETY: plain system call.
        let epoll = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if epoll < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut all = Vec::with_capacity(conns);
        for i in 0..conns {
            let stream = TcpStream::connect(addr)?;
            stream.set_nodelay(true)?;
            stream.set_nonblocking(true)?;
            ctl(
                epoll,
                libc::EPOLL_CTL_ADD,
                stream.as_raw_fd(),
                libc::EPOLLIN as u32,
                i,
            )?;
            all.push(Conn {
                stream,
                sent: 0,
                received: 0,
                started: Instant::now(),
                waiting_out: false,
            });
        }
        Ok(Client { epoll, conns: all })
    }

    /// Ping-pong of `size`-byte messages on every connection for `duration`; the round trips
    /// in flight at the end are completed but not counted.
    pub fn run(&mut self, size: usize, duration: Duration) -> io::Result<Load> {
        let msg = vec![b'x'; size];
        let mut buf = vec![0u8; 256 * 1024];
        let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 1024];
        let start = Instant::now();
        let deadline = start + duration;
        let mut load = Load {
            requests: 0,
            latencies: Vec::with_capacity(1 << 20),
            elapsed: duration,
        };
        let mut in_flight = 0;
        for i in 0..self.conns.len() {
            self.start_request(i, &msg)?;
            in_flight += 1;
        }
        while in_flight > 0 {
            // SAFETY: `events` has room for `len` entries.
            let n = unsafe {
                libc::epoll_wait(self.epoll, events.as_mut_ptr(), events.len() as i32, 100)
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            for ev in &events[..n as usize] {
                let i = ev.u64 as usize;
                if self.conns[i].sent < size {
                    self.send_some(i, &msg)?;
                    continue;
                }
                let c = &mut self.conns[i];
                match c.stream.read(&mut buf) {
                    Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                    Ok(got) => c.received += got,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                    Err(e) => return Err(e),
                }
                if c.received < size {
                    continue;
                }
                let now = Instant::now();
                if now <= deadline {
                    load.requests += 1;
                    load.latencies.push((now - c.started).as_nanos() as u64);
                    self.start_request(i, &msg)?;
                } else {
                    in_flight -= 1;
                }
            }
        }
        Ok(load)
    }

    fn start_request(&mut self, i: usize, msg: &[u8]) -> io::Result<()> {
        let c = &mut self.conns[i];
        c.sent = 0;
        c.received = 0;
        c.started = Instant::now();
        self.send_some(i, msg)
    }

    fn send_some(&mut self, i: usize, msg: &[u8]) -> io::Result<()> {
        let epoll = self.epoll;
        let c = &mut self.conns[i];
        while c.sent < msg.len() {
            match c.stream.write(&msg[c.sent..]) {
                Ok(n) => c.sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
        let want_out = c.sent < msg.len();
        if want_out != c.waiting_out {
            let events = if want_out {
                libc::EPOLLIN | libc::EPOLLOUT
            } else {
                libc::EPOLLIN
            };
            ctl(
                epoll,
                libc::EPOLL_CTL_MOD,
                c.stream.as_raw_fd(),
                events as u32,
                i,
            )?;
            c.waiting_out = want_out;
        }
        Ok(())
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        // SAFETY: our own epoll descriptor, closed once.
        unsafe { libc::close(self.epoll) };
    }
}

/// Opens `n` connections that never send anything (for the idle-memory cell).
pub fn idle_connections(addr: SocketAddr, n: usize) -> io::Result<Vec<TcpStream>> {
    (0..n).map(|_| TcpStream::connect(addr)).collect()
}
