"""The asyncpg client of the PostgreSQL benchmark (asyncio's default loop).

Usage: python3 asyncpg_client.py DSN SELECTS FETCHES COPIES BATCHES
Prints one `RESULT workload ops wall_s cpu_s` line per workload, as the Rust clients do.
"""
import asyncio
import resource
import sys
import time

import asyncpg

SELECT_PK = "SELECT id, name, email FROM bench_users WHERE id = $1"
FETCH_1000 = "SELECT id, name, email FROM bench_users ORDER BY id LIMIT 1000"
INSERT = "INSERT INTO bench_insert (id, name) VALUES ($1, $2)"


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def id_for(i):
    return (i * 7919) % 10000 + 1


async def selects(pool, tasks, total):
    per = total // tasks

    async def worker(t):
        for i in range(per):
            async with pool.acquire() as conn:
                row = await conn.fetchrow(SELECT_PK, id_for(t * per + i))
                assert row is not None

    t0, c0 = time.perf_counter(), cpu()
    await asyncio.gather(*(worker(t) for t in range(tasks)))
    return per * tasks, time.perf_counter() - t0, cpu() - c0


async def fetches(pool, n):
    async with pool.acquire() as conn:
        t0, c0 = time.perf_counter(), cpu()
        for _ in range(n):
            assert len(await conn.fetch(FETCH_1000)) == 1000
        return n, time.perf_counter() - t0, cpu() - c0


async def copies(pool, n):
    data = [(i, f"name {i}", i * 0.5) for i in range(10000)]
    async with pool.acquire() as conn:
        await conn.execute("TRUNCATE bench_copy")
        t0, c0 = time.perf_counter(), cpu()
        for _ in range(n):
            await conn.copy_records_to_table(
                "bench_copy", records=data, columns=["id", "name", "score"])
        return n * 10000, time.perf_counter() - t0, cpu() - c0


async def inserts(pool, n):
    data = [(i, f"name {i}") for i in range(1000)]
    async with pool.acquire() as conn:
        await conn.execute("TRUNCATE bench_insert")
        t0, c0 = time.perf_counter(), cpu()
        for _ in range(n):
            await conn.executemany(INSERT, data)
        return n * 1000, time.perf_counter() - t0, cpu() - c0


async def everything(pool, s, f, c, b):
    return [
        ("select_pk_c10", await selects(pool, 10, s)),
        ("select_pk_c100", await selects(pool, 100, s)),
        ("fetch_1000", await fetches(pool, f)),
        ("copy_in_10000", await copies(pool, c)),
        ("insert_batch_1000", await inserts(pool, b)),
    ]


async def main():
    dsn = sys.argv[1]
    s, f, c, b = (int(x) for x in sys.argv[2:6])
    pool = await asyncpg.create_pool(dsn, min_size=10, max_size=10)
    await everything(pool, s // 10, f // 10, 1, 1)
    for name, (ops, wall, cpu_s) in await everything(pool, s, f, c, b):
        print(f"RESULT {name} {ops} {wall} {cpu_s}", flush=True)
    await pool.close()


asyncio.run(main())
