//! One error type for the crate: what the server said (with its SQLSTATE), what the connection
//! or the pool did, and what the configuration asked for that cannot be done.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tokio_postgres::error::{DbError, Severity, SqlState};

/// The result of every fallible call of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, named for what happened.
///
/// A server error keeps PostgreSQL's SQLSTATE and message: [`Error::code`] and
/// [`Error::as_db_error`] read them (asyncpg's `PostgresError.sqlstate` and `.message`).
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The server or the protocol reported an error (a [`DbError`] with its SQLSTATE for a
    /// server error; a conversion or protocol failure otherwise).
    Postgres(tokio_postgres::Error),
    /// The connection is closed: the server went away, the socket failed, or
    /// [`Connection::close`](crate::Connection::close) was called. `reason` is what the
    /// connection's driver saw, when it saw something.
    Closed {
        /// The driver's failure, shared by every call that meets the closed connection.
        reason: Option<Arc<tokio_postgres::Error>>,
    },
    /// No host of the configuration accepted a connection; `attempts` says why for each.
    Connect {
        /// One line per host tried, in order: `host:port: what happened`.
        attempts: Vec<String>,
    },
    /// A socket could not be opened (connection refused, no route, name not resolved).
    Io(std::io::Error),
    /// The configuration could not be parsed or asks for something unsupported.
    Config(String),
    /// The connection's `command_timeout` fired; the query was cancelled on the server. (A
    /// `conductor::timeout` around a call cancels the query the same way and returns
    /// `conductor::TimedOut`.)
    TimedOut(Duration),
    /// A record given to `copy_records_to_table` does not fit the table: a value count other
    /// than the columns', or a value of the wrong type. Nothing was copied.
    Record(String),
    /// `fetchval` found no row.
    NoRows,
    /// The pool gave no connection within its acquire timeout.
    PoolTimedOut(Duration),
    /// The pool is closed (or closing): it gives out no more connections.
    PoolClosed,
}

impl Error {
    /// The SQLSTATE of a server error (asyncpg's `sqlstate`), e.g. [`SqlState::UNIQUE_VIOLATION`].
    pub fn code(&self) -> Option<&SqlState> {
        match self {
            Error::Postgres(e) => e.code(),
            _ => None,
        }
    }

    /// The server's error, with its message, detail, hint and position.
    pub fn as_db_error(&self) -> Option<&DbError> {
        match self {
            Error::Postgres(e) => e.as_db_error(),
            _ => None,
        }
    }

    /// True when the connection can no longer be used: it is closed, or the server ended the
    /// session (a FATAL error, e.g. SQLSTATE 57P01 when an administrator or a shutdown
    /// terminated it). The pool discards such a connection.
    pub fn is_closed(&self) -> bool {
        match self {
            Error::Closed { .. } => true,
            Error::Postgres(e) => {
                e.is_closed()
                    || e.as_db_error().is_some_and(|db| {
                        matches!(
                            db.parsed_severity(),
                            Some(Severity::Fatal | Severity::Panic)
                        )
                    })
            }
            _ => false,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Postgres(e) => describe(e, f),
            Error::Closed { reason: Some(r) } => {
                write!(f, "the connection is closed (")?;
                describe(r, f)?;
                write!(f, "); open a new one")
            }
            Error::Closed { reason: None } => write!(f, "the connection is closed; open a new one"),
            Error::Connect { attempts } => {
                write!(f, "could not connect to any host: {}", attempts.join("; "))
            }
            Error::Io(e) => write!(f, "{e}"),
            Error::Config(msg) => write!(f, "invalid configuration: {msg}"),
            Error::TimedOut(d) => write!(
                f,
                "the query timed out after {d:?} and was cancelled on the server"
            ),
            Error::Record(msg) => write!(f, "COPY aborted, nothing copied: {msg}"),
            Error::NoRows => write!(f, "the query returned no rows"),
            Error::PoolTimedOut(d) => write!(
                f,
                "no pool connection became free within {d:?}; raise max_size or the acquire \
                 timeout, or release connections sooner"
            ),
            Error::PoolClosed => write!(f, "the pool is closed"),
        }
    }
}

/// A server error with its severity, message and SQLSTATE (tokio-postgres' own `Display`
/// says only "db error"); other errors as tokio-postgres words them, with their source.
fn describe(e: &tokio_postgres::Error, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match e.as_db_error() {
        Some(db) => {
            write!(
                f,
                "{}: {} (SQLSTATE {})",
                db.severity(),
                db.message(),
                db.code().code()
            )?;
            if let Some(detail) = db.detail() {
                write!(f, "; {detail}")?;
            }
            Ok(())
        }
        None => match std::error::Error::source(e) {
            Some(src) if !e.to_string().contains(&src.to_string()) => write!(f, "{e}: {src}"),
            _ => write!(f, "{e}"),
        },
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Postgres(e) => Some(e),
            Error::Closed { reason: Some(r) } => Some(&**r),
            Error::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<tokio_postgres::Error> for Error {
    fn from(e: tokio_postgres::Error) -> Self {
        Error::Postgres(e)
    }
}
