"""Loop benchmarks beside asyncio's default loop, uvloop and rloop (those two if installed:
pip install uvloop rloop; the HTTP row needs aiohttp). One command, one run, every loop in turn:

    target/py311/bin/python crates/conductor-py/bench/bench.py [--quick]

Not part of CI. Rows:
- call_soon, call_later, sleep(0) throughput; 10k tasks gathered; pyperformance's async_tree
  ("none": a gather tree of 6 levels of 6 branches; "io": the same with asyncio.sleep(0.005)
  leaves), in this process;
- uvloop's echo benchmark (vmbench's echo server, its three modes: protocols, streams, sockets;
  1 KiB and 16 KiB messages) and an HTTP hello through aiohttp's server: the server runs on the
  loop under test in a child process; the client (uvloop if installed, else asyncio's loop) in
  another, with 4 connections doing request/response. Requests/s, and requests per second of
  the server's CPU time (user + system, the scheduler's nanoseconds from /proc): the server's cost, whatever the client's.
Each cell: the rate, and its ratio to asyncio's loop in the same run.
"""

import asyncio
import importlib
import importlib.util
import os
import socket
import subprocess
import sys
import time

N = 200_000
LOOPS = ("asyncio", "conductor", "uvloop", "rloop")


def loop_factory(name):
    if name == "asyncio":
        return asyncio.new_event_loop
    return importlib.import_module(name).new_event_loop


def available():
    for name in LOOPS:
        try:
            loop_factory(name)
        except ImportError:
            continue
        yield name


# -- in-process rows ------------------------------------------------------------------------


async def call_soon_bench():
    loop = asyncio.get_running_loop()
    fut = loop.create_future()
    left = [N]

    def cb():
        left[0] -= 1
        if left[0] == 0:
            fut.set_result(None)

    t = time.perf_counter()
    for _ in range(N):
        loop.call_soon(cb)
    await fut
    return N / (time.perf_counter() - t)


async def call_later_bench():
    loop = asyncio.get_running_loop()
    fut = loop.create_future()
    left = [N]

    def cb():
        left[0] -= 1
        if left[0] == 0:
            fut.set_result(None)

    t = time.perf_counter()
    for i in range(N):
        loop.call_later((i % 100) * 0.0001, cb)
    await fut
    return N / (time.perf_counter() - t)


async def sleep0_bench():
    t = time.perf_counter()
    for _ in range(N):
        await asyncio.sleep(0)
    return N / (time.perf_counter() - t)


async def tasks_bench():
    async def one():
        await asyncio.sleep(0)
        await asyncio.sleep(0)

    n = 10_000
    t = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(n)))
    return n / (time.perf_counter() - t)


def async_tree(leaf):
    # pyperformance's bm_async_tree: NUM_RECURSE_LEVELS = 6, NUM_RECURSE_BRANCHES = 6.
    async def node(level):
        if level == 0:
            await leaf()
            return
        await asyncio.gather(*(node(level - 1) for _ in range(6)))

    async def bench():
        t = time.perf_counter()
        await node(6)
        return 6**6 / (time.perf_counter() - t)

    return bench


async def _nothing():
    pass


async def _io():
    await asyncio.sleep(0.005)


INPROC = [
    ("call_soon (callbacks/s)", call_soon_bench),
    ("call_later (callbacks/s)", call_later_bench),
    ("sleep(0) loop (iterations/s)", sleep0_bench),
    ("10k tasks gather (tasks/s)", tasks_bench),
    ("async_tree none (leaves/s)", async_tree(_nothing)),
    ("async_tree io (leaves/s)", async_tree(_io)),
]


# -- servers (child process, on the loop under test) ------------------------------------------


class EchoProtocol(asyncio.Protocol):
    def connection_made(self, tr):
        self.tr = tr

    def data_received(self, data):
        self.tr.write(data)


async def echo_streams(reader, writer):
    while True:
        data = await reader.read(102400)
        if not data:
            break
        writer.write(data)
        await writer.drain()
    writer.close()


async def echo_sockets_client(loop, sock):
    with sock:
        while True:
            data = await loop.sock_recv(sock, 102400)
            if not data:
                break
            await loop.sock_sendall(sock, data)


async def echo_sockets_server(loop, lsock):
    while True:
        sock, _ = await loop.sock_accept(lsock)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        loop.create_task(echo_sockets_client(loop, sock))


async def serve(mode):
    loop = asyncio.get_running_loop()
    if mode == "protocols":
        srv = await loop.create_server(EchoProtocol, "127.0.0.1", 0)
        port = srv.sockets[0].getsockname()[1]
    elif mode == "streams":
        srv = await asyncio.start_server(echo_streams, "127.0.0.1", 0, limit=1024 * 1024)
        port = srv.sockets[0].getsockname()[1]
    elif mode == "sockets":
        lsock = socket.create_server(("127.0.0.1", 0))
        lsock.setblocking(False)
        port = lsock.getsockname()[1]
        loop.create_task(echo_sockets_server(loop, lsock))
    elif mode == "http":
        from aiohttp import web

        async def hello(request):
            return web.Response(text="Hello, World!")

        app = web.Application()
        app.router.add_get("/", hello)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
    print(port, flush=True)
    await loop.create_future()  # until killed


# -- the client (child process, uvloop if installed) ----------------------------------------


class EchoClient(asyncio.Protocol):
    def __init__(self, msg, n, done):
        self.msg, self.n, self.done, self.got = msg, n, done, 0

    def connection_made(self, tr):
        self.tr = tr
        tr.write(self.msg)

    def data_received(self, data):
        self.got += len(data)
        if self.got >= len(self.msg):
            self.got -= len(self.msg)
            self.n -= 1
            if self.n == 0:
                self.done.set_result(None)
            else:
                self.tr.write(self.msg)


class HttpClient(EchoClient):
    REQ = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

    def __init__(self, n, done):
        super().__init__(self.REQ, n, done)
        self.buf = b""

    def data_received(self, data):
        self.buf += data
        # One response per request: headers, then a 13-byte body ("Hello, World!").
        while b"\r\n\r\n" in self.buf:
            head, _, rest = self.buf.partition(b"\r\n\r\n")
            if len(rest) < 13:
                return
            self.buf = rest[13:]
            self.n -= 1
            if self.n == 0:
                self.done.set_result(None)
                return
            self.tr.write(self.REQ)


async def client(port, mode, size, total, conns):
    loop = asyncio.get_running_loop()
    dones = []
    for _ in range(conns):
        done = loop.create_future()
        dones.append(done)
        if mode == "http":
            proto = lambda d=done: HttpClient(total // conns, d)  # noqa: E731
        else:
            proto = lambda d=done: EchoClient(b"x" * size, total // conns, d)  # noqa: E731
        await loop.create_connection(proto, "127.0.0.1", port)
    await asyncio.gather(*dones)


def cpu_seconds(pid):
    # The scheduler's run time of the process's threads (user + system, in nanoseconds; uvloop's
    # has libuv's pool too): /proc/PID/stat's clock ticks (10 ms) are a few percent of a row's
    # 0.3 s. /proc/PID/stat where schedstat is missing.
    try:
        ns = 0
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                ns += int(f.read().split()[0])
        return ns / 1e9
    except OSError:
        pass
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def client_loop():
    try:
        return loop_factory("uvloop")
    except ImportError:
        return asyncio.new_event_loop


def remote_row(loop_name, mode, size, total, conns=4):
    srv = subprocess.Popen(
        [sys.executable, __file__, "serve", loop_name, mode], stdout=subprocess.PIPE, text=True
    )
    try:
        port = int(srv.stdout.readline())
        # Warm up (connections, caches), then measure.
        cli = [sys.executable, __file__, "client", str(port), mode, str(size)]
        subprocess.run(cli + [str(total // 10), str(conns)], check=True)
        cpu0, t0 = cpu_seconds(srv.pid), time.perf_counter()
        subprocess.run(cli + [str(total), str(conns)], check=True)
        wall, cpu = time.perf_counter() - t0, cpu_seconds(srv.pid) - cpu0
    finally:
        srv.kill()
        srv.wait()
    return total / wall, total / max(cpu, 1e-3)


REMOTE = [
    ("echo protocols 1 KiB", "protocols", 1024),
    ("echo protocols 16 KiB", "protocols", 16 * 1024),
    ("echo streams 1 KiB", "streams", 1024),
    ("echo streams 16 KiB", "streams", 16 * 1024),
    ("echo sockets 1 KiB", "sockets", 1024),
    ("echo sockets 16 KiB", "sockets", 16 * 1024),
    ("HTTP hello, aiohttp", "http", 0),
]


def table(names, rows, results):
    print("| benchmark | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for row in rows:
        base = results[("asyncio", row)]
        cells = [f"{results[(n, row)]:,.0f} ({results[(n, row)] / base:.2f}x)" for n in names]
        print(f"| {row} | " + " | ".join(cells) + " |")


def main():
    quick = "--quick" in sys.argv
    total = 20_000 if quick else 100_000
    names = list(available())
    res = {}
    for name in names:
        for row, fn in INPROC:
            with asyncio.Runner(loop_factory=loop_factory(name)) as r:
                res[(name, row)] = r.run(fn())
    for name in names:
        for row, mode, size in REMOTE:
            if mode == "http" and importlib.util.find_spec("aiohttp") is None:
                continue
            n = total // 5 if mode == "http" else total
            rate, per_cpu = remote_row(name, mode, size, n)
            res[(name, row + " (req/s)")] = rate
            res[(name, row + " (req per server CPU s)")] = per_cpu
    rows = [r for r, _ in INPROC]
    for row, _, _ in REMOTE:
        if ("asyncio", row + " (req/s)") in res:
            rows += [row + " (req/s)", row + " (req per server CPU s)"]
    table(names, rows, res)


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        with asyncio.Runner(loop_factory=loop_factory(sys.argv[2])) as r:
            r.run(serve(sys.argv[3]))
    elif sys.argv[1:2] == ["client"]:
        port, mode, size, total, conns = sys.argv[2:7]
        with asyncio.Runner(loop_factory=client_loop()) as r:
            r.run(client(int(port), mode, int(size), int(total), int(conns)))
    else:
        main()
