"""conductor for Python: a drop-in asyncio event loop on conductor's engine (Rust).

    import conductor
    conductor.run(main())                      # asyncio.run(main()) on conductor's loop
    conductor.install()                        # or: make it asyncio's default policy
    asyncio.Runner(loop_factory=conductor.new_event_loop)

What runs on conductor's engine (the Rust extension, ``conductor._conductor.LoopCore``):
the ready queue (``call_soon``), the timers (``call_at``/``call_later``), the loop iteration
with the GIL released while the selector waits, readiness (``add_reader``/``add_writer``, on
which every transport, server and ``sock_*`` method runs) and wakes from other threads
(``call_soon_threadsafe``), the socket transport's data path and the system calls of
``sock_recv``/``sock_sendall``. What is asyncio's own Python code, inherited from
``asyncio.SelectorEventLoop``: Future and Task (asyncio's, so ``isinstance`` holds), the
transports and protocols, servers, ``sock_*``, streams, executors, signals, subprocesses, the
exception handler, ``shutdown_asyncgens``. docs/asyncio-mapping.md says where it differs.
"""

import asyncio
import functools
import logging
import operator
import selectors
import sys
import threading
from asyncio import base_events, events, format_helpers, selector_events, unix_events

from . import _conductor

__all__ = ("Loop", "EventLoopPolicy", "new_event_loop", "install", "run")

_logger = logging.getLogger("asyncio")


def _log_slow(handle, dt):
    _logger.warning("Executing %s took %.3f seconds", base_events._format_handle(handle), dt)


def _extract_stack():
    # Frame 1 is the Python code that called call_soon/call_at (those are Rust, no frame).
    return format_helpers.extract_stack(sys._getframe(1))


def _format_callback_source(h):
    if sys.version_info >= (3, 13):  # 3.13 shows the arguments in debug mode only
        return format_helpers._format_callback_source(
            h._callback, h._args, debug=h._loop.get_debug()
        )
    return format_helpers._format_callback_source(h._callback, h._args)


def _handle_repr(h):
    # asyncio's Handle.__repr__ and TimerHandle._repr_info, for conductor's Rust handles.
    info = [type(h).__name__]
    if h._cancelled:
        info.append("cancelled")
    if h._callback is not None:
        info.append(_format_callback_source(h))
    if h._source_traceback:
        frame = h._source_traceback[-1]
        info.append(f"created at {frame[0]}:{frame[1]}")
    if isinstance(h, _conductor.TimerHandle):
        info.insert(2 if h._cancelled else 1, f"when={h._when}")
    return "<{}>".format(" ".join(info))


_conductor._setup(
    _log_slow, _extract_stack, _handle_repr, selector_events._SelectorSocketTransport.write
)


def _core_attr(name):
    """A transport attribute kept in its Rust core (read there on every event)."""

    def set_(self, value):
        setattr(self._core, name, value)

    return property(operator.attrgetter("_core." + name), set_)


class _SocketTransport(selector_events._SelectorSocketTransport):
    """asyncio's socket transport with its hot state and data path in Rust (src/transport.rs,
    ``self._core``): the reader receives and calls ``data_received`` from Rust, ``write``
    sends at once from Rust when nothing is buffered; the rest is asyncio's code, which reads
    and writes the core's fields through the properties below."""

    _sock_fd = _core_attr("sock_fd")
    _conn_lost = _core_attr("conn_lost")
    _eof = _core_attr("eof")
    _empty_waiter = _core_attr("empty_waiter")
    _buffer = _core_attr("buffer")

    def __init__(self, *args, **kwargs):
        self._core = _conductor.TransportCore(self)
        super().__init__(*args, **kwargs)
        # An instance attribute: `tr.write(data)` calls Rust with no Python frame.
        self.write = self._core.write

    @property
    def _protocol(self):
        return self._core.protocol

    @_protocol.setter
    def _protocol(self, protocol):
        fast = protocol is not None and not isinstance(protocol, asyncio.BufferedProtocol)
        self._core.set_protocol(protocol, fast)

    def _add_reader(self, fd, callback, *args):
        if callback == self._read_ready:
            callback = self._core._read_ready
        super()._add_reader(fd, callback, *args)


_ThreadSafeHandle = getattr(events, "_ThreadSafeHandle", events.Handle)


class _NoSelector:
    """Stands where asyncio's selector was: readiness lives in conductor's engine. Answers the
    look-ups asyncio's transports make for their repr."""

    def __init__(self, loop):
        self._loop = loop

    def get_key(self, fd):
        key = self._loop._core_get_key(selectors._fileobj_to_fd(fd))
        if key is None:
            raise KeyError(fd)
        reader, writer = key
        events_ = (selectors.EVENT_READ if reader is not None else 0) | (
            selectors.EVENT_WRITE if writer is not None else 0
        )
        return selectors.SelectorKey(fd, fd, events_, (reader, writer))

    def get_map(self):
        return {}

    def close(self):
        pass


class Loop(_conductor.LoopCore, unix_events.SelectorEventLoop):
    """asyncio's event loop on conductor's engine."""

    def __init__(self):
        self._remote = self._core_remote()
        self._owner = threading.get_ident()
        super().__init__(selector=_NoSelector(self))

    # -- the engine's parts asyncio reaches through private names -------------------------

    def _timer_handle_cancelled(self, handle):
        # conductor's TimerHandle.cancel takes its timer off the wheel itself.
        pass

    def call_soon_threadsafe(self, callback, *args, context=None):
        self._check_closed()
        if self._debug:
            self._check_callback(callback, "call_soon_threadsafe")
        handle = _ThreadSafeHandle(callback, args, self, context)
        if handle._source_traceback:
            del handle._source_traceback[-1]
        if threading.get_ident() == self._owner:
            # On the loop's own thread (a signal handler, a callback): the local ready queue,
            # after what call_soon queued before, as asyncio's one deque keeps them.
            self._add_callback(handle)
        else:
            self._remote.call_soon(handle)
        return handle

    def run_forever(self):
        """Run until stop() is called: asyncio's set-up and clean-up around the iterations,
        which run in Rust (`_core_run_forever`) rather than a Python `while` over `_run_once`."""
        if hasattr(base_events.BaseEventLoop, "_run_forever_setup"):  # 3.13+
            try:
                self._run_forever_setup()
                self._core_run_forever()
            finally:
                self._run_forever_cleanup()
            return
        # 3.11 and 3.12's run_forever, with the loop of `_run_once` calls in Rust.
        self._check_closed()
        self._check_running()
        self._set_coroutine_origin_tracking(self._debug)
        old_agen_hooks = sys.get_asyncgen_hooks()
        try:
            self._thread_id = threading.get_ident()
            sys.set_asyncgen_hooks(
                firstiter=self._asyncgen_firstiter_hook,
                finalizer=self._asyncgen_finalizer_hook,
            )
            events._set_running_loop(self)
            self._core_run_forever()
        finally:
            self._stopping = False
            self._thread_id = None
            events._set_running_loop(None)
            self._set_coroutine_origin_tracking(False)
            sys.set_asyncgen_hooks(*old_agen_hooks)

    def _write_to_self(self):
        # Signal delivery (`_add_callback_signalsafe`) wakes the loop through the self-pipe,
        # which is a reader on conductor's selector; other wakes use the remote queue.
        csock = self._csock
        if csock is None:
            return
        try:
            csock.send(b"\0")
        except OSError:
            pass

    def _add_reader(self, fd, callback, *args):
        self._check_closed()
        handle = _conductor.Handle(callback, args, self, None)
        self._core_set_reader(selectors._fileobj_to_fd(fd), handle)
        return handle

    def _remove_reader(self, fd):
        if self.is_closed():
            return False
        return self._core_remove_reader(selectors._fileobj_to_fd(fd))

    def _add_writer(self, fd, callback, *args):
        self._check_closed()
        handle = _conductor.Handle(callback, args, self, None)
        self._core_set_writer(selectors._fileobj_to_fd(fd), handle)
        return handle

    def _remove_writer(self, fd):
        if self.is_closed():
            return False
        return self._core_remove_writer(selectors._fileobj_to_fd(fd))

    # -- sock_recv and sock_sendall: asyncio's, with their system calls in Rust (src/sock.rs)

    async def sock_recv(self, sock, n):
        base_events._check_ssl_socket(sock)
        if self._debug and sock.gettimeout() != 0:
            raise ValueError("the socket must be non-blocking")
        data = _conductor._sock_recv(sock, n)
        if data is not None:
            return data
        fut = self.create_future()
        fd = sock.fileno()
        self._ensure_fd_no_transport(fd)
        handle = self._add_reader(fd, _conductor._sock_recv_ready, fut, sock, n)
        fut.add_done_callback(functools.partial(self._sock_read_done, fd, handle=handle))
        return await fut

    async def sock_sendall(self, sock, data):
        base_events._check_ssl_socket(sock)
        if self._debug and sock.gettimeout() != 0:
            raise ValueError("the socket must be non-blocking")
        n = _conductor._sock_send(sock, data)
        if n == len(data):
            return
        fut = self.create_future()
        fd = sock.fileno()
        self._ensure_fd_no_transport(fd)
        handle = self._add_writer(fd, self._sock_sendall, fut, sock, memoryview(data), [n])
        fut.add_done_callback(functools.partial(self._sock_write_done, fd, handle=handle))
        return await fut

    def _make_socket_transport(self, sock, protocol, waiter=None, *, extra=None, server=None):
        if hasattr(self, "_ensure_fd_no_transport"):  # 3.12+
            self._ensure_fd_no_transport(sock)
        return _SocketTransport(self, sock, protocol, waiter, extra, server)

    def _process_events(self, event_list):
        raise AssertionError("conductor's engine runs the callbacks of ready descriptors")

    def close(self):
        if self.is_running():
            raise RuntimeError("Cannot close a running event loop")
        if self.is_closed():
            return
        try:
            super().close()
        finally:
            self._core_close()


def new_event_loop():
    """A new conductor event loop (asyncio.new_event_loop's counterpart)."""
    return Loop()


class EventLoopPolicy(unix_events.DefaultEventLoopPolicy):
    """asyncio's default policy (child watchers included on 3.11 and 3.12), making conductor
    loops."""

    _loop_factory = Loop


def install():
    """Makes conductor's loop asyncio's default (asyncio.set_event_loop_policy)."""
    asyncio.set_event_loop_policy(EventLoopPolicy())


def run(main, *, debug=None):
    """asyncio.run(main) on a conductor loop."""
    with asyncio.Runner(debug=debug, loop_factory=new_event_loop) as runner:
        return runner.run(main)
