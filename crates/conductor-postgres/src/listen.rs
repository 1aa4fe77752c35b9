//! LISTEN/NOTIFY as a `Stream` (asyncpg's `add_listener`): the driver routes each notification
//! to the listeners of its channel.

use std::pin::Pin;
use std::task::{Context, Poll};

use conductor::sync::mpsc::{self, Receiver};
use futures_core::Stream;
use tokio_postgres::Notification;

use crate::connection::Connection;
use crate::error::Result;
use crate::session::Fixup;

/// Quotes an SQL identifier (`"name"`, with `"` doubled).
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The notifications of one channel, in the order the server sent them. The stream ends when
/// the connection closes. Dropping it stops listening (`UNLISTEN`) once no other listener of
/// the channel is left on the connection.
///
/// ```no_run
/// # conductor::run(async {
/// use futures_util::StreamExt;
/// # let conn = conductor_postgres::connect("host=127.0.0.1 user=postgres").await?;
/// let mut events = conn.listen("orders").await?;
/// conn.notify("orders", "42").await?;
/// let n = events.next().await.unwrap();
/// assert_eq!(n.payload(), "42");
/// # Ok::<(), conductor_postgres::Error>(())
/// # }).unwrap();
/// ```
pub struct Listener {
    conn: Connection,
    channel: String,
    rx: Receiver<Notification>,
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener")
            .field("channel", &self.channel)
            .finish()
    }
}

impl Connection {
    /// Starts listening on `channel` (`LISTEN`).
    ///
    /// # Errors
    /// The server's error; [`Error::Closed`](crate::Error::Closed).
    pub async fn listen(&self, channel: &str) -> Result<Listener> {
        let (tx, rx) = mpsc::unbounded_channel();
        // Subscribed first, so that nothing sent right after LISTEN is missed.
        self.session().driver.subscribe(channel.to_owned(), tx);
        let listener = Listener {
            conn: self.clone(),
            channel: channel.to_owned(),
            rx,
        };
        self.execute_script(&format!("LISTEN {}", quote_ident(channel)))
            .await?;
        Ok(listener)
    }

    /// Sends a notification (`pg_notify(channel, payload)`); listeners receive it when the
    /// sending transaction commits.
    ///
    /// # Errors
    /// The server's error.
    pub async fn notify(&self, channel: &str, payload: &str) -> Result<()> {
        self.execute("SELECT pg_notify($1, $2)", &[&channel, &payload])
            .await
            .map(drop)
    }
}

impl Listener {
    /// The channel's name.
    pub fn channel(&self) -> &str {
        &self.channel
    }
}

impl Stream for Listener {
    type Item = Notification;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Notification>> {
        self.rx.poll_recv(cx)
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.rx.close();
        let session = self.conn.session();
        if session.driver.last_for(&self.channel) && !session.is_closed() {
            session.schedule(Fixup::Sql(format!(
                "UNLISTEN {}",
                quote_ident(&self.channel)
            )));
        }
    }
}
