//! The cookie jar against Python's aiohttp server, which sets the cookies and says which came
//! back: kept and sent, by path and domain, deleted by `Max-Age=0`, `Secure` ones not sent
//! over http, cookies set by a redirect, a request's own cookies, and aiohttp's rule for IP
//! hosts (`unsafe`).

#[path = "support/client.rs"]
mod client_support;
mod support;

use client_support::{AIOHTTP_PRELUDE, python_server};
use conductor_http::client::{ClientSession, CookieJar};
use support::run;

const SERVER: &str = r#"
async def set_cookies(request):
    resp = web.json_response("set")
    for raw in request.query.getall("c", []):
        resp.headers.add("Set-Cookie", raw)
    return resp

async def echo(request):
    return web.json_response(dict(request.cookies))

async def redirect(request):
    resp = web.HTTPFound("/echo")
    resp.set_cookie("from_redirect", "yes")
    raise resp

async def main():
    app = web.Application()
    app.add_routes([web.get("/set", set_cookies), web.get("/echo", echo),
                    web.get("/private/echo", echo), web.get("/redirect", redirect)])
    await serve(app)

asyncio.run(main())
"#;

async fn cookies_seen(session: &ClientSession, url: &str) -> serde_json::Value {
    session
        .get(url)
        .await
        .unwrap()
        .raise_for_status()
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn set(session: &ClientSession, base: &str, cookies: &[&str]) {
    let resp = session
        .get(format!("{base}/set"))
        .query(cookies.iter().map(|c| ("c", *c)))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.bytes().await.unwrap();
}

#[test]
fn the_jar_keeps_and_sends_cookies_as_aiohttp_does() {
    run(60, async {
        let (_child, ip_base) = python_server(&format!("{AIOHTTP_PRELUDE}{SERVER}")).await;
        // A host name, so that the default jar serves it (aiohttp's ignores IP hosts).
        let base = ip_base.replace("127.0.0.1", "localhost");
        let session = ClientSession::new();

        set(
            &session,
            &base,
            &["plain=1", "private=2; Path=/private", "secure=3; Secure"],
        )
        .await;
        let seen = cookies_seen(&session, &format!("{base}/echo")).await;
        assert_eq!(
            seen,
            serde_json::json!({"plain": "1"}),
            "Path and Secure respected"
        );
        let seen = cookies_seen(&session, &format!("{base}/private/echo")).await;
        assert_eq!(seen, serde_json::json!({"plain": "1", "private": "2"}));
        assert_eq!(session.cookie_jar().len(), 3);

        // Max-Age=0 deletes; a domain the host does not match is refused.
        set(
            &session,
            &base,
            &["plain=gone; Max-Age=0", "evil=1; Domain=example.com"],
        )
        .await;
        let seen = cookies_seen(&session, &format!("{base}/echo")).await;
        assert_eq!(seen, serde_json::json!({}));
        assert_eq!(
            session.cookie_jar().len(),
            2,
            "{:?}",
            session.cookie_jar().cookies()
        );

        // A redirect's cookies are kept and sent on to where it leads.
        let seen = cookies_seen(&session, &format!("{base}/redirect")).await;
        assert_eq!(seen, serde_json::json!({"from_redirect": "yes"}));

        // A request's own cookies go beside the jar's, that request only.
        let resp = session
            .get(format!("{base}/echo"))
            .cookie("once", "x")
            .await
            .unwrap();
        let seen: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(
            seen,
            serde_json::json!({"from_redirect": "yes", "once": "x"})
        );
        let seen = cookies_seen(&session, &format!("{base}/echo")).await;
        assert_eq!(seen, serde_json::json!({"from_redirect": "yes"}));

        // clear_domain and clear.
        assert_eq!(
            session
                .cookie_jar()
                .filter_cookies(&format!("{base}/"))
                .unwrap(),
            [("from_redirect".to_owned(), "yes".to_owned())]
        );
        session.cookie_jar().clear_domain("localhost");
        assert!(session.cookie_jar().is_empty());
        let seen = cookies_seen(&session, &format!("{base}/echo")).await;
        assert_eq!(seen, serde_json::json!({}));

        // aiohttp's default jar ignores IP hosts; CookieJar::unsafe_hosts serves them.
        set(&session, &ip_base, &["ip=1"]).await;
        assert!(session.cookie_jar().is_empty());
        let unsafe_session = ClientSession::builder()
            .cookie_jar(CookieJar::unsafe_hosts())
            .build()
            .unwrap();
        set(&unsafe_session, &ip_base, &["ip=1"]).await;
        let seen = cookies_seen(&unsafe_session, &format!("{ip_base}/echo")).await;
        assert_eq!(seen, serde_json::json!({"ip": "1"}));

        // The dummy jar keeps nothing; a shared jar serves two sessions.
        let dummy = ClientSession::builder()
            .cookie_jar(CookieJar::dummy())
            .build()
            .unwrap();
        set(&dummy, &base, &["kept=no"]).await;
        assert_eq!(
            cookies_seen(&dummy, &format!("{base}/echo")).await,
            serde_json::json!({})
        );
        let jar = CookieJar::new();
        let a = ClientSession::builder()
            .cookie_jar(jar.clone())
            .build()
            .unwrap();
        let b = ClientSession::builder().cookie_jar(jar).build().unwrap();
        set(&a, &base, &["shared=1"]).await;
        let seen = cookies_seen(&b, &format!("{base}/echo")).await;
        assert_eq!(seen, serde_json::json!({"shared": "1"}));
    });
}

#[test]
fn jar_methods_follow_rfc_6265() {
    let jar = CookieJar::new();
    let kept = jar
        .update_cookies(
            [
                "a=1",
                "sub=2; Domain=example.com; Path=/",
                "old=3; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
                "wrong=4; Domain=other.org",
            ],
            "http://www.example.com/dir/page",
        )
        .unwrap();
    assert_eq!(kept, 2);
    // `a` is host-only with the default path /dir; `sub` reaches every example.com host.
    let pairs = |url: &str| jar.filter_cookies(url).unwrap();
    assert_eq!(
        pairs("http://www.example.com/dir/x"),
        [("a".into(), "1".into()), ("sub".into(), "2".into())]
    );
    assert_eq!(
        pairs("http://www.example.com/"),
        [("sub".into(), "2".into())]
    );
    assert_eq!(
        pairs("http://api.example.com/dir/x"),
        [("sub".into(), "2".into())]
    );
    assert!(pairs("http://example.org/").is_empty());
    // IP hosts: ignored by the default jar, served by unsafe_hosts.
    assert_eq!(jar.update_cookies(["ip=1"], "http://10.0.0.1/").unwrap(), 0);
    let lax = CookieJar::unsafe_hosts();
    assert_eq!(lax.update_cookies(["ip=1"], "http://10.0.0.1/").unwrap(), 1);
    assert_eq!(
        lax.filter_cookies("http://10.0.0.1/x").unwrap(),
        [("ip".into(), "1".into())]
    );
    assert!(lax.filter_cookies("http://10.0.0.2/x").unwrap().is_empty());
    jar.clear();
    assert!(jar.is_empty());
}
