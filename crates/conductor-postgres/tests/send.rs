//! Client handles and their futures are `Send`, so that handlers which must be `Send` (an
//! axum handler holding a pool is the common case) can use them. Checked at compile time.

use conductor_postgres::{
    Connection, CopyOut, Error, Listener, Pool, PoolConnection, PreparedStatement, Transaction,
};

fn send_sync<T: Send + Sync>() {}
fn send<T: Send>(_: &T) {}

#[test]
fn handles_are_send_and_sync() {
    send_sync::<Pool>();
    send_sync::<Connection>();
    send_sync::<PoolConnection>();
    send_sync::<PreparedStatement>();
    send_sync::<Transaction<'static>>();
    send_sync::<Error>();
    send::<Option<Listener>>(&None);
    send::<Option<CopyOut>>(&None);
}

/// What a `Send` handler does: acquire, query with parameters, transaction, release.
async fn handler(pool: Pool, id: i32) -> Result<String, Error> {
    let conn = pool.acquire().await?;
    let row = conn.fetchrow("SELECT $1::int, 'x'", &[&id]).await?;
    let tx = conn.transaction().await?;
    tx.execute("SELECT 1", &[]).await?;
    tx.commit().await?;
    let v: i64 = pool.fetchval("SELECT 1::int8", &[]).await?;
    Ok(format!("{row:?} {v}"))
}

async fn on_a_connection(conn: Connection) -> Result<(), Error> {
    conn.fetch("SELECT 1", &[]).await?;
    conn.executemany(
        "SELECT $1::int",
        [[&1i32 as &(dyn conductor_postgres::ToSql + Sync)]],
    )
    .await?;
    conn.prepare("SELECT 1").await?.fetch(&[]).await?;
    conn.listen("c").await.map(drop)
}

/// The futures are built (never polled: no server needed) and their types checked.
fn futures_of(pool: Pool, conn: Connection) {
    send(&handler(pool.clone(), 1));
    send(&pool.acquire());
    send(&pool.close());
    send(&on_a_connection(conn));
}

#[test]
fn query_and_pool_futures_are_send() {
    // Compiling `futures_of` is the assertion; naming it keeps it from being dead code.
    let _checked: fn(Pool, Connection) = futures_of;
}
