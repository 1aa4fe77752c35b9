//! fetch, fetchrow, fetchval, execute, execute_script, executemany, prepare, rows read by
//! name and index, the statement cache, and pipelining on one connection.
mod common;

use common::with_conn;
use conductor_postgres::{Connection, Error, SqlState, tokio_postgres};

#[test]
fn fetch_binds_dollar_parameters_and_rows_read_by_name_and_index() {
    with_conn(|conn| async move {
        let rows = conn
            .fetch(
                "SELECT i AS id, 'n' || i AS name FROM generate_series(1, $1::int) i WHERE i > $2",
                &[&3i32, &1i32],
            )
            .await
            .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].get::<_, i32>("id"), 2);
        assert_eq!(rows[0].get::<_, &str>(1), "n2");
        assert_eq!(rows[1].get::<_, String>("name"), "n3");
    });
}

#[test]
fn a_wrong_type_is_an_error_from_try_get_not_a_panic() {
    with_conn(|conn| async move {
        let row = conn
            .fetchrow("SELECT 'x'::text AS t", &[])
            .await
            .unwrap()
            .unwrap();
        let e = row.try_get::<_, i32>("t").unwrap_err();
        assert!(e.to_string().contains("column 0"), "{e}");
        assert!(row.try_get::<_, i32>("missing").is_err());
    });
}

#[test]
fn fetchrow_returns_the_first_row_or_none() {
    with_conn(|conn| async move {
        let row = conn
            .fetchrow("SELECT * FROM generate_series(5, 9) ORDER BY 1", &[])
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.get::<_, i32>(0), 5);
        let none = conn.fetchrow("SELECT 1 WHERE false", &[]).await.unwrap();
        assert!(none.is_none());
    });
}

#[test]
fn fetchval_reads_the_first_column_null_as_none_and_no_row_as_an_error() {
    with_conn(|conn| async move {
        let v: i64 = conn
            .fetchval("SELECT $1::bigint * 2, 'other'", &[&21i64])
            .await
            .unwrap();
        assert_eq!(v, 42);
        let null: Option<i32> = conn.fetchval("SELECT NULL::int", &[]).await.unwrap();
        assert_eq!(null, None);
        let e = conn
            .fetchval::<i32>("SELECT 1 WHERE false", &[])
            .await
            .unwrap_err();
        assert!(matches!(e, Error::NoRows), "{e}");
    });
}

#[test]
fn execute_returns_rows_affected_and_execute_script_runs_several_statements() {
    with_conn(|conn| async move {
        let t = common::table("exec");
        conn.execute_script(&format!(
            "DROP TABLE IF EXISTS {t}; CREATE TABLE {t} (id int PRIMARY KEY, name text); \
             INSERT INTO {t} VALUES (1, 'a'), (2, 'b')"
        ))
        .await
        .unwrap();
        let n = conn
            .execute(
                &format!("UPDATE {t} SET name = $1 WHERE id >= $2"),
                &[&"z", &1i32],
            )
            .await
            .unwrap();
        assert_eq!(n, 2);
        conn.execute_script(&format!("DROP TABLE {t}"))
            .await
            .unwrap();
    });
}

#[test]
fn executemany_applies_every_row() {
    with_conn(|conn| async move {
        let t = common::table("many");
        conn.execute_script(&format!(
            "DROP TABLE IF EXISTS {t}; CREATE TABLE {t} (id int PRIMARY KEY, name text)"
        ))
        .await
        .unwrap();
        let rows: Vec<(i32, String)> = (0..50).map(|i| (i, format!("u{i}"))).collect();
        conn.executemany(
            &format!("INSERT INTO {t} VALUES ($1, $2)"),
            rows.iter()
                .map(|(i, n)| [i as &(dyn conductor_postgres::ToSql + Sync), n]),
        )
        .await
        .unwrap();
        let n: i64 = conn
            .fetchval(&format!("SELECT count(*) FROM {t}"), &[])
            .await
            .unwrap();
        assert_eq!(n, 50);
        conn.execute_script(&format!("DROP TABLE {t}"))
            .await
            .unwrap();
    });
}

#[test]
fn executemany_is_atomic_a_failing_row_applies_none() {
    with_conn(|conn| async move {
        let t = common::table("many_atomic");
        conn.execute_script(&format!(
            "DROP TABLE IF EXISTS {t}; CREATE TABLE {t} (id int PRIMARY KEY)"
        ))
        .await
        .unwrap();
        let ids = [1i32, 2, 2, 3];
        let e = conn
            .executemany(
                &format!("INSERT INTO {t} VALUES ($1)"),
                ids.iter()
                    .map(|i| [i as &(dyn conductor_postgres::ToSql + Sync)]),
            )
            .await
            .unwrap_err();
        assert_eq!(e.code(), Some(&SqlState::UNIQUE_VIOLATION), "{e}");
        let n: i64 = conn
            .fetchval(&format!("SELECT count(*) FROM {t}"), &[])
            .await
            .unwrap();
        assert_eq!(n, 0);
        assert!(!conn.is_in_transaction());
        // The connection is usable and outside any transaction.
        let one: i32 = conn.fetchval("SELECT 1", &[]).await.unwrap();
        assert_eq!(one, 1);
        conn.execute_script(&format!("DROP TABLE {t}"))
            .await
            .unwrap();
    });
}

#[test]
fn prepare_exposes_parameter_and_column_types_and_runs() {
    with_conn(|conn| async move {
        let st = conn
            .prepare("SELECT $1::int + 1 AS next, $2::text AS label")
            .await
            .unwrap();
        assert_eq!(
            st.params(),
            &[
                conductor_postgres::Type::INT4,
                conductor_postgres::Type::TEXT
            ]
        );
        assert_eq!(st.columns()[0].name(), "next");
        let v: i32 = st.fetchval(&[&41i32, &"x"]).await.unwrap();
        assert_eq!(v, 42);
        let rows = st.fetch(&[&1i32, &"y"]).await.unwrap();
        assert_eq!(rows[0].get::<_, &str>("label"), "y");
    });
}

#[test]
fn the_statement_cache_keeps_the_most_recent_statements() {
    let Some(mut config) = common::config() else {
        return;
    };
    config.statement_cache_size(2);
    common::run(async move {
        let conn = config.connect().await.unwrap();
        assert_eq!(conn.statement_cache_size(), 2);
        for sql in ["SELECT 1", "SELECT 2", "SELECT 1", "SELECT 3"] {
            let _: i32 = conn.fetchval(sql, &[]).await.unwrap();
        }
        // SELECT 2 was the least recently used when SELECT 3 came.
        assert_eq!(conn.cached_statements(), 2);
        // Counted through the simple protocol, which the cache does not see.
        assert_eq!(prepared_on_server(&conn).await, ["SELECT 1", "SELECT 3"]);
        conn.close().await;
    });
}

/// The server's prepared statements of this session, by text.
async fn prepared_on_server(conn: &Connection) -> Vec<String> {
    let msgs = conn
        .raw_client()
        .simple_query("SELECT statement FROM pg_prepared_statements ORDER BY statement")
        .await
        .unwrap();
    msgs.iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_owned),
            _ => None,
        })
        .collect()
}

#[test]
fn a_cache_of_size_zero_keeps_nothing() {
    let Some(mut config) = common::config() else {
        return;
    };
    config.statement_cache_size(0);
    common::run(async move {
        let conn = config.connect().await.unwrap();
        let _: i32 = conn.fetchval("SELECT 1", &[]).await.unwrap();
        assert_eq!(conn.cached_statements(), 0);
        // Give the driver a moment to send the statement's Close with the next request.
        conn.execute_script("").await.unwrap();
        assert!(prepared_on_server(&conn).await.is_empty());
        conn.close().await;
    });
}

#[test]
fn a_cached_statement_made_stale_by_a_schema_change_is_prepared_again() {
    with_conn(|conn| async move {
        let t = common::table("stale");
        conn.execute_script(&format!(
            "DROP TABLE IF EXISTS {t}; CREATE TABLE {t} (a int); INSERT INTO {t} VALUES (1)"
        ))
        .await
        .unwrap();
        let sql = format!("SELECT * FROM {t}");
        assert_eq!(conn.fetch(&sql, &[]).await.unwrap()[0].len(), 1);
        conn.execute_script(&format!("ALTER TABLE {t} ADD COLUMN b int DEFAULT 2"))
            .await
            .unwrap();
        let rows = conn.fetch(&sql, &[]).await.unwrap();
        assert_eq!(rows[0].len(), 2);
        assert_eq!(rows[0].get::<_, i32>("b"), 2);
        conn.execute_script(&format!("DROP TABLE {t}"))
            .await
            .unwrap();
    });
}

#[test]
fn concurrent_calls_on_one_connection_are_pipelined_and_answered_in_order() {
    with_conn(|conn| async move {
        let tasks: Vec<_> = (0..200i32)
            .map(|i| {
                let conn = conn.clone();
                conductor::spawn(async move {
                    conn.fetchval::<i32>("SELECT $1::int * 10", &[&i])
                        .await
                        .unwrap()
                })
            })
            .collect();
        for (i, t) in tasks.into_iter().enumerate() {
            assert_eq!(t.await.unwrap(), i as i32 * 10);
        }
        // 200 queries, one backend: they shared the connection.
        let backends: i64 = conn
            .fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = pg_backend_pid()",
                &[],
            )
            .await
            .unwrap();
        assert_eq!(backends, 1);
    });
}

#[test]
fn pipelined_sleeps_overlap_their_round_trips() {
    // Five 0.2 s sleeps sent at once take the server's 1 s, not 1 s plus five round trips
    // waited one after another: the bound is loose, the count of requests sent before any
    // reply is what it checks (all five are in the server's queue at once).
    with_conn(|conn| async move {
        let started = std::time::Instant::now();
        let all = conductor::gather((0..5).map(|_| {
            let conn = conn.clone();
            async move { conn.execute("SELECT pg_sleep(0.2)", &[]).await.unwrap() }
        }));
        assert_eq!(all.await.unwrap().len(), 5);
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    });
}
