//! The guides' asyncpg program: connect, `fetch` with a `$1` parameter, an `INSERT` with
//! `execute`, close. The table is a temporary one, created and filled first, so the program
//! needs only a server (`CONDUCTOR_PG_DSN`; the tour skips it, saying so, without one).
//!
//! The Python program (asyncpg):
//!
//! ```text
//! import asyncio
//! import asyncpg
//!
//! async def main():
//!     conn = await asyncpg.connect(
//!         host="localhost", database="mydb",
//!         user="user", password="password"
//!     )
//!
//!     rows = await conn.fetch("SELECT id, name FROM users WHERE active = $1", True)
//!     for row in rows:
//!         print(row["id"], row["name"])
//!
//!     await conn.execute(
//!         "INSERT INTO users(name, email) VALUES($1, $2)",
//!         "John Doe", "john@example.com"
//!     )
//!
//!     await conn.close()
//!
//! asyncio.run(main())
//! ```

use conductor_postgres::Error;

async fn program(config: conductor_postgres::Config) -> Result<(), Error> {
    let conn = config.connect().await?;
    conn.execute_script(
        "CREATE TEMP TABLE users (id serial PRIMARY KEY, name text, email text, \
         active bool NOT NULL DEFAULT true); \
         INSERT INTO users (name, email, active) VALUES \
         ('Ada', 'ada@example.com', true), ('Brian', 'brian@example.com', false), \
         ('Grace', 'grace@example.com', true)",
    )
    .await?;

    let rows = conn
        .fetch(
            "SELECT id, name FROM users WHERE active = $1 ORDER BY id",
            &[&true],
        )
        .await?;
    for row in &rows {
        println!("{} {}", row.get::<_, i32>("id"), row.get::<_, &str>("name"));
    }

    conn.execute(
        "INSERT INTO users(name, email) VALUES($1, $2)",
        &[&"John Doe", &"john@example.com"],
    )
    .await?;
    let count: i64 = conn.fetchval("SELECT count(*) FROM users", &[]).await?;
    println!("{count} users after the insert");

    conn.close().await;
    Ok(())
}

#[conductor::main]
pub async fn main() {
    let Some(config) = examples::postgres_config().await else {
        return;
    };
    if let Err(e) = program(config).await {
        println!("error: {e}");
    }
}
