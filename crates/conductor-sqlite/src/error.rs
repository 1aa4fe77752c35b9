//! One error type for the crate: what SQLite said (its code, its message, the SQL that failed),
//! what went wrong reading a row, and the connection's own failures.

use std::fmt;

pub use rusqlite::ffi::ErrorCode;

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong. `Display` says what happened, the SQL involved, and what to do where there
/// is something to do.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// SQLite refused or failed the statement (aiosqlite raises `sqlite3.Error` subclasses).
    Sqlite {
        /// The primary result code (`ErrorCode::ConstraintViolation`...).
        code: ErrorCode,
        /// The extended result code, `sqlite3_extended_errcode` (2067 is
        /// `SQLITE_CONSTRAINT_UNIQUE`).
        extended_code: i32,
        /// SQLite's message (`sqlite3_errmsg`).
        message: String,
        /// The SQL that failed, when the call had one.
        sql: Option<String>,
    },
    /// Reading a value out of a [`Row`](crate::Row) failed: no such column, or a value of
    /// another type.
    Column {
        /// The column, as asked for (`"name"` or `"#2"`).
        column: String,
        /// Why the value could not be read.
        reason: ColumnError,
    },
    /// Another error from rusqlite (a wrong number of parameters, an unknown named parameter, a
    /// path that is not UTF-8...).
    Rusqlite {
        /// rusqlite's error.
        source: rusqlite::Error,
        /// The SQL involved, when the call had one.
        sql: Option<String>,
    },
    /// The connection is closed: [`Connection::close`](crate::Connection::close) was called, or
    /// its thread could not start.
    Closed,
    /// [`Connection::call_mut`](crate::Connection::call_mut) needs the connection alone, and a
    /// cursor still holds a statement open on it.
    CursorsOpen {
        /// How many cursors are open.
        open: usize,
    },
    /// A closure passed to `call` panicked. The connection stays usable.
    Panicked {
        /// The panic's message.
        message: String,
    },
    /// The connection's thread could not be started.
    Thread(std::io::Error),
    /// The configuration cannot work (a pool over `:memory:`, zero readers...).
    Config(String),
}

/// Why a value could not be read out of a row.
#[derive(Debug)]
#[non_exhaustive]
pub enum ColumnError {
    /// No column has this name (names are matched as SQLite does, ignoring ASCII case).
    NoSuchName,
    /// The index is not below the row's length.
    OutOfRange {
        /// The row's number of columns.
        len: usize,
    },
    /// The value's SQLite type does not convert to the requested Rust type.
    WrongType {
        /// The Rust type asked for.
        wanted: &'static str,
        /// The value's SQLite type.
        found: rusqlite::types::Type,
    },
    /// The integer does not fit the requested Rust type.
    IntegerOutOfRange(i64),
    /// Another conversion failure (invalid UTF-8, a `FromSql` implementation's own error).
    Conversion(rusqlite::types::FromSqlError),
}

impl Error {
    /// Wraps rusqlite's error, keeping the SQL that failed.
    pub(crate) fn from_rusqlite(err: rusqlite::Error, sql: Option<&str>) -> Error {
        let sql = sql.map(str::to_owned);
        match err {
            rusqlite::Error::SqliteFailure(e, message) => Error::Sqlite {
                code: e.code,
                extended_code: e.extended_code,
                message: message.unwrap_or_else(|| e.to_string()),
                sql,
            },
            // A prepare error that points at a token: SQLite's message, and where.
            rusqlite::Error::SqlInputError {
                error,
                msg,
                sql: input,
                offset,
            } => Error::Sqlite {
                code: error.code,
                extended_code: error.extended_code,
                message: format!("{msg} (at byte {offset})"),
                sql: sql.or(Some(input)),
            },
            source => Error::Rusqlite { source, sql },
        }
    }

    /// SQLite's primary result code, for [`Error::Sqlite`].
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Error::Sqlite { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// The SQL that failed, when there was one.
    pub fn sql(&self) -> Option<&str> {
        match self {
            Error::Sqlite { sql, .. } | Error::Rusqlite { sql, .. } => sql.as_deref(),
            _ => None,
        }
    }

    /// Whether the statement was stopped by a cancellation or a timeout (`SQLITE_INTERRUPT`).
    pub fn is_interrupted(&self) -> bool {
        self.code() == Some(ErrorCode::OperationInterrupted)
    }
}

impl From<rusqlite::Error> for Error {
    fn from(err: rusqlite::Error) -> Error {
        Error::from_rusqlite(err, None)
    }
}

fn in_sql(f: &mut fmt::Formatter<'_>, sql: &Option<String>) -> fmt::Result {
    match sql {
        Some(sql) => write!(f, ", in `{}`", sql.trim()),
        None => Ok(()),
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Sqlite {
                extended_code,
                message,
                sql,
                ..
            } => {
                let what = rusqlite::ffi::code_to_str(*extended_code);
                write!(f, "SQLite error {extended_code} ({what}): {message}")?;
                in_sql(f, sql)
            }
            Error::Column { column, reason } => {
                write!(f, "cannot read column {column} of the row: {reason}")
            }
            Error::Rusqlite { source, sql } => {
                write!(f, "{source}")?;
                in_sql(f, sql)
            }
            Error::Closed => write!(
                f,
                "the SQLite connection is closed: open a new one with conductor_sqlite::connect"
            ),
            Error::CursorsOpen { open } => write!(
                f,
                "call_mut needs the connection alone but {open} cursor(s) are open on it: \
                 finish or drop them first, or use call (it shares the connection)"
            ),
            Error::Panicked { message } => {
                write!(f, "the closure passed to call panicked: {message}")
            }
            Error::Thread(e) => write!(f, "cannot start the SQLite connection's thread: {e}"),
            Error::Config(what) => write!(f, "{what}"),
        }
    }
}

impl fmt::Display for ColumnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ColumnError::NoSuchName => write!(f, "no column has this name"),
            ColumnError::OutOfRange { len } => write!(f, "the row has {len} column(s)"),
            ColumnError::WrongType { wanted, found } => {
                write!(
                    f,
                    "the value is {found}, which does not convert to {wanted}"
                )
            }
            ColumnError::IntegerOutOfRange(v) => {
                write!(f, "the integer {v} does not fit the requested type")
            }
            ColumnError::Conversion(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Rusqlite { source, .. } => Some(source),
            Error::Thread(e) => Some(e),
            _ => None,
        }
    }
}

impl std::error::Error for ColumnError {}
