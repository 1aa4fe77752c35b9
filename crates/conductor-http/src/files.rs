//! Static files (aiohttp's `app.router.add_static`): [`Files`] serves a directory, with the
//! content type from the file name, `Last-Modified`, `HEAD`, and single byte ranges (`206
//! Partial Content`, `416` when unsatisfiable). Files are read in 64 KiB chunks on the thread
//! pool as the client takes them, so a large file never sits in memory.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::os::unix::fs::FileExt as _;
use std::path::{Component, Path, PathBuf};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use tower_service::Service;

use crate::body::{BoxError, ResponseBody};
use crate::response::status_response;

const CHUNK: u64 = 64 * 1024;

/// A service serving the files under `root` at the request's path (a path that leaves `root`
/// through `..` gets `404`). Directories serve their `index.html`.
///
/// ```
/// let dir = std::env::temp_dir().join("conductor-http-files-doc");
/// std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join("hello.txt"), "hi").unwrap();
/// let files = conductor_http::files::Files::new(&dir);
/// # let _ = files;
/// ```
#[derive(Clone, Debug)]
pub struct Files {
    root: Rc<PathBuf>,
}

impl Files {
    /// Serves the directory `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Files {
            root: Rc::new(root.into()),
        }
    }
}

impl<B> Service<Request<B>> for Files {
    type Response = Response<ResponseBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<ResponseBody>, Infallible>>>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let root = self.root.clone();
        let (parts, _body) = req.into_parts();
        Box::pin(async move {
            let Some(rel) = safe_relative(parts.uri.path()) else {
                return Ok(status_response(StatusCode::NOT_FOUND));
            };
            let req = Request::from_parts(parts, ());
            Ok(serve_file(&req, &root.join(rel)).await)
        })
    }
}

/// The request path as a path under the root: percent-decoded, without `.` components; `None`
/// when it tries to leave the root (`..`) or holds a NUL.
fn safe_relative(path: &str) -> Option<PathBuf> {
    let decoded = percent_decode(path)?;
    let mut out = PathBuf::new();
    for c in Path::new(&decoded).components() {
        match c {
            Component::Normal(p) => out.push(p),
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    if out.contains(&0) {
        return None;
    }
    String::from_utf8(out).ok()
}

/// Serves the file at `path` for `req` (`GET` or `HEAD`; other methods get `405`): `200` with
/// the whole file, `206` with one range of it, `404` when there is none, `416` for a range
/// beyond its end (aiohttp's `web.FileResponse`).
pub async fn serve_file<B>(req: &Request<B>, path: &Path) -> Response<ResponseBody> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut resp = status_response(StatusCode::METHOD_NOT_ALLOWED);
        resp.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return resp;
    }
    let path = path.to_owned();
    let opened = conductor::to_thread(move || open(path)).await;
    let Ok(Ok((file, len, modified, path))) = opened else {
        return status_response(StatusCode::NOT_FOUND);
    };
    let range = req
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(|r| parse_range(r, len));
    let (status, start, end) = match range {
        None | Some(Range::Ignored) => (StatusCode::OK, 0, len),
        Some(Range::Bytes(a, b)) => (StatusCode::PARTIAL_CONTENT, a, b),
        Some(Range::Unsatisfiable) => {
            let mut resp = status_response(StatusCode::RANGE_NOT_SATISFIABLE);
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                resp.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return resp;
        }
    };
    let body = if req.method() == Method::HEAD || start == end {
        ResponseBody::empty()
    } else {
        ResponseBody::stream(chunks(Arc::new(file), start, end))
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, content_type(&path));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(end - start));
    if status == StatusCode::PARTIAL_CONTENT
        && let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{}/{len}", end - 1))
    {
        h.insert(header::CONTENT_RANGE, v);
    }
    if let Some(m) = modified
        && let Ok(v) = HeaderValue::from_str(&httpdate::fmt_http_date(m))
    {
        h.insert(header::LAST_MODIFIED, v);
    }
    resp
}

type Opened = (std::fs::File, u64, Option<std::time::SystemTime>, PathBuf);

fn open(mut path: PathBuf) -> io::Result<Opened> {
    let mut meta = std::fs::metadata(&path)?;
    if meta.is_dir() {
        path.push("index.html");
        meta = std::fs::metadata(&path)?;
    }
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            "not a regular file",
        ));
    }
    let file = std::fs::File::open(&path)?;
    Ok((file, meta.len(), meta.modified().ok(), path))
}

/// The content type of `path` by its extension; text types are UTF-8.
fn content_type(path: &Path) -> HeaderValue {
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    let value = if mime.type_() == mime_guess::mime::TEXT && mime.get_param("charset").is_none() {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_string()
    };
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("application/octet-stream"))
}

#[derive(Debug, PartialEq, Eq)]
enum Range {
    /// `start..end` of the file.
    Bytes(u64, u64),
    Unsatisfiable,
    /// Not a single byte range: the whole file is sent (RFC 9110 allows it).
    Ignored,
}

/// A `Range` header for a file of `len` bytes: `bytes=a-b`, `bytes=a-`, `bytes=-n`.
fn parse_range(header: &str, len: u64) -> Range {
    let Some(spec) = header.trim().strip_prefix("bytes=") else {
        return Range::Ignored;
    };
    if spec.contains(',') {
        return Range::Ignored;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return Range::Ignored;
    };
    let (a, b) = (a.trim(), b.trim());
    let parsed = match (a.is_empty(), b.is_empty()) {
        (true, false) => b
            .parse::<u64>()
            .ok()
            .map(|n| (len.saturating_sub(n), len, n > 0)),
        (false, true) => a.parse::<u64>().ok().map(|s| (s, len, s < len)),
        (false, false) => match (a.parse::<u64>(), b.parse::<u64>()) {
            (Ok(s), Ok(e)) if s <= e => Some((s, e.saturating_add(1).min(len), s < len)),
            _ => None,
        },
        (true, true) => None,
    };
    match parsed {
        None => Range::Ignored,
        Some((_, _, false)) => Range::Unsatisfiable,
        Some((s, e, true)) => Range::Bytes(s, e),
    }
}

/// `start..end` of `file`, read in chunks on the thread pool, one chunk ahead of the client.
fn chunks(
    file: Arc<std::fs::File>,
    start: u64,
    end: u64,
) -> impl futures_core::Stream<Item = Result<Bytes, BoxError>> {
    futures_util::stream::unfold(start, move |pos| {
        let file = file.clone();
        async move {
            if pos >= end {
                return None;
            }
            let n = (end - pos).min(CHUNK);
            let read = conductor::to_thread(move || {
                let mut buf = vec![0; n as usize];
                file.read_exact_at(&mut buf, pos).map(|()| buf)
            })
            .await;
            let chunk = match read {
                Ok(Ok(buf)) => Ok(Bytes::from(buf)),
                Ok(Err(e)) => Err(BoxError::from(e)),
                Err(e) => Err(BoxError::from(e.to_string())),
            };
            Some((chunk, pos + n))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::{Range, parse_range, safe_relative};

    #[test]
    fn ranges_parse_as_rfc_9110_says() {
        assert_eq!(parse_range("bytes=0-9", 100), Range::Bytes(0, 10));
        assert_eq!(parse_range("bytes=90-", 100), Range::Bytes(90, 100));
        assert_eq!(parse_range("bytes=-10", 100), Range::Bytes(90, 100));
        assert_eq!(parse_range("bytes=95-200", 100), Range::Bytes(95, 100));
        assert_eq!(parse_range("bytes=100-", 100), Range::Unsatisfiable);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), Range::Ignored);
        assert_eq!(parse_range("items=0-1", 100), Range::Ignored);
        assert_eq!(parse_range("bytes=5-1", 100), Range::Ignored);
    }

    #[test]
    fn paths_that_leave_the_root_are_refused() {
        assert_eq!(
            safe_relative("/a/b.txt").unwrap(),
            std::path::Path::new("a/b.txt")
        );
        assert!(safe_relative("/../etc/passwd").is_none());
        assert!(safe_relative("/a/%2e%2e/%2e%2e/etc").is_none());
        assert!(safe_relative("/a%00b").is_none());
    }
}
