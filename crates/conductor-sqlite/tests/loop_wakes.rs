//! How often the connection's thread wakes the loop: once per call, not more.

use conductor_sqlite::connect;

/// Calls awaited one after another: each parks the loop once, until its reply wakes it. A
/// reply that costs the loop a second wake-up (the task's waker dropped on the connection's
/// thread, settled through the loop's remote queue) shows as up to two parks a call.
#[test]
fn each_call_wakes_the_loop_once() {
    const CALLS: u64 = 300;
    let rt = conductor::Runtime::new().unwrap();
    rt.block_on(async {
        let db = connect(":memory:").await.unwrap();
        for i in 0..CALLS {
            let row = db.fetch_one("SELECT ?1 + 1", (i as i64,)).await.unwrap();
            assert_eq!(row.unwrap().get::<i64>(0).unwrap(), i as i64 + 1);
        }
        db.close().await.unwrap();
    });
    let parks = rt.stats().parks;
    // Connecting and closing park a few times more.
    assert!(parks <= CALLS + 20, "{parks} parks for {CALLS} calls");
}
