//! The socket transport's hot state and data path in Rust (`TransportCore`, the `_core` of
//! `conductor._SocketTransport`, a subclass of asyncio's `_SelectorSocketTransport`).
//!
//! The transport's attributes that the data path reads on every event (`_sock_fd`,
//! `_protocol`, `_conn_lost`, `_eof`, `_empty_waiter`, `_buffer`) live here as plain fields;
//! the Python class maps them with properties, so asyncio's own code (close, abort, EOF, flow
//! control, `connection_lost`, sendfile, TLS), which keeps running unchanged, reads and writes
//! these fields. What is Rust:
//!
//! - `_read_ready`, the transport's reader (asyncio's `_read_ready__data_received`): `recv(2)`
//!   into a reused buffer, one `bytes`, then the protocol's `data_received` (looked up once, when
//!   the protocol is set, as uvloop does). A short read tells the descriptor's readiness that
//!   the socket is drained (`fd::note_drained`), which then needs no `poll(2)`.
//! - `write`: `send(2)` at once when nothing is buffered (asyncio's fast path); every other case
//!   (a partial send, a buffer, EOF, a lost connection, a non-`bytes` argument) is asyncio's own
//!   `write`, with what is left.
//!
//! A buffered protocol (`BufferedProtocol`, asyncio's TLS) reads through asyncio's
//! `_read_ready`.

use std::os::fd::RawFd;

use pyo3::exceptions::{PyKeyboardInterrupt, PySystemExit};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple, PyWeakrefMethods, PyWeakrefReference};
use pyo3::{PyTraverseError, PyVisit};

use crate::sock::{errno, os_error, recv_bytes, would_block};
use crate::{classes, fd};

fn is_exit(py: Python<'_>, e: &PyErr) -> bool {
    e.is_instance_of::<PySystemExit>(py) || e.is_instance_of::<PyKeyboardInterrupt>(py)
}

/// The hot state of one socket transport, and its reader and `write`.
#[pyclass(module = "conductor._conductor")]
pub(crate) struct TransportCore {
    /// The transport (weak: it holds this core).
    tr: Py<PyWeakrefReference>,
    #[pyo3(get, set)]
    sock_fd: RawFd,
    #[pyo3(get, set)]
    conn_lost: i64,
    #[pyo3(get, set)]
    eof: bool,
    #[pyo3(get, set)]
    empty_waiter: Option<Py<PyAny>>,
    /// asyncio's write buffer (a `bytearray` on 3.11, a `deque` on 3.12+): only its length is
    /// read here.
    #[pyo3(get, set)]
    buffer: Option<Py<PyAny>>,
    #[pyo3(get)]
    protocol: Option<Py<PyAny>>,
    /// `protocol.data_received`, or `None` for a buffered protocol (asyncio's reader then).
    data_received: Option<Py<PyAny>>,
    max_size: usize,
}

impl TransportCore {
    /// The transport, if still alive.
    fn transport<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyAny>> {
        self.tr.bind(py).upgrade()
    }

    /// Whether `write(data)` may send at once: `bytes`, nothing buffered, not at EOF, no
    /// sendfile in progress, the connection not lost (asyncio's `write` checks these first).
    fn may_send_now(&self, data: &Bound<'_, PyAny>) -> PyResult<bool> {
        let py = data.py();
        if !data.is_exact_instance_of::<PyBytes>()
            || self.eof
            || self.empty_waiter.is_some()
            || self.conn_lost != 0
        {
            return Ok(false);
        }
        match &self.buffer {
            Some(b) => Ok(b.bind(py).len()? == 0),
            None => Ok(false),
        }
    }
}

/// `tr.method(*args)` on the transport of `core`, if it is alive.
fn call_transport<'py>(
    core: &Bound<'py, TransportCore>,
    method: &Bound<'py, pyo3::types::PyString>,
    args: impl pyo3::call::PyCallArgs<'py>,
) -> PyResult<()> {
    let tr = core.borrow().transport(core.py());
    if let Some(tr) = tr {
        tr.call_method1(method, args)?;
    }
    Ok(())
}

/// `transport._fatal_error(exc, message)`.
fn fatal(core: &Bound<'_, TransportCore>, e: PyErr, message: &str) -> PyResult<()> {
    let py = core.py();
    call_transport(core, intern!(py, "_fatal_error"), (e.value(py), message))
}

#[pymethods]
impl TransportCore {
    #[new]
    fn new(tr: &Bound<'_, PyAny>) -> PyResult<Self> {
        let py = tr.py();
        Ok(TransportCore {
            tr: PyWeakrefReference::new(tr)?.unbind(),
            sock_fd: -1,
            conn_lost: 0,
            eof: false,
            empty_waiter: None,
            buffer: None,
            protocol: None,
            data_received: None,
            max_size: tr.getattr(intern!(py, "max_size"))?.extract()?,
        })
    }

    /// Sets the protocol; `fast` (not a buffered protocol) says the Rust reader serves it.
    fn set_protocol(&mut self, protocol: Option<Bound<'_, PyAny>>, fast: bool) -> PyResult<()> {
        self.data_received = match &protocol {
            Some(p) if fast => Some(p.getattr(intern!(p.py(), "data_received"))?.unbind()),
            _ => None,
        };
        self.protocol = protocol.map(Bound::unbind);
        Ok(())
    }

    /// The transport's reader: asyncio's `_read_ready__data_received`.
    fn _read_ready(slf: &Bound<'_, Self>) -> PyResult<()> {
        let py = slf.py();
        let (fd, max, cb) = {
            let b = slf.borrow();
            let Some(cb) = b.data_received.as_ref() else {
                drop(b);
                return call_transport(slf, intern!(py, "_read_ready"), ());
            };
            if b.conn_lost != 0 {
                return Ok(());
            }
            (b.sock_fd, b.max_size, cb.clone_ref(py).into_bound(py))
        };
        let data = match recv_bytes(py, fd, max, 0) {
            Ok(d) => d,
            Err(e) if would_block(e) => return Ok(()), // `poll(2)` then clears it all
            Err(e) => return fatal(slf, os_error(py, e), "Fatal read error on socket transport"),
        };
        let n = data.as_bytes().len();
        if n == 0 {
            return call_transport(slf, intern!(py, "_read_ready__on_eof"), ());
        }
        if n < max {
            fd::note_drained(fd);
        }
        match cb.call1((data,)) {
            Ok(_) => Ok(()),
            Err(e) if is_exit(py, &e) => Err(e),
            Err(e) => fatal(slf, e, "Fatal error: protocol.data_received() call failed."),
        }
    }

    /// The transport's `write`: `send(2)` at once when nothing is buffered; the rest, and
    /// every other case, through asyncio's `write`.
    fn write(slf: &Bound<'_, Self>, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let py = slf.py();
        let (may, fd) = {
            let b = slf.borrow();
            (b.may_send_now(data)?, b.sock_fd)
        };
        if !may {
            return asyncio_write(slf, data);
        }
        let bytes = data.downcast::<PyBytes>()?.as_bytes();
        if bytes.is_empty() {
            return Ok(());
        }
        // SAFETY: `bytes` is a live `bytes` object's buffer of `bytes.len()` bytes (the GIL is
        // held, nothing can free it); send(2) only reads it.
        let n = unsafe { libc::send(fd, bytes.as_ptr().cast(), bytes.len(), libc::MSG_NOSIGNAL) };
        if n < 0 {
            let e = errno();
            if would_block(e) {
                return asyncio_write(slf, data); // it buffers and waits for the writer
            }
            return fatal(
                slf,
                os_error(py, e),
                "Fatal write error on socket transport",
            );
        }
        let n = n as usize;
        if n == bytes.len() {
            return Ok(());
        }
        asyncio_write(slf, PyBytes::new(py, &bytes[n..]).as_any())
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.empty_waiter)?;
        visit.call(&self.buffer)?;
        visit.call(&self.protocol)?;
        visit.call(&self.data_received)?;
        Ok(())
    }

    fn __clear__(&mut self) {
        self.empty_waiter = None;
        self.buffer = None;
        self.protocol = None;
        self.data_received = None;
    }
}

/// asyncio's `_SelectorSocketTransport.write(tr, data)`.
fn asyncio_write(core: &Bound<'_, TransportCore>, data: &Bound<'_, PyAny>) -> PyResult<()> {
    let py = core.py();
    let Some(tr) = core.borrow().transport(py) else {
        return Ok(());
    };
    classes(py)?
        .transport_write
        .call1(py, PyTuple::new(py, [&tr, data])?)?;
    Ok(())
}
