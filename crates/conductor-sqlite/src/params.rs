//! Statement parameters, taken by reference at the call and copied into the command.
//!
//! The statement runs on the connection's thread while the calling task waits, and the task may
//! be cancelled (its future dropped) at any moment. A parameter borrowed from the task's stack
//! would then dangle under SQLite's feet, unless dropping the future waited for the thread.
//! So the call converts each parameter (`ToSql`) into an owned SQLite value at once, before it
//! returns its future: integers and floats cost nothing, text and blobs one copy. The caller
//! passes `&str`, `&[u8]`, `&String` or values, and the future is `'static` and cancel-safe.

use rusqlite::types::{ToSql, ToSqlOutput, Value};

use crate::error::{Error, Result};

/// Parameters converted to owned values, ready to bind on the connection's thread.
#[derive(Debug, Clone, Default)]
pub struct Bound {
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    Positional(Vec<ToSqlOutput<'static>>),
    Named(Vec<(String, ToSqlOutput<'static>)>),
}

impl Default for Kind {
    fn default() -> Kind {
        Kind::Positional(Vec::new())
    }
}

/// What a statement's parameters can be given as: `()`, a tuple of values (`(name, 42)`,
/// `(&name,)`), an array or slice of one type, `rusqlite::params![...]`, or [`named`] pairs.
///
/// ```
/// # conductor::run(async {
/// let db = conductor_sqlite::connect(":memory:").await.unwrap();
/// db.execute("CREATE TABLE t(name TEXT, n INTEGER)", ()).await.unwrap();
/// let name = String::from("Ada");
/// db.execute("INSERT INTO t VALUES (?, ?)", (&name, 36)).await.unwrap();
/// db.execute("INSERT INTO t VALUES (?1, ?2)", rusqlite::params!["Grace", 45]).await.unwrap();
/// db.execute(
///     "INSERT INTO t VALUES (:name, :n)",
///     conductor_sqlite::named(&[(":name", &"Alan"), (":n", &41)]),
/// )
/// .await
/// .unwrap();
/// let row = db.fetch_one("SELECT count(*) FROM t", ()).await.unwrap().unwrap();
/// assert_eq!(row.get::<i64>(0).unwrap(), 3);
/// # });
/// ```
pub trait Params {
    /// Converts the parameters into owned values.
    ///
    /// # Errors
    /// A `ToSql` implementation's failure.
    fn bind(self) -> Result<Bound>;
}

fn owned(value: &dyn ToSql) -> Result<ToSqlOutput<'static>> {
    Ok(match value.to_sql()? {
        ToSqlOutput::Borrowed(v) => ToSqlOutput::Owned(
            Value::try_from(v).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?,
        ),
        ToSqlOutput::Owned(v) => ToSqlOutput::Owned(v),
        other => {
            return Err(Error::Config(format!(
                "this parameter ({other:?}) cannot travel to the connection's thread: \
                 pass a plain value (integer, real, text, blob or NULL)"
            )));
        }
    })
}

impl Params for Bound {
    fn bind(self) -> Result<Bound> {
        Ok(self)
    }
}

impl Params for () {
    fn bind(self) -> Result<Bound> {
        Ok(Bound::default())
    }
}

impl<T: ToSql> Params for &[T] {
    fn bind(self) -> Result<Bound> {
        let values = self.iter().map(|v| owned(v)).collect::<Result<_>>()?;
        Ok(Bound {
            kind: Kind::Positional(values),
        })
    }
}

impl<T: ToSql, const N: usize> Params for [T; N] {
    fn bind(self) -> Result<Bound> {
        self.as_slice().bind()
    }
}

impl<T: ToSql, const N: usize> Params for &[T; N] {
    fn bind(self) -> Result<Bound> {
        self.as_slice().bind()
    }
}

impl<T: ToSql> Params for Vec<T> {
    fn bind(self) -> Result<Bound> {
        self.as_slice().bind()
    }
}

macro_rules! tuple_params {
    ($($name:ident)+) => {
        impl<$($name: ToSql),+> Params for ($($name,)+) {
            #[allow(non_snake_case)]
            fn bind(self) -> Result<Bound> {
                let ($($name,)+) = self;
                Ok(Bound { kind: Kind::Positional(vec![$(owned(&$name)?),+]) })
            }
        }
    };
}

tuple_params!(A);
tuple_params!(A B);
tuple_params!(A B C);
tuple_params!(A B C D);
tuple_params!(A B C D E);
tuple_params!(A B C D E F);
tuple_params!(A B C D E F G);
tuple_params!(A B C D E F G H);
tuple_params!(A B C D E F G H I);
tuple_params!(A B C D E F G H I J);
tuple_params!(A B C D E F G H I J K);
tuple_params!(A B C D E F G H I J K L);

/// Named parameters (`:name`, `@name`, `$name`), with their prefix, as rusqlite's
/// `named_params!` gives them.
///
/// ```
/// # conductor::run(async {
/// let db = conductor_sqlite::connect(":memory:").await.unwrap();
/// let row = db
///     .fetch_one("SELECT :a + :b", conductor_sqlite::named(&[(":a", &1), (":b", &2)]))
///     .await
///     .unwrap()
///     .unwrap();
/// assert_eq!(row.get::<i64>(0).unwrap(), 3);
/// # });
/// ```
pub fn named(pairs: &[(&str, &dyn ToSql)]) -> Named {
    let values = pairs
        .iter()
        .map(|(name, v)| owned(*v).map(|v| ((*name).to_owned(), v)))
        .collect();
    Named { values }
}

/// Named parameters, from [`named`].
#[derive(Debug)]
pub struct Named {
    values: Result<Vec<(String, ToSqlOutput<'static>)>>,
}

impl Params for Named {
    fn bind(self) -> Result<Bound> {
        Ok(Bound {
            kind: Kind::Named(self.values?),
        })
    }
}

impl Bound {
    /// Binds the values to a statement prepared on the connection's thread.
    pub(crate) fn apply(&self, stmt: &mut rusqlite::Statement<'_>) -> rusqlite::Result<()> {
        match &self.kind {
            Kind::Positional(values) => {
                let expected = stmt.parameter_count();
                if values.len() != expected {
                    return Err(rusqlite::Error::InvalidParameterCount(
                        values.len(),
                        expected,
                    ));
                }
                for (i, v) in values.iter().enumerate() {
                    stmt.raw_bind_parameter(i + 1, v)?;
                }
            }
            Kind::Named(values) => {
                for (name, v) in values {
                    match stmt.parameter_index(name)? {
                        Some(i) => stmt.raw_bind_parameter(i, v)?,
                        None => return Err(rusqlite::Error::InvalidParameterName(name.clone())),
                    }
                }
            }
        }
        Ok(())
    }
}
