//! The system calls of `loop.sock_recv` and `loop.sock_sendall` (python/conductor's `Loop`
//! keeps asyncio's coroutine around them): `recv(2)`/`send(2)` with `MSG_DONTWAIT`, straight
//! from Rust with the GIL held. `socket.recv`/`socket.send` release and retake the GIL around
//! every call, which on an event loop's thread costs more than the call itself (the loop's
//! sockets never block); and a call that would block says so with `None`/`0` rather than with
//! a `BlockingIOError` raised and caught.

use std::cell::RefCell;
use std::os::fd::RawFd;

use pyo3::buffer::PyBuffer;
use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// Reads of at most this many bytes go through the thread's reused buffer (asyncio's
/// transports read 256 KiB at most); larger ones through a buffer of their own.
const SHARED_MAX: usize = 256 * 1024;

thread_local! {
    /// The receive buffer, reused by every read of this thread.
    static RECV_BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The `OSError` (its errno's subclass, as `socket.recv` raises it) for `errno`.
pub(crate) fn os_error(py: Python<'_>, errno: i32) -> PyErr {
    let msg = std::io::Error::from_raw_os_error(errno).to_string();
    // std says "... (os error N)"; Python's strerror is the text before it.
    let msg = msg.split(" (os error").next().unwrap_or("").to_owned();
    match py.get_type::<PyOSError>().call1((errno, msg)) {
        Ok(e) => PyErr::from_value(e),
        Err(e) => e,
    }
}

pub(crate) fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

pub(crate) fn would_block(e: i32) -> bool {
    e == libc::EAGAIN || e == libc::EWOULDBLOCK || e == libc::EINTR
}

/// One `recv(2)` of at most `max` bytes into a new `bytes`, or the errno.
pub(crate) fn recv_bytes(
    py: Python<'_>,
    fd: RawFd,
    max: usize,
    flags: i32,
) -> Result<Bound<'_, PyBytes>, i32> {
    let read = |b: &mut Vec<u8>| {
        if b.len() < max {
            b.resize(max, 0);
        }
        // SAFETY: `b` has at least `max` writable bytes; recv(2) writes at most that many.
        let n = unsafe { libc::recv(fd, b.as_mut_ptr().cast(), max, flags) };
        if n < 0 {
            Err(errno())
        } else {
            Ok(PyBytes::new(py, &b[..n as usize]))
        }
    };
    if max > SHARED_MAX {
        return read(&mut Vec::new());
    }
    RECV_BUF.with(|b| read(&mut b.borrow_mut()))
}

/// `sock.fileno()`; a closed socket (-1) is `EBADF`, as `sock.recv` on it says.
fn fileno(sock: &Bound<'_, PyAny>) -> PyResult<RawFd> {
    let fd: RawFd = sock.call_method0(intern!(sock.py(), "fileno"))?.extract()?;
    if fd < 0 {
        return Err(os_error(sock.py(), libc::EBADF));
    }
    Ok(fd)
}

/// `sock.recv(n)` that never blocks: the data (`b""` at EOF), or `None` when there is none yet.
#[pyfunction]
pub(crate) fn _sock_recv<'py>(
    sock: &Bound<'py, PyAny>,
    n: isize,
) -> PyResult<Option<Bound<'py, PyBytes>>> {
    let py = sock.py();
    let Ok(n) = usize::try_from(n) else {
        return Err(PyValueError::new_err("negative buffersize in recv"));
    };
    let fd = fileno(sock)?;
    if n == 0 {
        return Ok(Some(PyBytes::new(py, b""))); // as `socket.recv(0)`, without a system call
    }
    match recv_bytes(py, fd, n, libc::MSG_DONTWAIT) {
        Ok(b) => Ok(Some(b)),
        Err(e) if would_block(e) => Ok(None),
        Err(e) => Err(os_error(py, e)),
    }
}

/// The reader of a waiting `sock_recv` (asyncio's `_sock_recv`): completes `fut` with the data
/// or the error; waits on while the socket has nothing.
#[pyfunction]
pub(crate) fn _sock_recv_ready(
    fut: &Bound<'_, PyAny>,
    sock: &Bound<'_, PyAny>,
    n: isize,
) -> PyResult<()> {
    let py = fut.py();
    if fut.call_method0(intern!(py, "done"))?.is_truthy()? {
        return Ok(());
    }
    match _sock_recv(sock, n) {
        Ok(None) => {}
        Ok(Some(data)) => {
            fut.call_method1(intern!(py, "set_result"), (data,))?;
        }
        Err(e) => {
            fut.call_method1(intern!(py, "set_exception"), (e.value(py),))?;
        }
    }
    Ok(())
}

/// `sock.send(data)` that never blocks: how many bytes went (0 when none could).
#[pyfunction]
pub(crate) fn _sock_send(sock: &Bound<'_, PyAny>, data: &Bound<'_, PyAny>) -> PyResult<usize> {
    let py = sock.py();
    let fd = fileno(sock)?;
    let n = if let Ok(b) = data.downcast::<PyBytes>() {
        let b = b.as_bytes();
        // SAFETY: `b` is a live `bytes` object's buffer (the GIL is held); send(2) reads it.
        unsafe {
            libc::send(
                fd,
                b.as_ptr().cast(),
                b.len(),
                libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
            )
        }
    } else {
        let buf = PyBuffer::<u8>::get(data)?;
        if !buf.is_c_contiguous() {
            return Err(PyValueError::new_err("a contiguous buffer is required"));
        }
        // SAFETY: `buf` holds the exporter's buffer (the view keeps it alive and its size
        // fixed until dropped, after this call); it is C-contiguous, so its `len_bytes` bytes
        // from `buf_ptr` are readable; send(2) only reads them.
        unsafe {
            libc::send(
                fd,
                buf.buf_ptr().cast_const(),
                buf.len_bytes(),
                libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
            )
        }
    };
    if n < 0 {
        let e = errno();
        if would_block(e) {
            return Ok(0);
        }
        return Err(os_error(py, e));
    }
    Ok(n as usize)
}
