//! The guard of a pooled connection: it dereferences to the [`Connection`] and gives it back
//! on drop, reset, or discards it when it is broken.

use std::future::Future;
use std::ops::Deref;
use std::pin::pin;
use std::sync::Arc;
use std::task::Context;

use conductor::sync::OwnedSemaphorePermit;

use super::PoolInner;
use crate::connection::Connection;
use crate::session::Fixup;

/// A connection of a [`Pool`](super::Pool), given back when dropped.
///
/// Clones of the [`Connection`] taken from it must not outlive it: after release the session
/// belongs to the next user.
pub struct PoolConnection {
    conn: Option<Connection>,
    pool: Arc<PoolInner>,
    permit: Option<OwnedSemaphorePermit>,
}

impl std::fmt::Debug for PoolConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("PoolConnection").field(&self.conn).finish()
    }
}

impl PoolConnection {
    pub(crate) fn new(
        conn: Connection,
        pool: Arc<PoolInner>,
        permit: OwnedSemaphorePermit,
    ) -> Self {
        PoolConnection {
            conn: Some(conn),
            pool,
            permit: Some(permit),
        }
    }

    /// Takes the connection out of the pool for good (asyncpg's `Pool.release` is the
    /// opposite): the pool opens another one when it needs it.
    pub fn detach(mut self) -> Connection {
        let conn = self
            .conn
            .take()
            .expect("a guard holds its connection until dropped");
        self.pool
            .size
            .fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
        conn
    }
}

impl Deref for PoolConnection {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.conn
            .as_ref()
            .expect("a guard holds its connection until dropped")
    }
}

impl Drop for PoolConnection {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            if conn.is_closed() || self.pool.is_closed() || self.pool.expired(&conn) {
                self.pool.discard(conn);
            } else {
                reset(&conn, self.pool.reset_sql());
                self.pool.push_idle(conn);
            }
        }
        self.pool.returned();
        // Released after the connection is back, so that the next waiter finds it idle.
        drop(self.permit.take());
    }
}

/// Queues the reset on the connection without waiting for it: it reaches the server before
/// the next user's first query (requests go out in order), at no round trip of its own.
fn reset(conn: &Connection, reset: Option<&str>) {
    let session = conn.session();
    let rollback = conn.is_in_transaction();
    let sql = match (rollback, reset) {
        (false, None) => return,
        (false, Some(r)) => r.to_owned(),
        (true, r) => format!("ROLLBACK; {}", r.unwrap_or("")),
    };
    if rollback {
        // The rollback below ends every transaction guard's transaction.
        session
            .tx_depth
            .store(0, std::sync::atomic::Ordering::Release);
    }
    if session.is_dirty() {
        // A fix-up (a cancel, a rollback) is queued: the reset goes after it.
        session.schedule(Fixup::Sql(sql));
        return;
    }
    // tokio-postgres encodes and sends a simple query in the first poll of `batch_execute`;
    // dropping the future then discards the reply (the driver skips it).
    let mut fut = pin!(session.client.batch_execute(&sql));
    let _ = fut.as_mut().poll(&mut Context::from_waker(
        futures_util::task::noop_waker_ref(),
    ));
}
