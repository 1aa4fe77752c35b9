"""The echo server of the benchmark's Python rows: `python3 echo_server.py uvloop|asyncio`.

Written the way asyncio's users write it (streams: `reader.read`, `writer.write`,
`await writer.drain()`), on uvloop or on asyncio's default loop. It speaks the control protocol
of `control.rs`: its address as the first line of stdout, then `USER_NS SYS_NS ACCEPTED` for
each `stats` line on stdin, and it exits on anything else or at the end of stdin. The control
channel is read by the event loop itself (`add_reader`), so no thread competes for the GIL.
"""

import asyncio
import os
import resource
import sys

BUF = 64 * 1024  # the Rust servers' read size
accepted = 0


async def echo(reader, writer):
    global accepted
    accepted += 1
    try:
        while True:
            data = await reader.read(BUF)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


def stats_line():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return f"{round(ru.ru_utime * 1e9)} {round(ru.ru_stime * 1e9)} {accepted}\n"


def on_control(pending):
    """Answers each complete line on stdin; exits at once (as the Rust children do) on any
    line other than `stats`, or at the end of the input."""
    chunk = os.read(0, 4096)
    if not chunk:
        os._exit(0)
    pending += chunk
    while b"\n" in pending:
        line, _, rest = bytes(pending).partition(b"\n")
        pending[:] = rest
        if line.strip() != b"stats":
            os._exit(0)
        sys.stdout.write(stats_line())
        sys.stdout.flush()


async def main():
    # The same backlog as conductor's servers: 10,000 idle connections arrive in a burst.
    server = await asyncio.start_server(echo, "127.0.0.1", 0, backlog=1024)
    host, port = server.sockets[0].getsockname()[:2]
    print(f"{host}:{port}", flush=True)
    asyncio.get_running_loop().add_reader(0, on_control, bytearray())
    await asyncio.Event().wait()  # forever: on_control ends the process


if __name__ == "__main__":
    os.sched_setaffinity(0, {0})
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if sys.argv[1] == "uvloop":
        import uvloop

        uvloop.run(main())
    else:
        asyncio.run(main())
