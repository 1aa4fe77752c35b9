//! The floor: an echo server written directly against epoll, with no runtime at all.
//!
//! What any server must do per message is one `epoll_wait` (shared by whatever is ready), one
//! `recv` and one `send`; this one does exactly that and nothing else, so its user-space CPU
//! per request is the least a server can spend and the other rows are read against it.
//!
//! Level-triggered, so one `recv` per readiness suffices (edge-triggered would need a second
//! `recv` to see `EAGAIN`). One 64 KiB buffer serves every connection, since the data is sent
//! back before the next `recv`; a connection holds bytes of its own only when the kernel took
//! part of a `send`, and then it waits for `EPOLLOUT` instead of reading (back-pressure).

use std::io;
use std::os::fd::IntoRawFd;

use super::servers::{BUF, accepted};

/// Runs the server on `listener` (already non-blocking) on this thread, forever.
pub fn serve(listener: std::net::TcpListener) {
    let lfd = listener.into_raw_fd();
    // SAFETY: plain system call.
    let epoll = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    assert!(epoll >= 0, "epoll_create1: {}", io::Error::last_os_error());
    ctl(epoll, libc::EPOLL_CTL_ADD, lfd, libc::EPOLLIN);
    let mut buf = vec![0u8; BUF];
    // Unsent bytes, by file descriptor (empty, so unallocated, for almost every connection).
    let mut unsent: Vec<Vec<u8>> = Vec::new();
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 256];
    loop {
        // SAFETY: `events` has room for `len` entries.
        let n = unsafe { libc::epoll_wait(epoll, events.as_mut_ptr(), events.len() as i32, -1) };
        if n < 0 {
            continue; // EINTR
        }
        for ev in &events[..n as usize] {
            let fd = ev.u64 as i32;
            if fd == lfd {
                accept_all(epoll, lfd, &mut unsent);
            } else if unsent[fd as usize].is_empty() {
                echo(epoll, fd, &mut buf, &mut unsent[fd as usize]);
            } else {
                flush(epoll, fd, &mut unsent[fd as usize]);
            }
        }
    }
}

fn ctl(epoll: i32, op: i32, fd: i32, events: i32) {
    let mut ev = libc::epoll_event {
        events: events as u32,
        u64: fd as u64,
    };
    // SAFETY: `ev` is a valid epoll_event; `epoll` and `fd` are open descriptors.
    let rc = unsafe { libc::epoll_ctl(epoll, op, fd, &mut ev) };
    assert_eq!(rc, 0, "epoll_ctl: {}", io::Error::last_os_error());
}

fn accept_all(epoll: i32, lfd: i32, unsent: &mut Vec<Vec<u8>>) {
    loop {
        let flags = libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
        // SAFETY: null address pointers are allowed (the peer's address is not wanted).
        let fd = unsafe { libc::accept4(lfd, std::ptr::null_mut(), std::ptr::null_mut(), flags) };
        if fd < 0 {
            return; // EAGAIN: no more waiting; anything else: try again at the next readiness
        }
        accepted();
        let one: libc::c_int = 1;
        // SAFETY: `one` is a valid c_int option value of the given length. (TCP_NODELAY, as the
        // other servers set it.)
        unsafe {
            libc::setsockopt(
                fd,
                libc::IPPROTO_TCP,
                libc::TCP_NODELAY,
                (&one as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if unsent.len() <= fd as usize {
            unsent.resize_with(fd as usize + 1, Vec::new);
        }
        ctl(epoll, libc::EPOLL_CTL_ADD, fd, libc::EPOLLIN);
    }
}

/// One `recv`, one `send` of what it got; what the kernel did not take waits for `EPOLLOUT`.
fn echo(epoll: i32, fd: i32, buf: &mut [u8], unsent: &mut Vec<u8>) {
    // SAFETY: `buf` is valid for `len` bytes of writes.
    let got = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
    if got <= 0 {
        if got == 0 || io::Error::last_os_error().kind() != io::ErrorKind::WouldBlock {
            close(fd, unsent);
        }
        return;
    }
    let got = got as usize;
    let sent = match send(fd, &buf[..got]) {
        Ok(sent) => sent,
        Err(()) => return close(fd, unsent),
    };
    if sent < got {
        unsent.extend_from_slice(&buf[sent..got]);
        ctl(epoll, libc::EPOLL_CTL_MOD, fd, libc::EPOLLOUT);
    }
}

/// Sends what is left; back to reading once it is all gone.
fn flush(epoll: i32, fd: i32, unsent: &mut Vec<u8>) {
    match send(fd, unsent) {
        Ok(sent) => drop(unsent.drain(..sent)),
        Err(()) => return close(fd, unsent),
    }
    if unsent.is_empty() {
        *unsent = Vec::new(); // give the memory back: most connections never need it
        ctl(epoll, libc::EPOLL_CTL_MOD, fd, libc::EPOLLIN);
    }
}

/// Bytes the kernel took (0 when its buffer is full), or `Err` when the connection is gone.
fn send(fd: i32, data: &[u8]) -> Result<usize, ()> {
    // SAFETY: `data` is valid for `len` bytes of reads. MSG_NOSIGNAL: EPIPE, not SIGPIPE.
    let sent = unsafe { libc::send(fd, data.as_ptr().cast(), data.len(), libc::MSG_NOSIGNAL) };
    if sent >= 0 {
        Ok(sent as usize)
    } else if io::Error::last_os_error().kind() == io::ErrorKind::WouldBlock {
        Ok(0)
    } else {
        Err(())
    }
}

/// Closing the descriptor also removes it from the epoll set (it is never duplicated).
fn close(fd: i32, unsent: &mut Vec<u8>) {
    *unsent = Vec::new();
    // SAFETY: `fd` is an open connection this server owns; it is not used after this.
    unsafe { libc::close(fd) };
}
