"""The HTTP benchmark's aiohttp row: `python3 aiohttp_server.py`.

aiohttp.web as its users write it, the same two routes as the Rust servers (`/`: hello,
`/json`: the same 1 KiB document, serialised per request), on asyncio's default loop (or uvloop
with the argument `uvloop`). It speaks the control protocol of `control.rs`: its address as the
first line of stdout, then `USER_NS SYS_NS ACCEPTED` for each `stats` line on stdin; it exits
on anything else or at the end of stdin. The loop itself reads the control channel.
"""

import asyncio
import os
import resource
import sys

from aiohttp import web

HELLO = "Hello, World!"


def payload():
    items = [
        {
            "id": 1000 + i,
            "name": "conductor benchmark item",
            "price_cents": 1999 + i * 7,
            "in_stock": i % 3 != 0,
        }
        for i in range(12)
    ]
    return {"status": "ok", "count": len(items), "items": items}


async def hello(request):
    return web.Response(text=HELLO)


async def json_route(request):
    return web.json_response(payload())


def on_control(pending):
    chunk = os.read(0, 4096)
    if not chunk:
        os._exit(0)
    pending += chunk
    while b"\n" in pending:
        line, _, rest = bytes(pending).partition(b"\n")
        pending[:] = rest
        if line.strip() != b"stats":
            os._exit(0)
        ru = resource.getrusage(resource.RUSAGE_SELF)
        sys.stdout.write(f"{round(ru.ru_utime * 1e9)} {round(ru.ru_stime * 1e9)} 0\n")
        sys.stdout.flush()


async def main():
    app = web.Application()
    app.add_routes([web.get("/", hello), web.get("/json", json_route)])
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    host, port = site._server.sockets[0].getsockname()[:2]
    print(f"{host}:{port}", flush=True)
    asyncio.get_running_loop().add_reader(0, on_control, bytearray())
    await asyncio.Event().wait()


if __name__ == "__main__":
    os.sched_setaffinity(0, {0})
    if sys.argv[1:] == ["uvloop"]:
        import uvloop

        uvloop.run(main())
    else:
        asyncio.run(main())
