//! execute, executemany, fetch_all, fetch_one, call: results, parameters, typed rows, errors.

mod common;

use common::scalar;
use conductor_sqlite::{ColumnError, Connection, Error, ErrorCode, Value, connect, named};

async fn users() -> Connection {
    let db = connect(":memory:").await.unwrap();
    db.execute_batch(
        "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL, photo BLOB);
         INSERT INTO users(name, score) VALUES ('Ada', 9.5), ('Grace', NULL);",
    )
    .await
    .unwrap();
    db
}

#[conductor::test]
async fn query_execute_returns_rows_changed() {
    let db = users().await;
    assert_eq!(
        db.execute("UPDATE users SET score = 1", ()).await.unwrap(),
        2
    );
    assert_eq!(
        db.execute("DELETE FROM users WHERE id = ?", (1,))
            .await
            .unwrap(),
        1
    );
    // A query run through execute changes nothing, whatever the last write changed.
    assert_eq!(db.execute("SELECT * FROM users", ()).await.unwrap(), 0);
}

#[conductor::test]
async fn query_execute_accepts_statements_returning_rows() {
    let db = users().await;
    let n = db
        .execute("INSERT INTO users(name) VALUES ('Alan') RETURNING id", ())
        .await
        .unwrap();
    assert_eq!(n, 1);
}

#[conductor::test]
async fn query_parameters_are_borrowed_at_the_call() {
    let db = users().await;
    let name = String::from("Linus");
    let photo = vec![1u8, 2, 3];
    // The future outlives the borrowed values: they were copied when it was made.
    let insert = db.execute(
        "INSERT INTO users(name, photo) VALUES (?, ?)",
        (&name, photo.as_slice()),
    );
    drop((name, photo));
    assert_eq!(insert.await.unwrap(), 1);
    let row = db
        .fetch_one("SELECT photo FROM users WHERE name = 'Linus'", ())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.get::<Vec<u8>>("photo").unwrap(), [1, 2, 3]);
}

#[conductor::test]
async fn query_named_and_slice_parameters() {
    let db = users().await;
    let row = db
        .fetch_one(
            "SELECT name FROM users WHERE id = :id AND name LIKE @pat",
            named(&[(":id", &1), ("@pat", &"A%")]),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.get::<String>(0).unwrap(), "Ada");
    let ids: &[i64] = &[1, 2];
    let rows = db
        .fetch_all("SELECT id FROM users WHERE id IN (?, ?) ORDER BY id", ids)
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    let err = db
        .fetch_one("SELECT :nope", named(&[(":other", &1)]))
        .await
        .unwrap_err();
    assert!(err.to_string().contains(":other"), "{err}");
}

#[conductor::test]
async fn query_wrong_parameter_count_is_an_error_with_the_sql() {
    let db = users().await;
    let err = db
        .execute("UPDATE users SET name = ?", ())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Rusqlite { .. }), "{err:?}");
    assert_eq!(err.sql(), Some("UPDATE users SET name = ?"));
    assert!(
        err.to_string().contains("UPDATE users SET name = ?"),
        "{err}"
    );
}

#[conductor::test]
async fn query_fetch_all_rows_by_name_and_index() {
    let db = users().await;
    let rows = db
        .fetch_all("SELECT id, name, score FROM users ORDER BY id", ())
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].columns(), ["id", "name", "score"]);
    assert_eq!(rows[0].get::<i64>("id").unwrap(), 1);
    assert_eq!(rows[0].get::<String>(1).unwrap(), "Ada");
    assert_eq!(rows[0].get::<f64>("SCORE").unwrap(), 9.5); // names ignore ASCII case
    assert_eq!(rows[1].get::<Option<f64>>("score").unwrap(), None);
    assert_eq!(rows[1].values()[2], Value::Null);
}

#[conductor::test]
async fn query_fetch_one_is_none_without_rows() {
    let db = users().await;
    assert!(
        db.fetch_one("SELECT * FROM users WHERE id = ?", (99,))
            .await
            .unwrap()
            .is_none()
    );
}

#[conductor::test]
async fn query_column_errors_say_which_column_and_why() {
    let db = users().await;
    let row = db
        .fetch_one("SELECT id, name FROM users WHERE id = 1", ())
        .await
        .unwrap()
        .unwrap();
    let err = row.get::<i64>("nope").unwrap_err();
    assert!(matches!(
        err,
        Error::Column {
            reason: ColumnError::NoSuchName,
            ..
        }
    ));
    let err = row.get::<i64>(5).unwrap_err();
    assert!(matches!(
        err,
        Error::Column {
            reason: ColumnError::OutOfRange { len: 2 },
            ..
        }
    ));
    let err = row.get::<i64>("name").unwrap_err();
    assert!(matches!(
        err,
        Error::Column {
            reason: ColumnError::WrongType { .. },
            ..
        }
    ));
    assert!(err.to_string().contains("\"name\""), "{err}");
    let big = db.fetch_one("SELECT 300", ()).await.unwrap().unwrap();
    let err = big.get::<u8>(0).unwrap_err();
    assert!(matches!(
        err,
        Error::Column {
            reason: ColumnError::IntegerOutOfRange(300),
            ..
        }
    ));
}

#[conductor::test]
async fn query_sqlite_error_has_code_message_and_sql() {
    let db = users().await;
    let err = db
        .execute("INSERT INTO users(id, name) VALUES (1, 'again')", ())
        .await
        .unwrap_err();
    match &err {
        Error::Sqlite {
            code,
            extended_code,
            message,
            sql,
        } => {
            assert_eq!(*code, ErrorCode::ConstraintViolation);
            assert_eq!(*extended_code, 1555); // SQLITE_CONSTRAINT_PRIMARYKEY
            assert_eq!(message, "UNIQUE constraint failed: users.id");
            assert_eq!(
                sql.as_deref(),
                Some("INSERT INTO users(id, name) VALUES (1, 'again')")
            );
        }
        other => panic!("{other:?}"),
    }
    let syntax = db.fetch_all("SELEC 1", ()).await.unwrap_err();
    assert_eq!(syntax.code(), Some(ErrorCode::Unknown)); // SQLITE_ERROR
    assert!(syntax.to_string().contains("syntax error"), "{syntax}");
}

#[conductor::test]
async fn query_executemany_applies_every_row_or_none() {
    let db = users().await;
    let names = ["Alan", "Barbara", "Edsger"];
    let n = db
        .executemany(
            "INSERT INTO users(name) VALUES (?)",
            names.iter().map(|n| (n,)),
        )
        .await
        .unwrap();
    assert_eq!(n, 3);
    assert_eq!(scalar(&db, "SELECT count(*) FROM users").await, 5);
    let err = db
        .executemany(
            "INSERT INTO users(id, name) VALUES (?, ?)",
            [(10, "ok"), (1, "duplicate id")],
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::ConstraintViolation));
    assert_eq!(
        scalar(&db, "SELECT count(*) FROM users WHERE id = 10").await,
        0
    );
}

#[conductor::test]
async fn query_call_runs_rusqlite_code_on_the_thread() {
    let db = users().await;
    let names: Vec<String> = db
        .call(|conn| {
            let mut stmt = conn.prepare("SELECT name FROM users ORDER BY id")?;
            let names = stmt.query_map([], |row| row.get(0))?;
            names.collect()
        })
        .await
        .unwrap();
    assert_eq!(names, ["Ada", "Grace"]);
}

#[conductor::test]
async fn query_call_panic_is_an_error_and_the_connection_lives() {
    let db = users().await;
    let err = db
        .call(|_| -> rusqlite::Result<()> { panic!("boom in call") })
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Panicked { message } if message == "boom in call"),
        "{err}"
    );
    assert_eq!(scalar(&db, "SELECT count(*) FROM users").await, 2);
}

#[conductor::test]
async fn query_call_mut_needs_no_open_cursor() {
    let db = users().await;
    let mut cursor = db.cursor("SELECT id FROM users", ()).batch_size(1);
    assert!(cursor.next_row().await.is_some()); // open, one row left
    let err = db.call_mut(|_| Ok(())).await.unwrap_err();
    assert!(matches!(err, Error::CursorsOpen { open: 1 }), "{err}");
    drop(cursor);
    db.call_mut(|conn| conn.transaction()?.commit())
        .await
        .unwrap();
}

#[conductor::test]
async fn query_futures_are_send_and_static() {
    fn send_static<T: Send + 'static>(t: T) -> T {
        t
    }
    let db = users().await;
    let fut = send_static(db.fetch_one("SELECT count(*) FROM users", ()));
    let row = conductor::spawn(fut).await.unwrap().unwrap().unwrap();
    assert_eq!(row.get::<i64>(0).unwrap(), 2);
    drop(send_static(db.execute("SELECT 1", ())));
    drop(send_static(db.executemany("SELECT ?", [(1,)])));
    drop(send_static(db.call(|_| Ok(()))));
    drop(send_static(db.cursor("SELECT 1", ())));
}

#[conductor::test]
async fn query_commit_ends_a_transaction_begun_by_hand() {
    // Python's `await db.commit()`: commits what an explicit BEGIN opened; a no-op otherwise.
    let db = users().await;
    db.commit().await.unwrap();
    db.execute("BEGIN", ()).await.unwrap();
    db.execute("DELETE FROM users", ()).await.unwrap();
    db.rollback().await.unwrap();
    assert_eq!(scalar(&db, "SELECT count(*) FROM users").await, 2);
    db.execute("BEGIN", ()).await.unwrap();
    db.execute("DELETE FROM users", ()).await.unwrap();
    db.commit().await.unwrap();
    assert_eq!(scalar(&db, "SELECT count(*) FROM users").await, 0);
}
