//! Type round trips through parameters and results: integers, floats, text, bytea, bool,
//! timestamps, uuid, json/jsonb, arrays, NULL.
mod common;

use std::fmt::Debug;
use std::time::{Duration, SystemTime};

use common::with_conn;
use conductor_postgres::{Connection, FromSql, ToSql};

async fn round_trip<T>(conn: &Connection, sql_type: &str, value: T)
where
    T: ToSql + Sync + for<'a> FromSql<'a> + PartialEq + Debug + Send,
{
    let sql = format!("SELECT $1::{sql_type}");
    let back: T = conn.fetchval(&sql, &[&value]).await.unwrap();
    assert_eq!(back, value, "{sql_type}");
}

#[test]
fn integers_round_trip() {
    with_conn(|c| async move {
        round_trip(&c, "int2", i16::MIN).await;
        round_trip(&c, "int4", i32::MAX).await;
        round_trip(&c, "int8", i64::MIN).await;
        round_trip(&c, "\"char\"", -5i8).await;
        round_trip(&c, "oid", 4_000_000_000u32).await;
    });
}

#[test]
fn floats_round_trip() {
    with_conn(|c| async move {
        round_trip(&c, "float4", 1.5f32).await;
        round_trip(&c, "float8", -2.25e300f64).await;
        let inf: f64 = c.fetchval("SELECT 'infinity'::float8", &[]).await.unwrap();
        assert!(inf.is_infinite());
    });
}

#[test]
fn text_round_trips_with_unicode() {
    with_conn(|c| async move {
        round_trip(&c, "text", "héllo, 世界 \u{1F600}".to_owned()).await;
        round_trip(&c, "varchar", String::new()).await;
    });
}

#[test]
fn bytea_round_trips_every_byte() {
    with_conn(|c| async move {
        round_trip(&c, "bytea", (0..=255u8).collect::<Vec<u8>>()).await;
    });
}

#[test]
fn bool_round_trips() {
    with_conn(|c| async move {
        round_trip(&c, "bool", true).await;
        round_trip(&c, "bool", false).await;
    });
}

#[test]
fn timestamps_round_trip_to_the_microsecond() {
    with_conn(|c| async move {
        let t = SystemTime::UNIX_EPOCH + Duration::from_micros(1_700_000_000_123_456);
        round_trip(&c, "timestamptz", t).await;
        round_trip(&c, "timestamp", t).await;
        let epoch: SystemTime = c
            .fetchval("SELECT '1970-01-01 00:00:00+00'::timestamptz", &[])
            .await
            .unwrap();
        assert_eq!(epoch, SystemTime::UNIX_EPOCH);
    });
}

#[test]
fn uuid_round_trips() {
    with_conn(|c| async move {
        round_trip(&c, "uuid", uuid::Uuid::new_v4()).await;
        let fixed: uuid::Uuid = c
            .fetchval("SELECT 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid", &[])
            .await
            .unwrap();
        assert_eq!(fixed.to_string(), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    });
}

#[test]
fn json_and_jsonb_round_trip() {
    with_conn(|c| async move {
        let v = serde_json::json!({"a": [1, 2.5, null], "b": {"c": "d"}});
        round_trip(&c, "json", v.clone()).await;
        round_trip(&c, "jsonb", v).await;
        let field: String = c
            .fetchval(
                "SELECT $1::jsonb ->> 'k'",
                &[&serde_json::json!({"k": "v"})],
            )
            .await
            .unwrap();
        assert_eq!(field, "v");
    });
}

#[test]
fn arrays_round_trip_with_nulls_inside() {
    with_conn(|c| async move {
        round_trip(&c, "int4[]", vec![1i32, 2, 3]).await;
        round_trip(&c, "text[]", vec!["a".to_owned(), String::new()]).await;
        round_trip(&c, "int8[]", Vec::<i64>::new()).await;
        round_trip(&c, "int4[]", vec![Some(1i32), None, Some(3)]).await;
        let n: i64 = c
            .fetchval(
                "SELECT cardinality($1::float8[])::int8",
                &[&vec![1.0f64, 2.0]],
            )
            .await
            .unwrap();
        assert_eq!(n, 2);
    });
}

#[test]
fn null_is_none_both_ways() {
    with_conn(|c| async move {
        round_trip(&c, "int4", None::<i32>).await;
        round_trip(&c, "text", None::<String>).await;
        let row = c
            .fetchrow("SELECT NULL::int AS n", &[])
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.get::<_, Option<i32>>("n"), None);
        // NULL read as a non-Option is a conversion error, not a panic.
        assert!(row.try_get::<_, i32>("n").is_err());
    });
}
