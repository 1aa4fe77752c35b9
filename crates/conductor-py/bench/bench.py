"""Loop micro-benchmarks beside asyncio's default loop, uvloop and rloop (those two if
installed: pip install uvloop rloop). One command, one run, ratios to asyncio's loop:

    target/py311/bin/python crates/conductor-py/bench/bench.py

Not part of CI. Rows: call_soon throughput, a sleep(0) loop, many tasks (gather of 10k
coroutines that each sleep(0) twice), and a TCP echo (protocols mode, 1 KiB messages, one client
connection, request/response) on loopback.
"""

import asyncio
import importlib
import time

import conductor

N = 200_000


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


class Echo(asyncio.Protocol):
    def connection_made(self, tr):
        self.tr = tr

    def data_received(self, data):
        self.tr.write(data)


class Client(asyncio.Protocol):
    def __init__(self, n, size, done):
        self.n, self.size, self.done, self.got = n, size, done, 0
        self.msg = b"x" * size

    def connection_made(self, tr):
        self.tr = tr
        tr.write(self.msg)

    def data_received(self, data):
        self.got += len(data)
        if self.got >= self.size:
            self.got -= self.size
            self.n -= 1
            if self.n == 0:
                self.done.set_result(None)
            else:
                self.tr.write(self.msg)


async def echo_bench():
    loop = asyncio.get_running_loop()
    srv = await loop.create_server(Echo, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    n = 20_000
    done = loop.create_future()
    t = time.perf_counter()
    tr, _ = await loop.create_connection(lambda: Client(n, 1024, done), "127.0.0.1", port)
    await done
    rate = n / (time.perf_counter() - t)
    tr.close()
    srv.close()
    await srv.wait_closed()
    return rate


BENCHES = [
    ("call_soon (callbacks/s)", call_soon_bench),
    ("sleep(0) loop (iterations/s)", sleep0_bench),
    ("10k tasks gather (tasks/s)", tasks_bench),
    ("echo protocols 1 KiB (req/s)", echo_bench),
]


def loops():
    yield "asyncio", asyncio.new_event_loop
    yield "conductor", conductor.new_event_loop
    for mod in ("uvloop", "rloop"):
        try:
            m = importlib.import_module(mod)
        except ImportError:
            continue
        yield mod, m.new_event_loop


def main():
    results = {}
    for name, factory in loops():
        for bname, fn in BENCHES:
            with asyncio.Runner(loop_factory=factory) as r:
                results[(name, bname)] = r.run(fn())
    names = [n for n, _ in loops()]
    print("| benchmark | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for bname, _ in BENCHES:
        base = results[("asyncio", bname)]
        cells = [f"{results[(n, bname)]:,.0f} ({results[(n, bname)] / base:.2f}x)" for n in names]
        print(f"| {bname} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
