//! Responses in aiohttp.web's style: [`json_response`] (`web.json_response`), [`text_response`]
//! (`web.Response(text=)`), [`status_response`] (`web.HTTPNotFound()`...).

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Response, StatusCode};

use crate::body::ResponseBody;

/// `value` as a JSON response, `200 OK`, `Content-Type: application/json` (aiohttp's
/// `web.json_response(data)`). A value that cannot be serialised (a map with non-string keys)
/// gives `500` with the reason.
///
/// ```
/// let resp = conductor_http::json_response(&serde_json::json!({"name": "conductor"}));
/// assert_eq!(resp.status(), 200);
/// assert_eq!(resp.headers()["content-type"], "application/json");
/// ```
pub fn json_response<T: serde::Serialize + ?Sized>(value: &T) -> Response<ResponseBody> {
    match serde_json::to_vec(value) {
        Ok(json) => with_type(StatusCode::OK, "application/json", json),
        Err(e) => text_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the response could not be serialised as JSON: {e}"),
        ),
    }
}

/// `text` as a `text/plain; charset=utf-8` response with `status` (aiohttp's
/// `web.Response(text=..., status=...)`).
pub fn text_response(status: StatusCode, text: impl Into<String>) -> Response<ResponseBody> {
    with_type(status, "text/plain; charset=utf-8", text.into())
}

/// `html` as a `text/html; charset=utf-8` response, `200 OK`.
pub fn html_response(html: impl Into<String>) -> Response<ResponseBody> {
    with_type(StatusCode::OK, "text/html; charset=utf-8", html.into())
}

/// A response with `status` and its reason phrase as the text (`404 Not Found`), as aiohttp's
/// `web.HTTPNotFound()` answers.
pub fn status_response(status: StatusCode) -> Response<ResponseBody> {
    let reason = status.canonical_reason().unwrap_or("");
    text_response(status, format!("{} {reason}", status.as_u16()))
}

fn with_type(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<ResponseBody> {
    let mut resp = Response::new(ResponseBody::full(body));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}
