//! Rows: owned values read on the connection's thread, typed access by column name or index on
//! the task's side.

use std::fmt;
use std::sync::Arc;

use rusqlite::types::{FromSql, FromSqlError, Value, ValueRef};

use crate::error::{ColumnError, Error, Result};

/// A result row: the values of one step of a statement, owned (`Send + Sync`), with the
/// statement's column names shared by every row of the result.
///
/// ```
/// # conductor::run(async {
/// let db = conductor_sqlite::connect(":memory:").await.unwrap();
/// let row = db.fetch_one("SELECT 1 AS id, 'Ada' AS name", ()).await.unwrap().unwrap();
/// let id: i64 = row.get("id").unwrap();
/// let name: String = row.get(1).unwrap();
/// assert_eq!((id, name.as_str()), (1, "Ada"));
/// assert_eq!(row.columns(), ["id", "name"]);
/// assert!(row.get::<i64>("name").is_err()); // text is not an integer
/// # });
/// ```
#[derive(Clone, PartialEq)]
pub struct Row {
    columns: Arc<[String]>,
    values: Vec<Value>,
}

/// A column of a [`Row`]: its position (`usize`) or its name (`&str`, `String`), as
/// `row["name"]` or `row[0]` in Python's `sqlite3.Row`.
pub trait ColumnIndex {
    /// The column's position in `row`, or why there is none.
    ///
    /// # Errors
    /// [`Error::Column`] for a name no column has or an index past the end.
    fn index(&self, row: &Row) -> Result<usize>;
}

impl ColumnIndex for usize {
    fn index(&self, row: &Row) -> Result<usize> {
        if *self < row.values.len() {
            Ok(*self)
        } else {
            Err(Error::Column {
                column: format!("#{self}"),
                reason: ColumnError::OutOfRange {
                    len: row.values.len(),
                },
            })
        }
    }
}

impl ColumnIndex for &str {
    fn index(&self, row: &Row) -> Result<usize> {
        // Exact first, then ignoring ASCII case, as SQLite matches identifiers.
        let exact = row.columns.iter().position(|c| c == self);
        exact
            .or_else(|| {
                row.columns
                    .iter()
                    .position(|c| c.eq_ignore_ascii_case(self))
            })
            .ok_or_else(|| Error::Column {
                column: format!("{self:?}"),
                reason: ColumnError::NoSuchName,
            })
    }
}

impl ColumnIndex for String {
    fn index(&self, row: &Row) -> Result<usize> {
        self.as_str().index(row)
    }
}

impl Row {
    pub(crate) fn read(row: &rusqlite::Row<'_>, columns: &Arc<[String]>) -> rusqlite::Result<Row> {
        let values = (0..columns.len())
            .map(|i| {
                let value = row.get_ref(i)?;
                Value::try_from(value).map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(i, value.data_type(), Box::new(e))
                })
            })
            .collect::<rusqlite::Result<_>>()?;
        Ok(Row {
            columns: Arc::clone(columns),
            values,
        })
    }

    /// The value of a column converted to `T` (any rusqlite `FromSql` type: integers, `f64`,
    /// `String`, `Vec<u8>`, `bool`, `Option<T>` for NULL...).
    ///
    /// # Errors
    /// [`Error::Column`]: no such column, or a value that does not convert to `T`.
    pub fn get<T: FromSql>(&self, column: impl ColumnIndex) -> Result<T> {
        let i = column.index(self)?;
        let value = ValueRef::from(&self.values[i]);
        T::column_result(value).map_err(|e| Error::Column {
            column: self.describe(i),
            reason: match e {
                FromSqlError::InvalidType => ColumnError::WrongType {
                    wanted: std::any::type_name::<T>(),
                    found: value.data_type(),
                },
                FromSqlError::OutOfRange(v) => ColumnError::IntegerOutOfRange(v),
                other => ColumnError::Conversion(other),
            },
        })
    }

    /// The raw value of a column, borrowed.
    ///
    /// # Errors
    /// [`Error::Column`] for no such column.
    pub fn get_ref(&self, column: impl ColumnIndex) -> Result<ValueRef<'_>> {
        let i = column.index(self)?;
        Ok(ValueRef::from(&self.values[i]))
    }

    /// The column names, in order (Python's `sqlite3.Row.keys()`).
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The values, in column order.
    pub fn values(&self) -> &[Value] {
        &self.values
    }

    /// The values, taken out of the row.
    pub fn into_values(self) -> Vec<Value> {
        self.values
    }

    /// The number of columns.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether the row has no columns.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    fn describe(&self, i: usize) -> String {
        format!("#{i} ({:?})", self.columns[i])
    }
}

impl fmt::Debug for Row {
    /// As a map from column name to value: `{"id": Integer(1), "name": Text("Ada")}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.columns.iter().zip(&self.values))
            .finish()
    }
}
