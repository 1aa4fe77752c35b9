"""conductor-py's own tests: the loop's engine parts, on real sockets and threads."""

import asyncio
import os
import signal
import socket
import sys
import threading
import time

import pytest

import conductor


@pytest.fixture
def loop():
    lp = conductor.new_event_loop()
    yield lp
    lp.close()


def test_is_an_asyncio_loop_with_asyncios_futures_and_tasks(loop):
    assert isinstance(loop, asyncio.AbstractEventLoop)
    fut = loop.create_future()
    assert type(fut) is asyncio.Future

    async def co():
        return 1

    task = loop.create_task(co())
    assert isinstance(task, asyncio.Task)
    assert loop.run_until_complete(task) == 1


def test_call_soon_order_cancel_and_context(loop):
    out = []
    loop.call_soon(out.append, 1)
    loop.call_soon(out.append, 2).cancel()
    h = loop.call_soon(out.append, 3)
    # conductor's Rust Handle (not a subclass of asyncio's, as uvloop's), same interface.
    assert isinstance(h, conductor._conductor.Handle)
    assert not h.cancelled() and h.get_context() is not None
    # asyncio's repr: 3.13 shows the arguments in debug mode only.
    args = "" if sys.version_info >= (3, 13) else "3"
    assert repr(h) == f"<Handle list.append({args})>"
    loop.call_soon(loop.stop)
    loop.run_forever()
    assert out == [1, 3]


def test_timers_fire_in_deadline_order_and_cancel(loop):
    out = []
    t0 = loop.time()
    loop.call_at(t0 + 0.03, out.append, "c")
    loop.call_later(0.01, out.append, "a")
    cancelled = loop.call_later(0.02, out.append, "x")
    assert isinstance(cancelled, conductor._conductor.TimerHandle)
    assert cancelled.when() == pytest.approx(t0 + 0.02, abs=0.01)
    cancelled.cancel()
    assert cancelled.cancelled() and repr(cancelled).startswith("<TimerHandle cancelled when=")
    loop.call_later(0.02, out.append, "b")
    loop.call_later(0.05, loop.stop)
    loop.run_forever()
    assert out == ["a", "b", "c"]
    assert loop.time() - t0 >= 0.05


def test_time_is_monotonics_clock(loop):
    a = time.monotonic()
    b = loop.time()
    c = time.monotonic()
    assert a - 0.001 <= b <= c + 0.001


def test_stop_before_run_forever_runs_one_iteration(loop):
    out = []
    loop.call_soon(out.append, 1)
    loop.stop()
    loop.run_forever()
    assert out == [1]


def test_call_soon_threadsafe_wakes_a_waiting_loop(loop):
    fut = loop.create_future()

    def other():
        time.sleep(0.05)
        loop.call_soon_threadsafe(fut.set_result, threading.get_ident())

    th = threading.Thread(target=other)
    th.start()
    ident = loop.run_until_complete(fut)
    th.join()
    assert ident == th.ident


def test_gil_is_released_while_the_selector_waits(loop):
    # A Python thread makes progress while the loop waits 0.3 s in its selector.
    counter = [0]
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            counter[0] += 1

    th = threading.Thread(target=spin)
    th.start()
    loop.run_until_complete(asyncio.sleep(0.3))
    stop.set()
    th.join()
    assert counter[0] > 1000


def test_keyboard_interrupt_leaves_run_forever_and_the_rest_stays_queued(loop):
    out = []

    def boom():
        raise KeyboardInterrupt

    loop.call_soon(boom)
    loop.call_soon(out.append, "after")
    with pytest.raises(KeyboardInterrupt):
        loop.run_forever()
    assert out == []
    loop.call_soon(loop.stop)
    loop.run_forever()
    assert out == ["after"]


def test_exception_in_callback_goes_to_the_exception_handler(loop):
    seen = []
    loop.set_exception_handler(lambda lp, ctx: seen.append(ctx))

    def bad():
        raise ValueError("x")

    loop.call_soon(bad)
    loop.call_soon(loop.stop)
    loop.run_forever()
    assert len(seen) == 1 and isinstance(seen[0]["exception"], ValueError)


def test_add_reader_is_level_triggered_and_removable(loop):
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    calls = []

    def on_readable():
        calls.append(a.recv(1))  # one byte per call: the rest must fire it again
        if len(calls) == 3:
            assert loop.remove_reader(a)
            loop.call_later(0.05, loop.stop)

    loop.add_reader(a, on_readable)
    b.send(b"xyzw")
    loop.run_forever()
    assert calls == [b"x", b"y", b"z"]
    assert not loop.remove_reader(a)
    a.close()
    b.close()


def test_add_writer_and_reader_on_one_descriptor(loop):
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    got = []

    def writable():
        loop.remove_writer(a)
        a.send(b"ping")

    def readable():
        got.append(b.recv(10))
        loop.remove_reader(b)
        loop.stop()

    loop.add_writer(a, writable)
    loop.add_reader(b, readable)
    loop.run_forever()
    assert got == [b"ping"]
    a.close()
    b.close()


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)


def test_tcp_server_and_client_protocols_and_streams(loop):
    async def main():
        server = await loop.create_server(Echo, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        payload = os.urandom(256 * 1024)
        writer.write(payload)
        await writer.drain()
        echoed = await reader.readexactly(len(payload))
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()
        return echoed == payload

    assert loop.run_until_complete(main())


def test_unix_server_and_sock_methods(loop, tmp_path):
    path = str(tmp_path / "s.sock")

    async def handle(reader, writer):
        writer.write((await reader.readline()).upper())
        await writer.drain()
        writer.close()

    async def main():
        server = await asyncio.start_unix_server(handle, path)
        sock = socket.socket(socket.AF_UNIX)
        sock.setblocking(False)
        await loop.sock_connect(sock, path)
        await loop.sock_sendall(sock, b"hi\n")
        data = await loop.sock_recv(sock, 10)
        sock.close()
        server.close()
        await server.wait_closed()
        return data

    assert loop.run_until_complete(main()) == b"HI\n"


def test_run_in_executor_and_getaddrinfo(loop):
    async def main():
        n = await loop.run_in_executor(None, sum, [1, 2, 3])
        infos = await loop.getaddrinfo("127.0.0.1", 80, type=socket.SOCK_STREAM)
        return n, infos[0][4]

    assert loop.run_until_complete(main()) == (6, ("127.0.0.1", 80))


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="main thread")
def test_add_signal_handler(loop):
    got = []
    loop.add_signal_handler(signal.SIGUSR1, lambda: (got.append(1), loop.stop()))
    loop.call_later(0.01, os.kill, os.getpid(), signal.SIGUSR1)
    loop.run_forever()
    loop.remove_signal_handler(signal.SIGUSR1)
    assert got == [1]


def test_subprocess_exec(loop):
    async def main():
        p = await asyncio.create_subprocess_exec(
            sys.executable, "-c", "print('hi')", stdout=asyncio.subprocess.PIPE
        )
        out, _ = await p.communicate()
        return out, p.returncode

    assert loop.run_until_complete(main()) == (b"hi\n", 0)


def test_run_runner_and_policy():
    async def main():
        return type(asyncio.get_running_loop())

    assert conductor.run(main()) is conductor.Loop
    with asyncio.Runner(loop_factory=conductor.new_event_loop) as r:
        assert r.run(main()) is conductor.Loop
    old = asyncio.get_event_loop_policy()
    try:
        conductor.install()
        assert asyncio.run(main()) is conductor.Loop
    finally:
        asyncio.set_event_loop_policy(old)


def test_other_threads_get_an_error_not_a_crash(loop):
    errors = []

    def other():
        try:
            loop.call_soon(print)
        except RuntimeError as e:
            errors.append(str(e))
        assert loop.is_closed() is False  # the flags are readable from any thread

    th = threading.Thread(target=other)
    th.start()
    th.join()
    assert errors and "thread that created it" in errors[0]


def test_create_task_and_future_in_rust_keep_asyncios_semantics(loop):
    async def co():
        return 7

    fut = loop.create_future()
    assert type(fut) is asyncio.Future and fut.get_loop() is loop
    t = loop.create_task(co(), name="seven")
    assert type(t) is asyncio.Task and t.get_name() == "seven"
    assert loop.run_until_complete(t) == 7
    made = []

    def factory(lp, coro, **kw):
        made.append(kw)
        return asyncio.Task(coro, loop=lp, **kw)

    loop.set_task_factory(factory)
    t = loop.create_task(co(), name="named")
    assert loop.run_until_complete(t) == 7 and t.get_name() == "named" and made == [{}]
    loop.close()
    with pytest.raises(RuntimeError, match="closed"):
        loop.set_task_factory(None)
        c = co()
        try:
            loop.create_task(c)
        finally:
            c.close()
    assert loop.get_debug() is False


def test_a_reader_added_in_a_busy_loop_runs_at_the_next_iterations(loop):
    # A busy loop (a callback that always requeues itself) may skip conductor's selector for a
    # while; a new reader must not wait for that: it runs within a few iterations.
    a, b = socket.socketpair()
    b.send(b"x")
    ticks = [0]
    seen = []

    def spin():
        ticks[0] += 1
        if ticks[0] < 10_000 and not seen:
            loop.call_soon(spin)
        else:
            loop.stop()

    def on_read():
        seen.append(ticks[0])
        loop.remove_reader(a)

    loop.call_soon(spin)
    loop.call_soon(loop.add_reader, a, on_read)
    loop.run_forever()
    a.close()
    b.close()
    assert seen and seen[0] <= 3, seen


def test_debug_mode_logs_slow_callbacks(loop, caplog):
    loop.set_debug(True)
    loop.slow_callback_duration = 0.0
    loop.call_soon(time.sleep, 0.001)
    loop.call_soon(loop.stop)
    with caplog.at_level("WARNING", logger="asyncio"):
        loop.run_forever()
    assert any("Executing <Handle sleep(0.001)" in r.getMessage() for r in caplog.records)
