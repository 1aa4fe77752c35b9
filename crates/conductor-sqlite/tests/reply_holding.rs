//! Replies held while the next command is already queued (`src/reply.rs`) still reach their
//! task before anything that may take long: a `call` closure, a write, a long read-only query.
//!
//! Each test queues, behind a blocked `call`, a quick select and then something that never ends
//! on its own. The select's reply must arrive while that runs: were it held to the end, the
//! test would wait forever (bounded by a generous real-time timeout, not a threshold). Which
//! rule sends it (the follower's kind, or the age bound when the select itself ran long, as in
//! a debug build) is the thread's business; that it arrives is the property.

use std::sync::mpsc;
use std::time::Duration;

use conductor_sqlite::{Connection, connect};

const NEVER: Duration = Duration::from_secs(30);

/// Counts to a billion (minutes) unless interrupted.
const RUNAWAY: &str = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) SELECT count(*) FROM c";

/// A `call` that blocks the connection's thread until the returned sender is used or dropped.
fn blocker(db: &Connection) -> (mpsc::Sender<()>, conductor::Task<()>) {
    let (release, wait) = mpsc::channel::<()>();
    let call = db.call(move |_| {
        let _ = wait.recv();
        Ok(())
    });
    (
        release,
        conductor::spawn(async move { call.await.unwrap() }),
    )
}

/// Prepares the select once, so that its next run is quick and its reply is held by the kind of
/// what follows, not by the age bound.
async fn warm(db: &Connection) {
    db.fetch_one("SELECT 42", ()).await.unwrap();
}

/// A quick select queued behind a blocked `call`, and the blocker's release.
struct Queued {
    release_first: mpsc::Sender<()>,
    first: conductor::Task<()>,
    select: conductor::Task<conductor_sqlite::Result<i64>>,
}

/// Queues a select (warmed first, see `warm`) behind a blocked `call`; the caller then queues
/// what follows it.
async fn select_behind_a_blocker(db: &Connection) -> Queued {
    warm(db).await;
    let (release_first, first) = blocker(db);
    conductor::yield_now().await;
    let select = db.fetch_one("SELECT 42", ());
    let select = conductor::spawn(async move { select.await.unwrap().unwrap().get::<i64>(0) });
    conductor::yield_now().await;
    Queued {
        release_first,
        first,
        select,
    }
}

impl Queued {
    /// Releases the blocker: the select's reply must arrive while its follower still runs.
    async fn arrives(self) {
        self.release_first.send(()).unwrap();
        let value = conductor::timeout(NEVER, self.select)
            .await
            .expect("the reply was held");
        assert_eq!(value.unwrap().unwrap(), 42);
        self.first.await.unwrap();
    }
}

#[conductor::test]
async fn held_reply_is_sent_before_a_call_closure_runs() {
    let db = connect(":memory:").await.unwrap();
    let queued = select_behind_a_blocker(&db).await;
    let (release_last, last) = blocker(&db);
    conductor::yield_now().await;
    queued.arrives().await;
    release_last.send(()).unwrap();
    last.await.unwrap();
}

#[conductor::test]
async fn held_reply_is_sent_while_a_long_read_only_query_runs() {
    let db = connect(":memory:").await.unwrap();
    let queued = select_behind_a_blocker(&db).await;
    // Read-only, so the select's reply may be held behind it: the progress handler sends it.
    let runaway = conductor::spawn(db.fetch_one(RUNAWAY, ()));
    conductor::yield_now().await;
    queued.arrives().await;
    runaway.cancel(); // interrupts the runaway query
    assert!(runaway.await.is_err());
}

#[conductor::test]
async fn held_reply_is_sent_before_a_write_runs() {
    let db = connect(":memory:").await.unwrap();
    db.execute_batch("CREATE TABLE t(x)").await.unwrap();
    let queued = select_behind_a_blocker(&db).await;
    // A write that runs until interrupted (an INSERT of a runaway SELECT).
    let write = RUNAWAY.replace(") SELECT", ") INSERT INTO t SELECT");
    let write = conductor::spawn(db.execute(&write, ()));
    conductor::yield_now().await;
    queued.arrives().await;
    write.cancel();
    assert!(write.await.is_err());
}
