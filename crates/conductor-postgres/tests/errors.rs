//! Server errors keep PostgreSQL's SQLSTATE and message; the connection stays usable.
mod common;

use conductor_postgres::{Error, SqlState};

#[test]
fn a_unique_violation_has_its_sqlstate_constraint_and_detail() {
    common::with_conn(|conn| async move {
        let t = common::table("uniq");
        conn.execute_script(&format!(
            "DROP TABLE IF EXISTS {t}; CREATE TABLE {t} (id int CONSTRAINT {t}_pk PRIMARY KEY); \
             INSERT INTO {t} VALUES (1)"
        ))
        .await
        .unwrap();
        let e = conn
            .execute(&format!("INSERT INTO {t} VALUES ($1)"), &[&1i32])
            .await
            .unwrap_err();
        assert_eq!(e.code(), Some(&SqlState::UNIQUE_VIOLATION));
        let db = e.as_db_error().unwrap();
        assert_eq!(db.constraint(), Some(format!("{t}_pk").as_str()));
        assert!(
            db.message()
                .starts_with("duplicate key value violates unique constraint")
        );
        let shown = e.to_string();
        assert!(shown.contains("ERROR: duplicate key value"), "{shown}");
        assert!(shown.contains("SQLSTATE 23505"), "{shown}");
        assert!(shown.contains("Key (id)=(1) already exists"), "{shown}");
        conn.execute_script(&format!("DROP TABLE {t}"))
            .await
            .unwrap();
    });
}

#[test]
fn a_syntax_error_has_its_sqlstate_and_position_and_the_connection_goes_on() {
    common::with_conn(|conn| async move {
        let e = conn.fetch("SELEKT 1", &[]).await.unwrap_err();
        assert_eq!(e.code(), Some(&SqlState::SYNTAX_ERROR));
        assert_eq!(
            e.as_db_error().unwrap().message(),
            "syntax error at or near \"SELEKT\""
        );
        assert!(matches!(e, Error::Postgres(_)));
        assert!(!e.is_closed());
        let one: i32 = conn.fetchval("SELECT 1", &[]).await.unwrap();
        assert_eq!(one, 1);
    });
}

#[test]
fn a_raised_exception_carries_the_custom_sqlstate_and_hint() {
    common::with_conn(|conn| async move {
        let e = conn
            .execute_script(
                "DO $$ BEGIN RAISE EXCEPTION 'out of stock' USING ERRCODE = 'P0042', \
                 HINT = 'order less'; END $$",
            )
            .await
            .unwrap_err();
        assert_eq!(e.code().map(SqlState::code), Some("P0042"));
        let db = e.as_db_error().unwrap();
        assert_eq!(db.message(), "out of stock");
        assert_eq!(db.hint(), Some("order less"));
    });
}

#[test]
fn a_division_by_zero_is_data_exception_22012() {
    common::with_conn(|conn| async move {
        let e = conn
            .fetchval::<i32>("SELECT 1 / $1::int", &[&0i32])
            .await
            .unwrap_err();
        assert_eq!(e.code(), Some(&SqlState::DIVISION_BY_ZERO));
        assert_eq!(e.as_db_error().unwrap().message(), "division by zero");
    });
}
