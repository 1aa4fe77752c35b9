//! A real browser (Debian's chromium, headless) against a page conductor-http serves: the page
//! and its script come from static files, the script fetches JSON, listens to Server-Sent
//! Events and talks over a WebSocket, and writes what it got into the page. The test reads the
//! page as the browser rendered it (`--dump-dom`) and keeps a screenshot in
//! `target/browser-artefacts/`.
//!
//! Without chromium the test says SKIPPED, unless `CI` is set (`.ci/run` installs chromium):
//! then a missing browser is a failure.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use conductor_http::files::serve_file;
use conductor_http::sse::{Event, sse_response};
use conductor_http::{Router, json_response};
use support::chromium::{self, CHROMIUM, artefacts};
use support::{exec, listener, run, ws_echo};

const INDEX: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>conductor-http in a browser</title></head>
<body>
<h1>tasks</h1>
<ul id="tasks"></ul>
<p id="events"></p>
<p id="ws"></p>
<p id="done"></p>
<script src="/static/app.js"></script>
</body></html>
"#;

const APP_JS: &str = r#"
const steps = [];
function finish(name) {
  steps.push(name);
  if (steps.length === 3) document.getElementById("done").textContent = "all " + steps.sort().join(",");
}
fetch("/api/tasks").then(r => r.json()).then(tasks => {
  const ul = document.getElementById("tasks");
  for (const t of tasks) {
    const li = document.createElement("li");
    li.textContent = t.name + ":" + t.state;
    ul.appendChild(li);
  }
  finish("fetch");
});
const seen = [];
const source = new EventSource("/events");
source.addEventListener("tick", e => {
  seen.push(e.data);
  document.getElementById("events").textContent = seen.join(" ");
  if (seen.length === 3) { source.close(); finish("sse"); }
});
const socket = new WebSocket("ws://" + location.host + "/ws");
socket.onopen = () => socket.send("from the browser");
socket.onmessage = e => { document.getElementById("ws").textContent = e.data; socket.close(); finish("ws"); };
"#;

fn site() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("conductor-http-browser-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("static")).unwrap();
    std::fs::write(dir.join("index.html"), INDEX).unwrap();
    std::fs::write(dir.join("static/app.js"), APP_JS).unwrap();
    dir
}

fn app(dir: &Path) -> Router {
    let index = dir.join("index.html");
    let script = dir.join("static/app.js");
    Router::new()
        .get("/", move |req| {
            let index = index.clone();
            async move { serve_file(&req, &index).await }
        })
        .get("/static/app.js", move |req| {
            let script = script.clone();
            async move { serve_file(&req, &script).await }
        })
        .get("/api/tasks", |_req| async {
            json_response(&serde_json::json!([
                {"name": "fetcher", "state": "pending"},
                {"name": "writer", "state": "done"},
            ]))
        })
        .get("/events", |_req| async {
            let ticks = futures_util::stream::unfold(1, |i| async move {
                if i > 3 {
                    return None;
                }
                conductor::sleep(Duration::from_millis(20)).await;
                Some((Event::data(format!("tick{i}")).event("tick"), i + 1))
            });
            sse_response(ticks)
        })
        .get("/ws", ws_echo)
}

/// Loads `url` until its script marked the page done (or the budget ran out), and returns the
/// DOM chromium rendered.
async fn rendered_dom(url: &str, profile: &Path) -> String {
    let mut args = chromium::args(profile);
    args.extend([
        "--virtual-time-budget=10000".into(),
        "--dump-dom".into(),
        url.into(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (out, err, ok) = exec(CHROMIUM, &args, 60).await;
    assert!(ok, "chromium failed: {err}");
    out
}

#[test]
fn chromium_renders_the_page_its_script_its_json_its_events_and_its_websocket() {
    if !chromium::here() {
        return;
    }
    let dir = site();
    let cleanup = dir.clone();
    run(120, async move {
        let running = conductor_http::Server::new().start(listener().await, app(&dir));
        let url = format!("http://{}/", running.local_addr().unwrap());

        let dom = rendered_dom(&url, &dir.join("profile")).await;
        assert!(
            dom.contains("<title>conductor-http in a browser</title>"),
            "{dom}"
        );
        assert!(
            dom.contains("<li>fetcher:pending</li><li>writer:done</li>"),
            "the fetched JSON: {dom}"
        );
        assert!(
            dom.contains("<p id=\"events\">tick1 tick2 tick3</p>"),
            "the events: {dom}"
        );
        assert!(
            dom.contains("<p id=\"ws\">echo: from the browser</p>"),
            "the WebSocket: {dom}"
        );
        assert!(dom.contains("<p id=\"done\">all fetch,sse,ws</p>"), "{dom}");

        let shot = artefacts().join("conductor-http-page.png");
        let _ = std::fs::remove_file(&shot);
        let mut args = chromium::args(&dir.join("profile"));
        args.extend([
            "--virtual-time-budget=10000".into(),
            "--window-size=800,600".into(),
            format!("--screenshot={}", shot.display()),
            url.clone(),
        ]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (_, err, ok) = exec(CHROMIUM, &args, 60).await;
        assert!(ok, "chromium's screenshot failed: {err}");
        let png = std::fs::read(&shot).unwrap_or_default();
        assert!(
            png.starts_with(b"\x89PNG"),
            "no screenshot at {}",
            shot.display()
        );
        running.shutdown(Duration::from_secs(5)).await;
    });
    let _ = std::fs::remove_dir_all(cleanup);
}
