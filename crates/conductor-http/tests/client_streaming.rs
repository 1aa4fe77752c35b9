//! Streaming both ways and the other bodies, against Python's aiohttp server: the response
//! body read by `read(n)`, `read_exact`, `readline`, `lines()` and `iter_chunked(n)` as it
//! comes in small pieces; brotli bodies (whole and cut short); an upload from a stream
//! (chunked, read by the server as it comes); multipart bodies (`FormData` with files, read by
//! aiohttp's `request.post()`, and `multipart/mixed` by its `request.multipart()` reader).

#[path = "support/client.rs"]
mod client_support;
mod support;

use std::time::Duration;

use bytes::Bytes;
use client_support::{AIOHTTP_PRELUDE, python_server};
use conductor_http::client::{ClientSession, ErrorKind, Multipart};
use futures_util::StreamExt;
use sha1::{Digest, Sha1};
use support::run;

const SERVER: &str = r#"
import hashlib, brotli

TEXT = "".join(f"line {i}\n" for i in range(100)) + "last, without a newline"

async def pieces(request, data, size=7, headers=None):
    resp = web.StreamResponse(headers=headers or {})
    await resp.prepare(request)
    for i in range(0, len(data), size):
        await resp.write(data[i:i + size])
        if i % (size * 20) == 0:
            await asyncio.sleep(0.001)
    await resp.write_eof()
    return resp

async def lines(request):
    return await pieces(request, TEXT.encode())

async def br(request):
    return await pieces(request, brotli.compress(("brotli " * 5000).encode()), 100,
                        {"Content-Encoding": "br"})

async def br_cut(request):
    data = brotli.compress(("brotli " * 5000).encode())
    return web.Response(body=data[: len(data) // 2], headers={"Content-Encoding": "br"})

async def upload(request):
    h, n, chunks = hashlib.sha1(), 0, 0
    async for chunk in request.content.iter_any():
        h.update(chunk); n += len(chunk); chunks += 1
    return web.json_response({"len": n, "sha1": h.hexdigest(), "chunks": chunks,
                              "te": request.headers.get("Transfer-Encoding"),
                              "cl": request.headers.get("Content-Length")})

async def form(request):
    out = {}
    for name, value in (await request.post()).items():
        if isinstance(value, web.FileField):
            data = value.file.read()
            out[name] = {"filename": value.filename, "content_type": value.content_type,
                         "len": len(data), "sha1": hashlib.sha1(data).hexdigest()}
        else:
            out[name] = value
    return web.json_response(out)

async def mixed(request):
    reader = await request.multipart()
    parts = []
    async for part in reader:
        parts.append({"content_type": part.headers.get("Content-Type"),
                      "text": (await part.read()).decode()})
    return web.json_response({"subtype": request.content_type, "parts": parts})

async def main():
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.add_routes([web.get("/lines", lines), web.get("/br", br), web.get("/br-cut", br_cut),
                    web.post("/upload", upload), web.post("/form", form),
                    web.post("/mixed", mixed)])
    await serve(app)

asyncio.run(main())
"#;

fn text() -> String {
    let mut t: String = (0..100).map(|i| format!("line {i}\n")).collect();
    t.push_str("last, without a newline");
    t
}

fn sha1_hex(data: &[u8]) -> String {
    Sha1::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn streamed_reads_brotli_uploads_and_multipart_against_pythons_aiohttp() {
    run(90, async {
        let (_child, base) = python_server(&format!("{AIOHTTP_PRELUDE}{SERVER}")).await;
        let session = ClientSession::builder().base_url(&base).build().unwrap();

        // readline: every line, its newline included; the last without; then empty.
        let mut resp = session.get("/lines").await.unwrap();
        for i in 0..100 {
            let line = resp.readline().await.unwrap();
            assert_eq!(line, format!("line {i}\n").as_bytes());
        }
        assert_eq!(
            resp.readline().await.unwrap(),
            "last, without a newline".as_bytes()
        );
        assert!(resp.readline().await.unwrap().is_empty());

        // lines(): the same as a Stream.
        let lines: Vec<Bytes> = session
            .get("/lines")
            .await
            .unwrap()
            .lines()
            .map(Result::unwrap)
            .collect()
            .await;
        assert_eq!(lines.len(), 101);
        assert_eq!(lines.concat(), text().as_bytes());

        // iter_chunked(5): chunks of at most 5 bytes, together the body.
        let chunks: Vec<Bytes> = session
            .get("/lines")
            .await
            .unwrap()
            .iter_chunked(5)
            .map(Result::unwrap)
            .collect()
            .await;
        assert!(chunks.iter().all(|c| !c.is_empty() && c.len() <= 5));
        assert_eq!(chunks.concat(), text().as_bytes());

        // read(n), read_exact(n), then the rest with text().
        let mut resp = session.get("/lines").await.unwrap();
        let first = resp.read(3).await.unwrap();
        assert_eq!(first, "lin".as_bytes());
        assert_eq!(resp.read_exact(20).await.unwrap(), text().as_bytes()[3..23]);
        let rest = resp.text().await.unwrap();
        assert_eq!(rest, text()[23..]);
        let mut resp = session.get("/lines").await.unwrap();
        let err = resp.read_exact(1_000_000).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Body);
        assert!(err.to_string().contains("/lines"), "{err}");

        // Brotli, decoded as it comes in 100-byte pieces; cut short, an error.
        let resp = session.get("/br").await.unwrap();
        assert_eq!(resp.headers()["content-encoding"], "br");
        assert_eq!(resp.text().await.unwrap(), "brotli ".repeat(5000));
        let err = session
            .get("/br-cut")
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Body);
        assert!(err.to_string().contains("/br-cut"), "{err}");

        // An upload from a stream: 8 MiB in 1,024 pieces of 8 KiB, sent chunked.
        let piece = |i: usize| Bytes::from(vec![(i % 251) as u8; 8192]);
        let all: Vec<u8> = (0..1024).flat_map(|i| piece(i).to_vec()).collect();
        let stream = futures_util::stream::iter(0..1024).then(move |i| async move {
            if i % 64 == 0 {
                conductor::sleep(Duration::from_millis(1)).await;
            }
            Ok::<_, std::io::Error>(piece(i))
        });
        let got: serde_json::Value = session
            .post("/upload")
            .body_stream(stream)
            .await
            .unwrap()
            .raise_for_status()
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(got["len"], all.len());
        assert_eq!(got["sha1"], sha1_hex(&all));
        assert_eq!(got["te"], "chunked");
        assert!(got["cl"].is_null());
        assert!(got["chunks"].as_u64().unwrap() > 1, "{got}");

        // A stream that fails aborts the request, naming the URL.
        let failing = futures_util::stream::iter([
            Ok(Bytes::from_static(b"some")),
            Err(std::io::Error::other("the source broke")),
        ]);
        let err = session
            .post("/upload")
            .body_stream(failing)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Request);
        let msg = err.to_string();
        assert!(
            msg.contains("/upload") && msg.contains("the source broke"),
            "{msg}"
        );

        // FormData with files, read by aiohttp's request.post().
        let photo: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 256) as u8).collect();
        let form = Multipart::form_data()
            .text("title", "holiday")
            .text("note", "line one\r\nline two, \"quoted\"")
            .file("photo", "beach \"1\".jpg", "image/jpeg", &photo)
            .file("notes", "notes.txt", "text/plain", "hello");
        let got: serde_json::Value = session
            .post("/form")
            .multipart(form)
            .await
            .unwrap()
            .raise_for_status()
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(got["title"], "holiday");
        assert_eq!(got["note"], "line one\r\nline two, \"quoted\"");
        assert_eq!(got["photo"]["filename"], "beach %221%22.jpg");
        assert_eq!(got["photo"]["content_type"], "image/jpeg");
        assert_eq!(got["photo"]["len"], photo.len());
        assert_eq!(got["photo"]["sha1"], sha1_hex(&photo));
        assert_eq!(got["notes"]["len"], 5);

        // multipart/mixed, read part by part by aiohttp's MultipartReader.
        let mixed = Multipart::mixed()
            .part("text/plain", "first")
            .part("application/json", r#"{"second": 2}"#);
        let got: serde_json::Value = session
            .post("/mixed")
            .multipart(mixed)
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(got["subtype"], "multipart/mixed");
        assert_eq!(got["parts"][0]["content_type"], "text/plain");
        assert_eq!(got["parts"][0]["text"], "first");
        assert_eq!(got["parts"][1]["content_type"], "application/json");
        assert_eq!(got["parts"][1]["text"], r#"{"second": 2}"#);
    });
}
