use std::time::Duration;

#[test]
fn spawn_and_sleep() {
    let out = conductor::run(async {
        let a = conductor::spawn(async {
            conductor::sleep(Duration::from_millis(20)).await;
            1
        });
        let b = conductor::spawn(async {
            conductor::sleep(Duration::from_millis(20)).await;
            2
        });
        a.await.unwrap() + b.await.unwrap()
    });
    assert_eq!(out, 3);
}
