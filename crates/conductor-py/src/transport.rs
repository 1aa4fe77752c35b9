//! The data path of asyncio's socket transport in Rust (`conductor._SocketTransport`, a
//! subclass of asyncio's `_SelectorSocketTransport`, keeps everything else: close, abort, EOF,
//! flow control, `connection_lost`, sendfile, TLS). `read_ready` is the transport's reader
//! (asyncio's `_read_ready__data_received`): `recv(2)` into a reused buffer, one `bytes`, then
//! `Protocol.data_received`. `write` tries `send(2)` at once when nothing is buffered (asyncio's
//! fast path); every other case (a partial send, a buffer, EOF, a lost connection, a non-`bytes`
//! argument, a buffered protocol) is asyncio's own Python code, so the semantics stay asyncio's.

use std::cell::RefCell;
use std::os::fd::RawFd;

use pyo3::exceptions::{PyKeyboardInterrupt, PyOSError, PySystemExit};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};

use crate::classes;

thread_local! {
    /// The receive buffer, reused by every read of this thread (asyncio's `max_size`, 256 KiB).
    static RECV_BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The `OSError` (its errno's subclass, as `socket.recv` raises it) for `errno`.
fn os_error(py: Python<'_>, errno: i32) -> PyErr {
    let msg = std::io::Error::from_raw_os_error(errno).to_string();
    // std says "... (os error N)"; Python's strerror is the text before it.
    let msg = msg.split(" (os error").next().unwrap_or("").to_owned();
    match py.get_type::<PyOSError>().call1((errno, msg)) {
        Ok(e) => PyErr::from_value(e),
        Err(e) => e,
    }
}

fn is_exit(py: Python<'_>, e: &PyErr) -> bool {
    e.is_instance_of::<PySystemExit>(py) || e.is_instance_of::<PyKeyboardInterrupt>(py)
}

/// `transport._fatal_error(exc, message)`.
fn fatal(tr: &Bound<'_, PyAny>, e: PyErr, message: &str) -> PyResult<()> {
    let py = tr.py();
    tr.call_method1(intern!(py, "_fatal_error"), (e.value(py), message))?;
    Ok(())
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn would_block(e: i32) -> bool {
    e == libc::EAGAIN || e == libc::EWOULDBLOCK || e == libc::EINTR
}

/// The transport's reader: asyncio's `_read_ready__data_received`.
#[pyfunction]
pub(crate) fn _transport_read(tr: &Bound<'_, PyAny>) -> PyResult<()> {
    let py = tr.py();
    if !tr.getattr(intern!(py, "_fast_read"))?.is_truthy()? {
        tr.call_method0(intern!(py, "_read_ready"))?; // a BufferedProtocol: asyncio's
        return Ok(());
    }
    if tr.getattr(intern!(py, "_conn_lost"))?.is_truthy()? {
        return Ok(());
    }
    let fd: RawFd = tr.getattr(intern!(py, "_sock_fd"))?.extract()?;
    let max: usize = tr.getattr(intern!(py, "max_size"))?.extract()?;
    let got = RECV_BUF.with(|b| {
        let mut b = b.borrow_mut();
        if b.len() < max {
            b.resize(max, 0);
        }
        // SAFETY: `b` has at least `max` writable bytes; recv(2) writes at most that many.
        let n = unsafe { libc::recv(fd, b.as_mut_ptr().cast(), max, 0) };
        if n < 0 {
            Err(errno())
        } else {
            Ok(PyBytes::new(py, &b[..n as usize]))
        }
    });
    let data = match got {
        Ok(d) => d,
        Err(e) if would_block(e) => return Ok(()),
        Err(e) => return fatal(tr, os_error(py, e), "Fatal read error on socket transport"),
    };
    if data.as_bytes().is_empty() {
        tr.call_method0(intern!(py, "_read_ready__on_eof"))?;
        return Ok(());
    }
    let proto = tr.getattr(intern!(py, "_protocol"))?;
    match proto.call_method1(intern!(py, "data_received"), (data,)) {
        Ok(_) => Ok(()),
        Err(e) if is_exit(py, &e) => Err(e),
        Err(e) => fatal(tr, e, "Fatal error: protocol.data_received() call failed."),
    }
}

/// asyncio's `_SelectorSocketTransport.write(tr, data)`.
fn asyncio_write(tr: &Bound<'_, PyAny>, data: &Bound<'_, PyAny>) -> PyResult<()> {
    let py = tr.py();
    classes(py)?
        .transport_write
        .call1(py, PyTuple::new(py, [tr, data])?)?;
    Ok(())
}

/// Whether `write` may send at once: `bytes`, nothing buffered, not at EOF, no sendfile in
/// progress, the connection not lost (asyncio's write checks these, in this order, first).
fn may_send_now(tr: &Bound<'_, PyAny>, data: &Bound<'_, PyAny>) -> PyResult<bool> {
    let py = tr.py();
    Ok(data.is_exact_instance_of::<PyBytes>()
        && !tr.getattr(intern!(py, "_eof"))?.is_truthy()?
        && tr.getattr(intern!(py, "_empty_waiter"))?.is_none()
        && !tr.getattr(intern!(py, "_conn_lost"))?.is_truthy()?
        && tr.getattr(intern!(py, "_buffer"))?.len()? == 0)
}

/// The transport's `write`: `send(2)` at once when nothing is buffered; the rest, and every
/// other case, through asyncio's `write`.
#[pyfunction]
pub(crate) fn _transport_write(tr: &Bound<'_, PyAny>, data: &Bound<'_, PyAny>) -> PyResult<()> {
    let py = tr.py();
    if !may_send_now(tr, data)? {
        return asyncio_write(tr, data);
    }
    let bytes = data.downcast::<PyBytes>()?.as_bytes();
    if bytes.is_empty() {
        return Ok(());
    }
    let fd: RawFd = tr.getattr(intern!(py, "_sock_fd"))?.extract()?;
    // SAFETY: `bytes` is a live `bytes` object's buffer of `bytes.len()` bytes (the GIL is
    // held, nothing can free it); send(2) only reads it.
    let n = unsafe { libc::send(fd, bytes.as_ptr().cast(), bytes.len(), 0) };
    if n < 0 {
        let e = errno();
        if would_block(e) {
            return asyncio_write(tr, data); // it buffers and waits for the writer
        }
        return fatal(tr, os_error(py, e), "Fatal write error on socket transport");
    }
    let n = n as usize;
    if n == bytes.len() {
        return Ok(());
    }
    asyncio_write(tr, PyBytes::new(py, &bytes[n..]).as_any())
}
