"""sock_recv and sock_sendall with their system calls in Rust (src/sock.rs): the data, EOF,
waiting for data, a large send the socket cannot take at once, errors, bad arguments; the
same answers as asyncio's own loop gives (each test runs on both)."""

import asyncio
import socket

import pytest

import conductor


@pytest.fixture(params=["conductor", "asyncio"])
def loop(request):
    lp = conductor.new_event_loop() if request.param == "conductor" else asyncio.new_event_loop()
    yield lp
    lp.close()


def pair():
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    return a, b


def test_recv_what_is_there_then_wait_for_more_then_eof(loop):
    async def main():
        a, b = pair()
        with a, b:
            a.send(b"ready")
            assert await loop.sock_recv(b, 100) == b"ready"  # no wait
            assert await loop.sock_recv(b, 0) == b""
            waiting = asyncio.ensure_future(loop.sock_recv(b, 3))
            await asyncio.sleep(0.01)
            assert not waiting.done()
            await loop.sock_sendall(a, bytearray(b"later"))
            assert await waiting == b"lat"  # at most n
            assert await loop.sock_recv(b, 100) == b"er"
            a.shutdown(socket.SHUT_WR)
            assert await loop.sock_recv(b, 100) == b""

    loop.run_until_complete(main())


def test_sendall_of_more_than_the_socket_takes_arrives_whole(loop):
    async def main():
        a, b = pair()
        with a, b:
            big = bytes(range(256)) * 40_000  # ~10 MB: many partial sends
            send = asyncio.ensure_future(loop.sock_sendall(a, memoryview(big)))
            got = bytearray()
            while len(got) < len(big):
                got += await loop.sock_recv(b, 1 << 20)
            await send
            assert got == big

    loop.run_until_complete(main())


def test_errors_are_asyncios(loop):
    async def main():
        a, b = pair()
        b.close()
        with pytest.raises(BrokenPipeError):
            for _ in range(100):  # the first send may still land in the buffer
                await loop.sock_sendall(a, b"x" * 65536)
        a.close()
        with pytest.raises(OSError):
            await loop.sock_recv(a, 10)  # closed: fileno() is -1
        c, d = pair()
        with c, d:
            with pytest.raises(ValueError):
                await loop.sock_recv(c, -1)
            with pytest.raises(TypeError):
                await loop.sock_sendall(c, "text")

    loop.run_until_complete(main())


def test_a_cancelled_recv_leaves_no_reader(loop):
    async def main():
        a, b = pair()
        with a, b:
            t = asyncio.ensure_future(loop.sock_recv(b, 10))
            await asyncio.sleep(0.01)
            t.cancel()
            with pytest.raises(asyncio.CancelledError):
                await t
            await asyncio.sleep(0)
            assert not loop.remove_reader(b.fileno())
            a.send(b"next")
            assert await loop.sock_recv(b, 10) == b"next"

    loop.run_until_complete(main())


def test_a_descriptor_closed_and_reused_while_idle_gets_a_new_registration(loop):
    # remove_reader leaves conductor's registration until the iteration's end (reused by the
    # next add_reader); a socket closed in between and a new one on the same number must not
    # inherit it (the kernel dropped it with the old file): the new reader still fires.
    async def main():
        a, b = pair()
        fd = b.fileno()
        loop.add_reader(fd, lambda: None)
        assert loop.remove_reader(fd)
        b.close()
        c, d = pair()
        with a, c, d:
            if c.fileno() != fd:
                c, d = d, c
            assert c.fileno() == fd  # the number was reused (lowest free)
            got = loop.create_future()
            loop.add_reader(fd, lambda: got.done() or got.set_result(c.recv(10)))
            d.send(b"new file")
            assert await asyncio.wait_for(got, 5) == b"new file"
            loop.remove_reader(fd)

    loop.run_until_complete(main())
