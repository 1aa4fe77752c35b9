//! aiosqlite: create a table, insert a row, commit, iterate a cursor.
//!
//! The guide's program writes `test.db` in the current directory; here both versions run in a
//! fresh temporary directory, removed at the end, so each run starts from an empty database.
//! (The Python program needs `pip install aiosqlite`; examples/check_outputs.py says so and
//! skips it when it is missing.)
//!
//! ```python
//! import asyncio, os, shutil, tempfile
//! import aiosqlite
//!
//! async def main():
//!     async with aiosqlite.connect("test.db") as db:
//!         await db.execute("""
//!             CREATE TABLE IF NOT EXISTS users (
//!                 id INTEGER PRIMARY KEY,
//!                 name TEXT
//!             )
//!         """)
//!         await db.execute("INSERT INTO users(name) VALUES(?)", ("John Doe",))
//!         await db.commit()
//!
//!         async with db.execute("SELECT * FROM users") as cursor:
//!             async for row in cursor:
//!                 print(row)
//!
//! home, work = os.getcwd(), tempfile.mkdtemp()
//! os.chdir(work)
//! try:
//!     asyncio.run(main())
//! finally:
//!     os.chdir(home)
//!     shutil.rmtree(work)
//! ```

#[conductor::main]
pub async fn main() {
    let dir = std::env::temp_dir().join(format!("conductor-sqlite-users-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    run(&dir.join("test.db")).await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

async fn run(path: &std::path::Path) -> conductor_sqlite::Result<()> {
    // `async with aiosqlite.connect(...) as db:` — closed explicitly at the end.
    let db = conductor_sqlite::connect(path).await?;
    db.execute(
        "
            CREATE TABLE IF NOT EXISTS users (
                id INTEGER PRIMARY KEY,
                name TEXT
            )
        ",
        (),
    )
    .await?;
    db.execute("INSERT INTO users(name) VALUES(?)", ("John Doe",))
        .await?;
    // Statements commit on their own here; commit() ends a transaction if one is open, as
    // Python's does.
    db.commit().await?;

    let mut cursor = db.cursor("SELECT * FROM users", ());
    while let Some(row) = cursor.next_row().await {
        let row = row?;
        // print(row): the repr of a tuple (an int and a str without quotes in it).
        let (id, name): (i64, String) = (row.get("id")?, row.get("name")?);
        println!("({id}, '{name}')");
    }
    drop(cursor);
    db.close().await
}
