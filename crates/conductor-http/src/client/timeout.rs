//! `ClientTimeout`: aiohttp's four timeouts of a request.

use std::time::Duration;

/// How long a request may take (aiohttp's `ClientTimeout`); `None` is no limit.
///
/// - `total`: the whole request, from the call to the last byte of the body.
/// - `connect`: getting a connection: waiting for a free slot in the pool, resolving the name,
///   connecting, TLS.
/// - `sock_connect`: connecting a new socket to one address of the host (TCP and TLS).
/// - `sock_read`: the longest wait for the next bytes of the response (its head, then each
///   chunk of its body).
///
/// [`ClientTimeout::default`] is aiohttp's `DEFAULT_TIMEOUT`: `total` 5 minutes, `sock_connect`
/// 30 seconds. [`ClientTimeout::total`] is aiohttp's `ClientTimeout(total=...)`, the guides'
/// `timeout=aiohttp.ClientTimeout(total=10)`; the others are set as fields:
///
/// ```
/// use std::time::Duration;
/// use conductor_http::client::ClientTimeout;
/// let t = ClientTimeout { sock_read: Some(Duration::from_secs(2)), ..ClientTimeout::total(Duration::from_secs(10)) };
/// assert_eq!(t.total, Some(Duration::from_secs(10)));
/// assert_eq!(t.connect, None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientTimeout {
    /// The whole request, body included.
    pub total: Option<Duration>,
    /// Getting a connection (pool wait, name resolution, connect, TLS).
    pub connect: Option<Duration>,
    /// Connecting a new socket to one address (TCP and TLS).
    pub sock_connect: Option<Duration>,
    /// The longest wait for the next bytes of the response.
    pub sock_read: Option<Duration>,
}

impl ClientTimeout {
    /// No limit at all.
    pub const NONE: ClientTimeout = ClientTimeout {
        total: None,
        connect: None,
        sock_connect: None,
        sock_read: None,
    };

    /// `total` only (aiohttp's `ClientTimeout(total=d)`).
    pub const fn total(d: Duration) -> ClientTimeout {
        ClientTimeout {
            total: Some(d),
            ..ClientTimeout::NONE
        }
    }
}

impl Default for ClientTimeout {
    /// aiohttp's `DEFAULT_TIMEOUT`: `total` 5 minutes, `sock_connect` 30 seconds.
    fn default() -> Self {
        ClientTimeout {
            total: Some(Duration::from_secs(300)),
            sock_connect: Some(Duration::from_secs(30)),
            ..ClientTimeout::NONE
        }
    }
}
