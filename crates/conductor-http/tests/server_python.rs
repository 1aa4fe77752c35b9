//! Python's aiohttp client against conductor's server: the guides' GET of a JSON user, POST
//! JSON, and three delayed URLs fetched concurrently through one ClientSession.

mod support;

use support::{app, exec, listener, run};

const CLIENT: &str = r#"
import asyncio, aiohttp, sys, time
base = sys.argv[1]
async def main():
    async with aiohttp.ClientSession() as session:
        async with session.get(base + "/users/octocat") as r:
            print(r.status, (await r.json())["id"])
        async with session.post(base + "/json", json={"key": "value", "name": "asyncio"}) as r:
            print(r.status, await r.json())
        async def fetch(ms):
            async with session.get(f"{base}/sleep/{ms}") as r:
                return await r.text()
        start = time.monotonic()
        got = await asyncio.gather(fetch(300), fetch(600), fetch(300))
        print(got, time.monotonic() - start < 1.1)
        async with session.post(base + "/echo", data=b"x" * 5000) as r:
            print(r.status, len(await r.read()))
asyncio.run(asyncio.wait_for(main(), 20))
"#;

#[test]
fn pythons_aiohttp_client_gets_posts_and_fetches_concurrently() {
    run(60, async {
        let running = conductor_http::Server::new()
            .max_body_size(4096)
            .start(listener().await, app());
        let base = format!("http://{}", running.local_addr().unwrap());
        let (out, err, ok) = exec("python3", &["-c", CLIENT, &base], 40).await;
        assert!(ok, "{out}{err}");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[..3],
            [
                "200 octocat",
                "200 {'got': {'key': 'value', 'name': 'asyncio'}}",
                "['slept 300', 'slept 600', 'slept 300'] True",
            ]
        );
        assert!(
            lines[3].starts_with("413 "),
            "the body is over the 4 KiB limit: {out}"
        );
    });
}
