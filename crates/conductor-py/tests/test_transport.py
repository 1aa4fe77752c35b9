"""The socket transport's Rust data path (src/transport.rs) on real loopback sockets: what it
does itself (receive into data_received, send at once) and what it leaves to asyncio (a buffer
and flow control, EOF, connection_lost, buffered protocols, errors)."""

import asyncio
import socket

import pytest

import conductor


@pytest.fixture
def loop():
    lp = conductor.new_event_loop()
    yield lp
    lp.close()


class Recorder(asyncio.Protocol):
    def __init__(self):
        self.data = bytearray()
        self.events = []
        self.lost = None

    def connection_made(self, tr):
        self.tr = tr
        self.events.append("made")

    def data_received(self, data):
        assert type(data) is bytes
        self.data += data

    def eof_received(self):
        self.events.append("eof")

    def pause_writing(self):
        self.events.append("pause")

    def resume_writing(self):
        self.events.append("resume")

    def connection_lost(self, exc):
        self.events.append("lost")
        self.lost = exc


async def pair(loop):
    """A conductor transport (client) and a plain socket (the peer)."""
    lsock = socket.create_server(("127.0.0.1", 0))
    port = lsock.getsockname()[1]
    proto = Recorder()
    tr, _ = await loop.create_connection(lambda: proto, "127.0.0.1", port)
    peer, _ = lsock.accept()
    lsock.close()
    peer.setblocking(False)
    return tr, proto, peer


async def recv_exactly(loop, sock, n):
    out = bytearray()
    while len(out) < n:
        out += await loop.sock_recv(sock, n - len(out))
    return bytes(out)


def test_transport_is_conductors_and_an_asyncio_transport(loop):
    async def main():
        tr, proto, peer = await pair(loop)
        assert isinstance(tr, conductor._SocketTransport)
        assert isinstance(tr, asyncio.Transport)
        assert proto.events == ["made"]
        tr.close()
        await asyncio.sleep(0.01)
        assert proto.events == ["made", "lost"] and proto.lost is None
        peer.close()

    loop.run_until_complete(main())


def test_data_both_ways_and_eof(loop):
    async def main():
        tr, proto, peer = await pair(loop)
        tr.write(b"ping")
        tr.write(bytearray(b"-ba"))  # not bytes: asyncio's write
        tr.write(memoryview(b"-mv"))
        assert await recv_exactly(loop, peer, 10) == b"ping-ba-mv"
        await loop.sock_sendall(peer, b"pong" * 1000)
        while len(proto.data) < 4000:
            await asyncio.sleep(0.001)
        assert bytes(proto.data) == b"pong" * 1000
        peer.shutdown(socket.SHUT_WR)
        while "lost" not in proto.events:
            await asyncio.sleep(0.001)
        # eof_received returned None: the transport closes itself, as asyncio's.
        assert proto.events == ["made", "eof", "lost"] and proto.lost is None
        peer.close()

    loop.run_until_complete(main())


def test_data_and_the_peers_close_in_one_event_reach_data_received_and_eof(loop):
    # The peer's data and FIN come in one readiness event: the short read clears only the data
    # readiness (no poll(2) asked), and the kept FIN still brings eof_received, then
    # connection_lost. (Clearing it all would wait forever for an edge that never comes.)
    async def main():
        tr, proto, peer = await pair(loop)
        peer.sendall(b"last words")
        peer.shutdown(socket.SHUT_WR)
        await asyncio.sleep(0.05)  # both in the socket before the loop looks
        for _ in range(1000):
            if "lost" in proto.events:
                break
            await asyncio.sleep(0.001)
        assert bytes(proto.data) == b"last words"
        assert proto.events == ["made", "eof", "lost"]
        peer.close()

    loop.run_until_complete(main())


def test_the_transports_state_is_its_cores_through_asyncios_names(loop):
    async def main():
        tr, proto, peer = await pair(loop)
        assert tr._sock_fd == tr._sock.fileno() == tr._core.sock_fd
        assert tr._protocol is proto and tr._core.protocol is proto
        assert tr._conn_lost == 0 and tr._eof is False and tr._empty_waiter is None
        other = Recorder()
        tr.set_protocol(other)
        assert tr.get_protocol() is other and tr._core.protocol is other
        await loop.sock_sendall(peer, b"to the new protocol")
        while len(other.data) < 19:
            await asyncio.sleep(0.001)
        assert bytes(other.data) == b"to the new protocol" and not proto.data
        tr.close()
        await asyncio.sleep(0.01)
        assert tr._protocol is None and tr._conn_lost == 1
        peer.close()

    loop.run_until_complete(main())


def test_a_write_the_socket_cannot_take_buffers_and_pauses_the_protocol(loop):
    async def main():
        tr, proto, peer = await pair(loop)
        tr.set_write_buffer_limits(high=64 * 1024)
        big = b"x" * (8 * 1024 * 1024)
        tr.write(big)  # far more than the socket buffer: the rest is asyncio's buffer
        assert tr.get_write_buffer_size() > 0
        assert proto.events == ["made", "pause"]
        tr.write(b"tail")  # behind the buffer, in order
        got = await recv_exactly(loop, peer, len(big) + 4)
        assert got == big + b"tail"
        while tr.get_write_buffer_size():
            await asyncio.sleep(0.001)
        assert proto.events == ["made", "pause", "resume"]
        tr.close()
        peer.close()

    loop.run_until_complete(main())


def test_write_after_eof_and_after_close_behave_as_asyncios(loop):
    async def main():
        tr, proto, peer = await pair(loop)
        tr.write_eof()
        with pytest.raises(RuntimeError, match="write_eof"):
            tr.write(b"late")
        assert await loop.sock_recv(peer, 10) == b""
        tr.abort()
        peer.close()
        tr, proto, peer = await pair(loop)
        tr.abort()
        await asyncio.sleep(0.01)
        assert proto.events == ["made", "lost"]
        tr.write(b"after close")  # counted, not sent, no error (asyncio's _conn_lost)
        assert tr._conn_lost == 2
        peer.close()

    loop.run_until_complete(main())


def test_a_reset_connection_reaches_connection_lost_with_the_error(loop):
    async def main():
        tr, proto, peer = await pair(loop)
        # SO_LINGER 0: close sends RST; the transport's next read fails with ECONNRESET.
        peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
        peer.close()
        while "lost" not in proto.events:
            await asyncio.sleep(0.001)
        assert isinstance(proto.lost, ConnectionResetError)
        assert proto.lost.errno is not None

    loop.run_until_complete(main())


def test_an_exception_in_data_received_is_fatal_and_reported(loop):
    seen = []
    loop.set_exception_handler(lambda lp, ctx: seen.append(ctx))

    class Boom(Recorder):
        def data_received(self, data):
            raise ValueError("boom")

    async def main():
        lsock = socket.create_server(("127.0.0.1", 0))
        proto = Boom()
        tr, _ = await loop.create_connection(lambda: proto, *lsock.getsockname())
        peer, _ = lsock.accept()
        lsock.close()
        peer.sendall(b"x")
        while "lost" not in proto.events:
            await asyncio.sleep(0.001)
        assert isinstance(proto.lost, ValueError)
        peer.close()

    loop.run_until_complete(main())
    assert len(seen) == 1
    assert seen[0]["message"] == "Fatal error: protocol.data_received() call failed."


def test_buffered_protocol_and_streams_still_work(loop):
    class Buffered(asyncio.BufferedProtocol):
        def __init__(self):
            self.buf = bytearray(16)
            self.got = bytearray()
            self.done = loop.create_future()

        def get_buffer(self, hint):
            return self.buf

        def buffer_updated(self, n):
            self.got += self.buf[:n]
            if len(self.got) >= 5:
                self.done.set_result(bytes(self.got))

    async def main():
        async def echo(r, w):
            w.write(await r.readexactly(5))
            await w.drain()
            w.close()

        srv = await asyncio.start_server(echo, "127.0.0.1", 0)
        port = srv.sockets[0].getsockname()[1]
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(b"hello")
        assert await r.readexactly(5) == b"hello"
        w.close()
        proto = Buffered()
        tr, _ = await loop.create_connection(lambda: proto, "127.0.0.1", port)
        tr.write(b"12345")
        assert await proto.done == b"12345"
        tr.close()
        srv.close()
        await srv.wait_closed()

    loop.run_until_complete(main())
