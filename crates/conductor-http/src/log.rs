//! Access logging through `tracing`: one event per request at INFO, target
//! `conductor_http::access`, with the peer, method, path, status and duration (aiohttp's
//! `aiohttp.access` logger). Costs nothing when no subscriber listens at that level; whether
//! one does is asked when a connection opens.

use std::net::SocketAddr;
use std::time::Instant;

use http::{Method, Request, StatusCode};

/// A request being logged; `None` inside when access logging is off.
pub(crate) struct AccessLog(Option<Box<Entry>>);

struct Entry {
    peer: Option<SocketAddr>,
    method: Method,
    path: String,
    version: http::Version,
    start: Instant,
}

impl AccessLog {
    /// Whether access logging is on now (asked once per connection: the per-request cost is
    /// then one branch).
    pub(crate) fn enabled() -> bool {
        tracing::enabled!(target: "conductor_http::access", tracing::Level::INFO)
    }

    /// Off, one branch (inlined); on, the entry is made out of line.
    #[inline]
    pub(crate) fn start<T>(enabled: bool, req: &Request<T>, peer: Option<SocketAddr>) -> Self {
        if !enabled {
            return AccessLog(None);
        }
        Self::begin(req, peer)
    }

    fn begin<T>(req: &Request<T>, peer: Option<SocketAddr>) -> Self {
        AccessLog(Some(Box::new(Entry {
            peer,
            method: req.method().clone(),
            path: req
                .uri()
                .path_and_query()
                .map_or_else(|| "/".to_owned(), ToString::to_string),
            version: req.version(),
            start: conductor::now(),
        })))
    }

    /// A request not logged.
    pub(crate) fn off() -> Self {
        AccessLog(None)
    }

    #[inline]
    pub(crate) fn finish(&self, status: StatusCode) {
        if let Some(e) = &self.0 {
            e.log(status);
        }
    }
}

impl Entry {
    fn log(&self, status: StatusCode) {
        let peer = self.peer.map_or_else(|| "-".to_owned(), |p| p.to_string());
        tracing::info!(
            target: "conductor_http::access",
            peer = %peer,
            method = %self.method,
            path = %self.path,
            version = ?self.version,
            status = status.as_u16(),
            elapsed_us = (conductor::now() - self.start).as_micros() as u64,
            "{} {} {} {}",
            peer,
            self.method,
            self.path,
            status.as_u16(),
        );
    }
}
