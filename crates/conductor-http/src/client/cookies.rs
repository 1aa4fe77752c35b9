//! The cookie jar (aiohttp's `CookieJar`, `session.cookie_jar`): RFC 6265's storage model from
//! the `cookie_store` crate (domain and path matching, `Expires`/`Max-Age`, `Secure`), with
//! aiohttp's rule for IP addresses on top.

use std::cell::RefCell;
use std::fmt;
use std::net::IpAddr;
use std::rc::Rc;

use cookie_store::CookieStore;
use http::HeaderMap;
use http::header::{COOKIE, HeaderValue, SET_COOKIE};
use url::Url;

/// The cookies a [`ClientSession`](super::ClientSession) keeps (aiohttp's `CookieJar`): those
/// its responses set (redirects' included) go back with the requests they match, by domain,
/// path, `Secure` (sent over https only, `localhost` included, as aiohttp) and expiry
/// (RFC 6265; the `cookie_store` crate).
///
/// As aiohttp's jar, it ignores hosts that are IP addresses (`http://127.0.0.1/`): it neither
/// keeps their cookies nor sends them any, unless made with
/// [`unsafe_hosts`](Self::unsafe_hosts) (aiohttp's `CookieJar(unsafe=True)`).
///
/// A clone is the same jar (an `Rc`), so sessions may share one.
///
/// ```
/// use conductor_http::client::CookieJar;
/// let jar = CookieJar::new();
/// jar.update_cookies(["theme=dark; Path=/", "lang=en"], "http://example.com/settings").unwrap();
/// let sent = jar.filter_cookies("http://example.com/settings/page").unwrap();
/// assert_eq!(sent, [("lang".to_owned(), "en".to_owned()), ("theme".to_owned(), "dark".to_owned())]);
/// assert!(jar.filter_cookies("http://other.example/").unwrap().is_empty());
/// ```
#[derive(Clone)]
pub struct CookieJar {
    inner: Rc<Jar>,
}

struct Jar {
    store: RefCell<CookieStore>,
    unsafe_hosts: bool,
    dummy: bool,
}

impl CookieJar {
    /// An empty jar that ignores IP-address hosts, as aiohttp's default jar.
    pub fn new() -> Self {
        Self::with(false, false)
    }

    /// An empty jar that keeps the cookies of IP-address hosts too (aiohttp's
    /// `CookieJar(unsafe=True)`): what a test against a server on `127.0.0.1` needs.
    pub fn unsafe_hosts() -> Self {
        Self::with(true, false)
    }

    /// A jar that keeps nothing and sends nothing (aiohttp's `DummyCookieJar`).
    pub fn dummy() -> Self {
        Self::with(false, true)
    }

    fn with(unsafe_hosts: bool, dummy: bool) -> Self {
        CookieJar {
            inner: Rc::new(Jar {
                store: RefCell::new(CookieStore::new()),
                unsafe_hosts,
                dummy,
            }),
        }
    }

    /// Whether this jar takes part in requests to `url`.
    fn serves(&self, url: &Url) -> bool {
        if self.inner.dummy {
            return false;
        }
        let ip = match url.host() {
            Some(url::Host::Ipv4(_) | url::Host::Ipv6(_)) => true,
            Some(url::Host::Domain(d)) => d.parse::<IpAddr>().is_ok(),
            None => true,
        };
        !ip || self.inner.unsafe_hosts
    }

    /// Keeps the cookies of these `Set-Cookie` values as if a response from `url` had set them
    /// (aiohttp's `jar.update_cookies(cookies, response_url)`); a cookie whose domain does not
    /// match `url`, or one already expired, is ignored (an expired one removes the cookie of
    /// its name). How many were kept.
    ///
    /// # Errors
    /// When `url` does not parse.
    pub fn update_cookies<I, S>(&self, set_cookies: I, url: &str) -> Result<usize, url::ParseError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let url = Url::parse(url)?;
        Ok(self.store_from(&url, set_cookies))
    }

    fn store_from<I, S>(&self, url: &Url, set_cookies: I) -> usize
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        if !self.serves(url) {
            return 0;
        }
        let mut store = self.inner.store.borrow_mut();
        set_cookies
            .into_iter()
            .filter(|raw| {
                store
                    .parse(raw.as_ref(), url)
                    .is_ok_and(|a| a != cookie_store::StoreAction::ExpiredExisting)
            })
            .count()
    }

    /// The (name, value) pairs a request to `url` sends, by name (aiohttp's
    /// `jar.filter_cookies(url)`).
    ///
    /// # Errors
    /// When `url` does not parse.
    pub fn filter_cookies(&self, url: &str) -> Result<Vec<(String, String)>, url::ParseError> {
        let url = Url::parse(url)?;
        Ok(self.pairs_for(&url))
    }

    fn pairs_for(&self, url: &Url) -> Vec<(String, String)> {
        if !self.serves(url) {
            return Vec::new();
        }
        // cookie_store counts `http://localhost` as a secure origin, as browsers do; aiohttp
        // sends `Secure` cookies over https (and wss) only.
        let secure = matches!(url.scheme(), "https" | "wss");
        let store = self.inner.store.borrow();
        let mut pairs: Vec<_> = store
            .matches(url)
            .into_iter()
            .filter(|c| secure || c.secure() != Some(true))
            .map(|c| (c.name().to_owned(), c.value().to_owned()))
            .collect();
        pairs.sort();
        pairs
    }

    /// How many unexpired cookies the jar holds (aiohttp's `len(jar)`).
    pub fn len(&self) -> usize {
        self.inner.store.borrow().iter_unexpired().count()
    }

    /// Whether the jar holds no unexpired cookie.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every unexpired cookie as (domain, path, name, value) (aiohttp's `for c in jar`).
    pub fn cookies(&self) -> Vec<(String, String, String, String)> {
        let store = self.inner.store.borrow();
        let mut all: Vec<_> = store
            .iter_unexpired()
            .map(|c| {
                (
                    c.domain
                        .as_cow()
                        .map(|d| d.into_owned())
                        .unwrap_or_default(),
                    String::from(&c.path),
                    c.name().to_owned(),
                    c.value().to_owned(),
                )
            })
            .collect();
        all.sort();
        all
    }

    /// Forgets every cookie (aiohttp's `jar.clear()`).
    pub fn clear(&self) {
        self.inner.store.borrow_mut().clear();
    }

    /// Forgets the cookies of `domain` and its subdomains (aiohttp's
    /// `jar.clear_domain(domain)`).
    pub fn clear_domain(&self, domain: &str) {
        let domain = domain.trim_start_matches('.').to_ascii_lowercase();
        let mut store = self.inner.store.borrow_mut();
        let doomed: Vec<(String, String, String)> = store
            .iter_any()
            .filter_map(|c| {
                let d = c.domain.as_cow()?.into_owned();
                let hit = d == domain || d.ends_with(&format!(".{domain}"));
                hit.then(|| (d, String::from(&c.path), c.name().to_owned()))
            })
            .collect();
        for (d, p, n) in doomed {
            store.remove(&d, &p, &n);
        }
    }

    /// Adds the cookies for `url` to a request's headers, after any `cookie` header of its own.
    pub(crate) fn add_to(&self, url: &Url, headers: &mut HeaderMap) {
        let pairs = self.pairs_for(url);
        if pairs.is_empty() {
            return;
        }
        let mut line = String::new();
        if let Some(own) = headers.get(COOKIE).and_then(|v| v.to_str().ok()) {
            line.push_str(own);
        }
        for (n, v) in pairs {
            if !line.is_empty() {
                line.push_str("; ");
            }
            line.push_str(&n);
            line.push('=');
            line.push_str(&v);
        }
        if let Ok(v) = HeaderValue::from_str(&line) {
            headers.insert(COOKIE, v);
        }
    }

    /// Keeps the cookies a response from `url` sets.
    pub(crate) fn store_response(&self, url: &Url, headers: &HeaderMap) {
        if headers.contains_key(SET_COOKIE) {
            let values = headers
                .get_all(SET_COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok());
            self.store_from(url, values);
        }
    }
}

impl Default for CookieJar {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for CookieJar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CookieJar")
            .field("len", &self.len())
            .field("unsafe_hosts", &self.inner.unsafe_hosts)
            .field("dummy", &self.inner.dummy)
            .finish()
    }
}
