//! COPY: records into a table in the binary format, a query's result out as text.
mod common;

use conductor_postgres::ToSql;
use futures_util::StreamExt;

#[test]
fn copy_records_to_table_copies_typed_rows_with_nulls() {
    common::with_table(
        "copy_in",
        "id int8, name text, score float8, extra text",
        |conn, t| async move {
            let rows: Vec<(i64, Option<String>, f64)> = (0..10_000)
                .map(|i| (i, (i % 3 != 0).then(|| format!("n{i}")), i as f64 / 2.0))
                .collect();
            let n = conn
                .copy_records_to_table(
                    &t,
                    &["id", "name", "score"],
                    rows.iter()
                        .map(|(i, n, s)| [i as &(dyn ToSql + Sync), n, s]),
                )
                .await
                .unwrap();
            assert_eq!(n, 10_000);
            let row = conn
                .fetchrow(
                    &format!("SELECT count(*), count(name), sum(score), max(id) FROM {t}"),
                    &[],
                )
                .await
                .unwrap()
                .unwrap();
            assert_eq!(row.get::<_, i64>(0), 10_000);
            assert_eq!(row.get::<_, i64>(1), 6_666);
            assert_eq!(
                row.get::<_, f64>(2),
                (0..10_000).map(|i| i as f64 / 2.0).sum::<f64>()
            );
            assert_eq!(row.get::<_, i64>(3), 9_999);
        },
    );
}

#[test]
fn copy_records_to_table_with_no_columns_fills_them_all() {
    common::with_table("copy_all", "a int, b bool", |conn, t| async move {
        let n = conn
            .copy_records_to_table(&t, &[], [[&1i32 as &(dyn ToSql + Sync), &true]])
            .await
            .unwrap();
        assert_eq!(n, 1);
        let b: bool = conn
            .fetchval(&format!("SELECT b FROM {t}"), &[])
            .await
            .unwrap();
        assert!(b);
    });
}

#[test]
fn a_failing_copy_copies_nothing_and_reports_the_server_error() {
    common::with_table("copy_fail", "a int NOT NULL", |conn, t| async move {
        let e = conn
            .copy_records_to_table(
                &t,
                &["a"],
                [[&Some(1i32) as &(dyn ToSql + Sync)], [&None::<i32>]],
            )
            .await
            .unwrap_err();
        assert_eq!(
            e.code(),
            Some(&conductor_postgres::SqlState::NOT_NULL_VIOLATION),
            "{e}"
        );
        let n: i64 = conn
            .fetchval(&format!("SELECT count(*) FROM {t}"), &[])
            .await
            .unwrap();
        assert_eq!(n, 0);
    });
}

#[test]
fn copy_from_query_streams_text_rows() {
    common::with_conn(|conn| async move {
        let out = conn
            .copy_from_query("SELECT i, 'x' || i FROM generate_series(1, 3) i")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "1\tx1\n2\tx2\n3\tx3\n");
    });
}

#[test]
fn a_copy_out_dropped_early_is_cancelled_and_the_connection_goes_on() {
    common::with_conn(|conn| async move {
        let mut out = conn
            // Wide rows: the server sends COPY data in 8 kB packets.
            .copy_from_query(
                "SELECT i, repeat('x', 9000), pg_sleep(0.01) FROM generate_series(1, 100000) i",
            )
            .await
            .unwrap();
        let first = out.next().await.unwrap().unwrap();
        assert!(first.starts_with(b"1\t"));
        drop(out);
        let started = std::time::Instant::now();
        let one: i32 = conn.fetchval("SELECT 1", &[]).await.unwrap();
        assert_eq!(one, 1);
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    });
}

#[test]
fn a_record_that_does_not_fit_aborts_the_copy_and_the_connection_goes_on() {
    common::with_table("copy_misfit", "a int, b text", |conn, t| async move {
        // 100,000 good rows first, so that chunks are already on their way when the bad one
        // comes.
        let good: Vec<(i32, String)> = (0..100_000).map(|i| (i, format!("r{i}"))).collect();
        let records = good
            .iter()
            .map(|(a, b)| vec![a as &(dyn ToSql + Sync), b])
            .chain(std::iter::once(vec![
                &"not an int" as &(dyn ToSql + Sync),
                &"x",
            ]));
        let e = conn
            .copy_records_to_table(&t, &["a", "b"], records)
            .await
            .unwrap_err();
        assert!(matches!(e, conductor_postgres::Error::Record(_)), "{e}");
        assert!(
            e.to_string().contains("record 100000, column \"a\" (int4)"),
            "{e}"
        );
        let short = conn
            .copy_records_to_table(&t, &["a", "b"], [[&1i32 as &(dyn ToSql + Sync)]])
            .await
            .unwrap_err();
        assert!(
            short.to_string().contains("1 values for 2 columns"),
            "{short}"
        );
        let n: i64 = conn
            .fetchval(&format!("SELECT count(*) FROM {t}"), &[])
            .await
            .unwrap();
        assert_eq!(n, 0);
    });
}
