//! Server-Sent Events (aiohttp-sse's `sse_response`): a `text/event-stream` response whose
//! body is a stream of [`Event`]s, each sent as it comes.

use std::time::Duration;

use bytes::Bytes;
use futures_core::Stream;
use http::Response;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};

use crate::body::{BoxError, ResponseBody};

/// One event of a stream: its `data` (several lines allowed), and optionally its `event` type,
/// `id` and the client's `retry` delay.
///
/// ```
/// let e = conductor_http::sse::Event::data("line 1\nline 2").event("tick").id("7");
/// assert_eq!(e.to_bytes(), "event: tick\nid: 7\ndata: line 1\ndata: line 2\n\n");
/// ```
#[derive(Debug, Clone, Default)]
pub struct Event {
    data: String,
    event: Option<String>,
    id: Option<String>,
    retry: Option<Duration>,
}

impl Event {
    /// An event carrying `data`.
    pub fn data(data: impl Into<String>) -> Self {
        Event {
            data: data.into(),
            ..Event::default()
        }
    }

    /// Its type (the client's `addEventListener(type)`); newlines are removed.
    pub fn event(mut self, event: impl Into<String>) -> Self {
        self.event = Some(one_line(event.into()));
        self
    }

    /// Its id (the client's `lastEventId`); newlines are removed.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(one_line(id.into()));
        self
    }

    /// How long the client waits before reconnecting.
    pub fn retry(mut self, retry: Duration) -> Self {
        self.retry = Some(retry);
        self
    }

    /// The event in the wire format.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = String::new();
        if let Some(e) = &self.event {
            out.push_str("event: ");
            out.push_str(e);
            out.push('\n');
        }
        if let Some(id) = &self.id {
            out.push_str("id: ");
            out.push_str(id);
            out.push('\n');
        }
        if let Some(r) = self.retry {
            out.push_str(&format!("retry: {}\n", r.as_millis()));
        }
        for line in self.data.split('\n') {
            out.push_str("data: ");
            out.push_str(line.strip_suffix('\r').unwrap_or(line));
            out.push('\n');
        }
        out.push('\n');
        Bytes::from(out)
    }
}

fn one_line(s: String) -> String {
    s.replace(['\r', '\n'], "")
}

/// A `text/event-stream` response sending each event of `events` as it comes; the response
/// ends with the stream.
///
/// ```
/// use conductor_http::sse::{sse_response, Event};
/// let ticks = futures_util::stream::iter((1..=3).map(|i| Event::data(i.to_string())));
/// let resp = sse_response(ticks);
/// assert_eq!(resp.headers()["content-type"], "text/event-stream");
/// ```
pub fn sse_response<S>(events: S) -> Response<ResponseBody>
where
    S: Stream<Item = Event> + 'static,
{
    use futures_util::StreamExt as _;
    let body = ResponseBody::stream(events.map(|e| Ok::<_, BoxError>(e.to_bytes())));
    let mut resp = Response::new(body);
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}
