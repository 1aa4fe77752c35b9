//! Connection settings: libpq's URLs (`postgres://user:pw@host1,host2:5432/db?sslmode=prefer`)
//! and key=value strings (`host=/run/postgresql user=me`), parsed by tokio-postgres, plus what
//! this crate adds: libpq's `verify-ca`/`verify-full` sslmodes (which tokio-postgres does not
//! parse), the statement cache size and a per-query timeout.

use std::str::FromStr;
use std::time::Duration;

use tokio_postgres::config::{Host, SslMode as PgSslMode, TargetSessionAttrs};

use crate::error::{Error, Result};

/// The connect timeout when the configuration gives none (asyncpg's `timeout=60`).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(60);

/// The statement cache's size when the configuration gives none (asyncpg's
/// `statement_cache_size=100`).
pub const DEFAULT_STATEMENT_CACHE_SIZE: usize = 100;

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// Plain TCP.
    Disable,
    /// TLS when the server offers it, plain otherwise (libpq's default). Without a TLS
    /// connector this is plain.
    Prefer,
    /// TLS or nothing, without certificate checks.
    Require,
    /// TLS with the server's certificate checked against the CA.
    VerifyCa,
    /// TLS with the certificate and the host name checked.
    VerifyFull,
}

impl SslMode {
    fn name(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }

    pub(crate) fn needs_tls(self) -> Option<&'static str> {
        match self {
            SslMode::Disable | SslMode::Prefer => None,
            other => Some(other.name()),
        }
    }
}

/// How to connect: hosts, credentials, database, timeouts, and the connection's own settings.
///
/// ```
/// use std::time::Duration;
/// use conductor_postgres::Config;
///
/// let url: Config = "postgres://app:secret@db1,db2:5432/shop?target_session_attrs=read-write"
///     .parse()
///     .unwrap();
/// assert_eq!(url.hosts().len(), 2);
///
/// let mut built = Config::new();
/// built
///     .host("127.0.0.1")
///     .port(5432)
///     .user("app")
///     .dbname("shop")
///     .connect_timeout(Duration::from_secs(5))
///     .statement_cache_size(256);
/// assert_eq!(built.get_statement_cache_size(), 256);
/// ```
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) pg: tokio_postgres::Config,
    pub(crate) sslmode: SslMode,
    pub(crate) statement_cache_size: usize,
    pub(crate) command_timeout: Option<Duration>,
}

impl Default for Config {
    fn default() -> Self {
        Config::new()
    }
}

impl Config {
    /// An empty configuration: no host (connecting then fails with an error saying so),
    /// sslmode=prefer, the default cache size, no command timeout.
    pub fn new() -> Config {
        Config {
            pg: tokio_postgres::Config::new(),
            sslmode: SslMode::Prefer,
            statement_cache_size: DEFAULT_STATEMENT_CACHE_SIZE,
            command_timeout: None,
        }
    }

    /// Parses a libpq URL or key=value string (also reachable through `str::parse`).
    ///
    /// # Errors
    /// [`Error::Config`] naming the option that could not be read.
    pub fn parse(dsn: &str) -> Result<Config> {
        let (rewritten, strict) = take_strict_sslmode(dsn);
        let pg = tokio_postgres::Config::from_str(&rewritten).map_err(|e| {
            Error::Config(match std::error::Error::source(&e) {
                Some(why) => format!("{e}: {why}"),
                None => e.to_string(),
            })
        })?;
        let sslmode = strict.unwrap_or(match pg.get_ssl_mode() {
            PgSslMode::Disable => SslMode::Disable,
            PgSslMode::Require => SslMode::Require,
            _ => SslMode::Prefer,
        });
        Ok(Config {
            pg,
            sslmode,
            ..Config::new()
        })
    }

    /// Adds a host: a name or IP address, or an absolute path to the directory holding a Unix
    /// socket (`/run/postgresql`). Hosts are tried in order.
    pub fn host(&mut self, host: &str) -> &mut Config {
        self.pg.host(host);
        self
    }

    /// Adds a port: one for all hosts, or one per host in the same order (default 5432).
    pub fn port(&mut self, port: u16) -> &mut Config {
        self.pg.port(port);
        self
    }

    /// The user name.
    pub fn user(&mut self, user: &str) -> &mut Config {
        self.pg.user(user);
        self
    }

    /// The password (plain, MD5 and SCRAM-SHA-256 authentication use it).
    pub fn password(&mut self, password: impl AsRef<[u8]>) -> &mut Config {
        self.pg.password(password);
        self
    }

    /// The database name.
    pub fn dbname(&mut self, dbname: &str) -> &mut Config {
        self.pg.dbname(dbname);
        self
    }

    /// The `application_name` the server shows in `pg_stat_activity`.
    pub fn application_name(&mut self, name: &str) -> &mut Config {
        self.pg.application_name(name);
        self
    }

    /// How long one host may take to accept and authenticate (each host has its own).
    pub fn connect_timeout(&mut self, timeout: Duration) -> &mut Config {
        self.pg.connect_timeout(timeout);
        self
    }

    /// Which servers are acceptable (libpq's `target_session_attrs`: any, read-write,
    /// read-only): a host that does not match is skipped for the next one.
    pub fn target_session_attrs(&mut self, attrs: TargetSessionAttrs) -> &mut Config {
        self.pg.target_session_attrs(attrs);
        self
    }

    /// libpq's `sslmode`.
    pub fn sslmode(&mut self, mode: SslMode) -> &mut Config {
        self.sslmode = mode;
        self
    }

    /// How many prepared statements each connection keeps (least recently used goes first);
    /// 0 turns the cache off (asyncpg's `statement_cache_size`).
    pub fn statement_cache_size(&mut self, size: usize) -> &mut Config {
        self.statement_cache_size = size;
        self
    }

    /// A timeout for every query of the connection (asyncpg's `command_timeout`): when it
    /// fires the query is cancelled on the server and [`Error::TimedOut`] returned.
    pub fn command_timeout(&mut self, timeout: Duration) -> &mut Config {
        self.command_timeout = Some(timeout);
        self
    }

    /// The hosts, in the order they are tried.
    pub fn hosts(&self) -> &[Host] {
        self.pg.get_hosts()
    }

    /// The ports.
    pub fn ports(&self) -> &[u16] {
        self.pg.get_ports()
    }

    /// The sslmode.
    pub fn get_sslmode(&self) -> SslMode {
        self.sslmode
    }

    /// The statement cache's size.
    pub fn get_statement_cache_size(&self) -> usize {
        self.statement_cache_size
    }

    /// The per-query timeout, if any.
    pub fn get_command_timeout(&self) -> Option<Duration> {
        self.command_timeout
    }

    /// The connect timeout for each host.
    pub fn get_connect_timeout(&self) -> Duration {
        self.pg
            .get_connect_timeout()
            .copied()
            .unwrap_or(DEFAULT_CONNECT_TIMEOUT)
    }

    /// tokio-postgres' configuration, for the settings this type does not wrap (options,
    /// keepalives, channel binding...).
    pub fn pg_config_mut(&mut self) -> &mut tokio_postgres::Config {
        &mut self.pg
    }

    /// tokio-postgres' configuration.
    pub fn pg_config(&self) -> &tokio_postgres::Config {
        &self.pg
    }
}

impl FromStr for Config {
    type Err = Error;

    fn from_str(s: &str) -> Result<Config> {
        Config::parse(s)
    }
}

/// tokio-postgres parses `sslmode` disable/prefer/require only: a `verify-ca` or `verify-full`
/// value is taken out here (given to tokio-postgres as `require`) and returned.
fn take_strict_sslmode(dsn: &str) -> (String, Option<SslMode>) {
    let Some(key) = dsn.find("sslmode") else {
        return (dsn.to_owned(), None);
    };
    let rest = &dsn[key + "sslmode".len()..];
    let after_eq = rest.trim_start();
    let Some(after_eq) = after_eq.strip_prefix('=') else {
        return (dsn.to_owned(), None);
    };
    let value_start = dsn.len() - after_eq.trim_start().len();
    let value = &dsn[value_start..];
    let value = value.trim_start_matches('\'');
    for (name, mode) in [
        ("verify-full", SslMode::VerifyFull),
        ("verify-ca", SslMode::VerifyCa),
    ] {
        if value.starts_with(name) {
            let start = dsn.len() - value.len();
            let mut out = String::with_capacity(dsn.len());
            out.push_str(&dsn[..start]);
            out.push_str("require");
            out.push_str(&dsn[start + name.len()..]);
            return (out, Some(mode));
        }
    }
    (dsn.to_owned(), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_full_in_a_url_is_read_here() {
        let c = Config::parse("postgres://u@h/db?sslmode=verify-full").unwrap();
        assert_eq!(c.get_sslmode(), SslMode::VerifyFull);
    }

    #[test]
    fn verify_ca_in_key_value_is_read_here() {
        let c = Config::parse("host=h sslmode = verify-ca user=u").unwrap();
        assert_eq!(c.get_sslmode(), SslMode::VerifyCa);
        assert_eq!(c.pg_config().get_user(), Some("u"));
    }

    #[test]
    fn the_default_sslmode_is_prefer() {
        let c = Config::parse("host=h").unwrap();
        assert_eq!(c.get_sslmode(), SslMode::Prefer);
        let c = Config::parse("host=h sslmode=disable").unwrap();
        assert_eq!(c.get_sslmode(), SslMode::Disable);
    }

    #[test]
    fn several_hosts_and_ports_parse() {
        let c = Config::parse("postgres://u@a:1,b:2/db").unwrap();
        assert_eq!(c.hosts().len(), 2);
        assert_eq!(c.ports(), &[1, 2]);
    }

    #[test]
    fn a_bad_option_names_itself() {
        let e = Config::parse("host=h bogus=1").unwrap_err();
        assert!(e.to_string().contains("bogus"), "{e}");
    }
}
