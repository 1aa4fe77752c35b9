//! Static files: content types, HEAD, byte ranges (206, 416), directory index, and paths that
//! try to leave the root.

mod support;

use conductor_http::files::Files;
use support::{exec, get, listener, run};

fn root() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("conductor-http-files-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("docs")).unwrap();
    std::fs::write(dir.join("hello.txt"), "hello, static world").unwrap();
    std::fs::write(dir.join("data.json"), r#"{"a":1}"#).unwrap();
    std::fs::write(dir.join("docs/index.html"), "<h1>docs</h1>").unwrap();
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(dir.join("big.bin"), big).unwrap();
    dir
}

#[test]
fn files_are_served_with_their_content_type_and_ranges() {
    let dir = root();
    run(30, async move {
        let running = conductor_http::Server::new().start(listener().await, Files::new(&dir));
        let base = format!("http://{}", running.local_addr().unwrap());
        let (out, err, ok) = exec("curl", &["-si", &format!("{base}/hello.txt")], 20).await;
        assert!(ok, "{err}");
        assert!(
            out.contains("content-type: text/plain; charset=utf-8"),
            "{out}"
        );
        assert!(out.contains("accept-ranges: bytes"), "{out}");
        assert!(out.contains("last-modified: "), "{out}");
        assert!(out.ends_with("\r\n\r\nhello, static world"), "{out}");

        let (out, _, _) = exec(
            "curl",
            &["-si", "-r", "7-12", &format!("{base}/hello.txt")],
            20,
        )
        .await;
        assert!(out.starts_with("HTTP/1.1 206 Partial Content"), "{out}");
        assert!(out.contains("content-range: bytes 7-12/19"), "{out}");
        assert!(out.ends_with("\r\n\r\nstatic"), "{out}");

        let (out, _, _) = exec(
            "curl",
            &[
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "-r",
                "100-",
                &format!("{base}/hello.txt"),
            ],
            20,
        )
        .await;
        assert_eq!(out, "416");

        let (out, _, _) = exec("curl", &["-sI", &format!("{base}/data.json")], 20).await;
        assert!(out.contains("content-type: application/json"), "{out}");
        assert!(
            out.contains("content-length: 7"),
            "HEAD: the length, no body: {out}"
        );

        let (out, _, _) = exec("curl", &["-s", &format!("{base}/docs/")], 20).await;
        assert_eq!(out, "<h1>docs</h1>");

        // A large file in chunks: the bytes are the file's.
        let (out, _, _) = exec(
            "curl",
            &[
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{size_download}",
                &format!("{base}/big.bin"),
            ],
            20,
        )
        .await;
        assert_eq!(out, "200000");
        let tail_file = dir.join("tail.out");
        let tail_path = tail_file.to_str().unwrap();
        exec(
            "curl",
            &[
                "-s",
                "-r",
                "-3",
                "-o",
                tail_path,
                &format!("{base}/big.bin"),
            ],
            20,
        )
        .await;
        let tail: Vec<u8> = (199_997..200_000u32).map(|i| (i % 251) as u8).collect();
        assert_eq!(std::fs::read(&tail_file).unwrap(), tail);
    });
}

#[test]
fn paths_outside_the_root_and_missing_files_are_404() {
    let dir = root();
    run(30, async move {
        let running =
            conductor_http::Server::new().start(listener().await, Files::new(dir.join("docs")));
        let addr = running.local_addr().unwrap();
        for path in ["/../hello.txt", "/%2e%2e/hello.txt", "/missing.txt"] {
            let resp = get(addr, path).await;
            assert!(resp.starts_with("HTTP/1.1 404 Not Found"), "{path}: {resp}");
        }
    });
}
