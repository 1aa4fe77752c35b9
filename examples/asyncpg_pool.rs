//! The guides' asyncpg pool program: `create_pool` with `min_size`/`max_size`, ten concurrent
//! `fetchrow`s with `gather`, each through `pool.acquire()`, then `pool.close()`. It needs a
//! server (`CONDUCTOR_PG_DSN`; the tour skips it, saying so, without one).
//!
//! The Python program (asyncpg):
//!
//! ```text
//! async def main():
//!     pool = await asyncpg.create_pool(
//!         host="localhost", database="mydb",
//!         user="user", password="password",
//!         min_size=5, max_size=20
//!     )
//!
//!     async def query(user_id):
//!         async with pool.acquire() as conn:
//!             return await conn.fetchrow("SELECT * FROM users WHERE id = $1", user_id)
//!
//!     # Concurrent queries
//!     results = await asyncio.gather(*[query(i) for i in range(1, 11)])
//!
//!     await pool.close()
//! ```

use conductor_postgres::{Error, Pool, Row};

const TABLE: &str = "conductor_example_users";

async fn query(pool: Pool, user_id: i32) -> Result<Option<Row>, Error> {
    let conn = pool.acquire().await?; // given back when `conn` is dropped
    conn.fetchrow(&format!("SELECT * FROM {TABLE} WHERE id = $1"), &[&user_id])
        .await
}

async fn program(config: conductor_postgres::Config) -> Result<(), Error> {
    let pool = Pool::builder(config)
        .min_size(5)
        .max_size(20)
        .build()
        .await?;
    pool.acquire()
        .await?
        .execute_script(&format!(
            "CREATE TABLE IF NOT EXISTS {TABLE} (id int PRIMARY KEY, name text); \
             INSERT INTO {TABLE} SELECT i, 'user ' || i FROM generate_series(1, 10) i \
             ON CONFLICT DO NOTHING"
        ))
        .await?;

    // The first query error fails the gather, as asyncio.gather raises it.
    let results = conductor::gather((1..=10).map(|i| query(pool.clone(), i)))
        .await
        .map_err(|e| e.into_failed().expect("no query task panics"))?;
    for row in results {
        let row = row.expect("every id exists");
        println!("{} {}", row.get::<_, i32>("id"), row.get::<_, &str>("name"));
    }
    println!(
        "{} connections open, at most {}",
        pool.size(),
        pool.max_size()
    );

    pool.execute(&format!("DROP TABLE {TABLE}"), &[]).await?;
    pool.close().await;
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
