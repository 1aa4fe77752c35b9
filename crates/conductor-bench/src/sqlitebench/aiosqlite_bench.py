"""aiosqlite's side of the SQLite benchmark (conductor-bench --bin sqlite).

Usage: python3 -c SCRIPT PATH WORKLOAD ROWS PER_TX TASKS
Prints the seconds the workload took. The same table, statements and settings as the Rust
contenders; explicit BEGIN/COMMIT (isolation_level=None), as they do.
"""
import asyncio
import sys
import time

import aiosqlite

SETUP = """PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;
    CREATE TABLE IF NOT EXISTS bench(id INTEGER PRIMARY KEY, name TEXT NOT NULL, value INTEGER NOT NULL);"""
INSERT = "INSERT INTO bench(id, name, value) VALUES (?1, ?2, ?3)"
SELECT = "SELECT name, value FROM bench WHERE id = ?1"
NAME = "a row of the benchmark"


def select_id(i, rows):
    return (i * 2654435761) % rows + 1


async def select(db, i, rows):
    rid = select_id(i, rows)
    async with db.execute(SELECT, (rid,)) as cur:
        row = await cur.fetchone()
    assert row == (NAME, rid * 7), (rid, row)


async def main(path, workload, rows, per_tx, tasks):
    async with aiosqlite.connect(path, isolation_level=None) as db:
        await db.executescript(SETUP)
        start = time.perf_counter()
        if workload.startswith("insert"):
            for chunk in range(rows // per_tx):
                await db.execute("BEGIN")
                ids = [chunk * per_tx + i + 1 for i in range(per_tx)]
                if workload == "insert_seq":
                    for rid in ids:
                        await db.execute(INSERT, (rid, NAME, rid * 7))
                else:
                    for w in range(0, len(ids), tasks):
                        await asyncio.gather(
                            *(db.execute(INSERT, (rid, NAME, rid * 7)) for rid in ids[w:w + tasks])
                        )
                await db.execute("COMMIT")
        elif workload == "select_seq":
            for i in range(rows):
                await select(db, i, rows)
        else:
            async def worker(t):
                for i in range(t, rows, tasks):
                    await select(db, i, rows)
            await asyncio.gather(*(worker(t) for t in range(tasks)))
        took = time.perf_counter() - start
    print(took)


if __name__ == "__main__":
    path, workload, rows, per_tx, tasks = sys.argv[1:6]
    asyncio.run(main(path, workload, int(rows), int(per_tx), int(tasks)))
