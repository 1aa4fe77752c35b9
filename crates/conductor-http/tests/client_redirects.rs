//! Redirects (followed up to max_redirects and kept in `history`, 303 turns a POST into a GET, 307 repeats it) and
//! form bodies.

#[path = "support/client.rs"]
mod client_support;
mod support;

use client_support::server;
use conductor_http::client::{ClientSession, ErrorKind};
use support::run;

#[test]
fn redirects_are_followed_up_to_the_limit_over_one_connection() {
    run(30, async {
        let (base, _running, accepted) = server().await;
        let session = ClientSession::new();
        let resp = session.get(format!("{base}/redirect/3")).await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.url().path(), "/redirect/0");
        let history: Vec<_> = resp
            .history()
            .iter()
            .map(|r| (r.status().as_u16(), r.url().path().to_owned()))
            .collect();
        assert_eq!(
            history,
            [
                (302, "/redirect/3"),
                (302, "/redirect/2"),
                (302, "/redirect/1")
            ]
            .map(|(s, p)| (s, p.to_owned())),
            "aiohttp's response.history, oldest first"
        );
        assert_eq!(resp.history()[0].headers()["location"], "/redirect/2");
        assert_eq!(resp.text().await.unwrap(), "arrived");
        assert_eq!(
            accepted.get(),
            1,
            "each redirect's body read, its connection reused"
        );

        let strict = ClientSession::builder().max_redirects(2).build().unwrap();
        let err = strict.get(format!("{base}/redirect/3")).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TooManyRedirects(2));
        assert!(err.to_string().contains("more than 2 redirects"), "{err}");

        let resp = session
            .get(format!("{base}/redirect/3"))
            .allow_redirects(false)
            .await
            .unwrap();
        assert_eq!(resp.status(), 302);
        assert_eq!(resp.headers()["location"], "/redirect/2");
        assert!(resp.history().is_empty(), "nothing followed");
    });
}

#[test]
fn see_other_turns_a_post_into_a_get_and_temporary_repeats_it() {
    run(30, async {
        let (base, _running, _) = server().await;
        let session = ClientSession::new();
        let v: serde_json::Value = session
            .post(format!("{base}/see-other"))
            .json(&serde_json::json!({"a": 1}))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["path"], "/inspect");
        let resp = session
            .post(format!("{base}/see-other"))
            .json(&serde_json::json!({"a": 1}))
            .await
            .unwrap();
        let redirect = &resp.history()[0];
        assert_eq!(
            (redirect.method(), redirect.status().as_u16()),
            (&http::Method::POST, 303)
        );
        assert_eq!(resp.history().len(), 1);
        assert!(
            v["headers"].get("content-type").is_none(),
            "the body was dropped"
        );

        let payload = serde_json::json!({"kept": true});
        let v: serde_json::Value = session
            .post(format!("{base}/temporary"))
            .json(&payload)
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"got": payload}),
            "307: POST again, with the body"
        );
    });
}

#[test]
fn a_form_body_is_url_encoded() {
    run(30, async {
        let (base, _running, _) = server().await;
        let v: serde_json::Value = ClientSession::new()
            .post(format!("{base}/form"))
            .form([("name", "conductor http"), ("q", "a&b=c")])
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["content-type"], "application/x-www-form-urlencoded");
        assert_eq!(v["body"], "name=conductor+http&q=a%26b%3Dc");
    });
}
