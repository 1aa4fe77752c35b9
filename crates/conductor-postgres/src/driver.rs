//! The connection's driver: the task on the loop that owns the socket and runs tokio-postgres'
//! `Connection` (it writes the requests of every client call, reads the server's messages and
//! routes them back). It also delivers NOTIFY messages to the listeners and, when it stops,
//! keeps the reason so that every later call reports it as an error (never a panic).

use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;

use conductor::Event;
use conductor::sync::mpsc::UnboundedSender;
use futures_util::task::AtomicWaker;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_postgres::{AsyncMessage, Notification};

/// What the driver shares with the connection's handles.
#[derive(Default)]
pub(crate) struct DriverState {
    /// Why the driver stopped, when it stopped on an error.
    reason: Mutex<Option<Arc<tokio_postgres::Error>>>,
    /// Set when the driver has stopped: the connection is closed.
    done: AtomicBool,
    /// Set by `close`: the driver drops the socket at its next poll.
    closing: AtomicBool,
    /// The driver task's waker, for `close` (lock-free: the driver registers it on each poll).
    waker: AtomicWaker,
    /// Set once the driver has stopped and dropped the socket.
    finished: Event,
    /// LISTEN subscribers: channel name and where its notifications go.
    listeners: Mutex<Vec<(String, UnboundedSender<Notification>)>>,
}

impl DriverState {
    pub(crate) fn is_done(&self) -> bool {
        self.done.load(Ordering::Acquire)
    }

    pub(crate) fn reason(&self) -> Option<Arc<tokio_postgres::Error>> {
        self.reason
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Asks the driver to drop the socket, and waits until it has.
    pub(crate) async fn close(&self) {
        self.closing.store(true, Ordering::Release);
        self.waker.wake();
        self.finished.wait().await;
    }

    pub(crate) fn subscribe(&self, channel: String, tx: UnboundedSender<Notification>) {
        self.lock_listeners().push((channel, tx));
    }

    /// Forgets closed subscriptions; true when none is left for `channel`.
    pub(crate) fn last_for(&self, channel: &str) -> bool {
        let mut l = self.lock_listeners();
        l.retain(|(_, tx)| !tx.is_closed());
        !l.iter().any(|(c, _)| c == channel)
    }

    fn lock_listeners(
        &self,
    ) -> std::sync::MutexGuard<'_, Vec<(String, UnboundedSender<Notification>)>> {
        self.listeners.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn deliver(&self, n: Notification) {
        let mut l = self.lock_listeners();
        l.retain(|(channel, tx)| channel != n.channel() || tx.send(n.clone()).is_ok());
    }

    fn stop(&self, reason: Option<tokio_postgres::Error>) {
        if let Some(e) = reason {
            *self.reason.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(e));
        }
        self.done.store(true, Ordering::Release);
        // Listeners' streams end.
        self.lock_listeners().clear();
    }
}

/// Marks the connection closed however the driver ends: on an error, at the socket's end, or
/// when its task is cancelled or dropped with its loop.
struct StopGuard(Arc<DriverState>);

impl Drop for StopGuard {
    fn drop(&mut self) {
        if !self.0.is_done() {
            self.0.stop(None);
        }
        self.0.finished.set();
    }
}

/// Runs the connection until the server closes it, it fails, the last handle is dropped
/// (tokio-postgres then sends Terminate) or `close` is called.
pub(crate) async fn drive<S, T>(mut conn: tokio_postgres::Connection<S, T>, state: Arc<DriverState>)
where
    S: AsyncRead + AsyncWrite + Unpin,
    T: AsyncRead + AsyncWrite + Unpin,
{
    let guard = StopGuard(state);
    let state = &guard.0;
    let mut yielded = false;
    let outcome = poll_fn(|cx| {
        state.waker.register(cx.waker());
        if state.closing.load(Ordering::Acquire) {
            return Poll::Ready(Ok(()));
        }
        if !yielded {
            // Woken (a request queued, the socket readable): let the tasks already ready run
            // first, so that what they queue leaves in the same write.
            yielded = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        yielded = false;
        loop {
            match conn.poll_message(cx) {
                Poll::Ready(Some(Ok(AsyncMessage::Notification(n)))) => state.deliver(n),
                // Notices (warnings the server sends beside results) are not errors.
                Poll::Ready(Some(Ok(_))) => {}
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Err(e)),
                Poll::Ready(None) => return Poll::Ready(Ok(())),
                Poll::Pending => return Poll::Pending,
            }
        }
    })
    .await;
    state.stop(outcome.err());
    drop(conn);
}
