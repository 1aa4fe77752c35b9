//! Connection settings: libpq's URLs (`postgres://user:pw@host1,host2:5432/db?sslmode=prefer`)
//! and key=value strings (`host=/run/postgresql user=me`), parsed by tokio-postgres, plus what
//! this crate adds: libpq's `sslmode` (all of it; tokio-postgres reads three of its values)
//! and `sslrootcert`, the statement cache size and a per-query timeout.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use conductor::tls::TlsConnector;
use tokio_postgres::config::{Host, TargetSessionAttrs};

use crate::dsn;
use crate::error::{Error, Result};

/// The connect timeout when the configuration gives none (asyncpg's `timeout=60`).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(60);

/// The statement cache's size when the configuration gives none (asyncpg's
/// `statement_cache_size=100`).
pub const DEFAULT_STATEMENT_CACHE_SIZE: usize = 100;

/// libpq's `sslmode`: whether TLS is used, and what of the server's certificate is checked.
/// Unix-socket connections never use TLS (as libpq).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// Plain TCP.
    Disable,
    /// TLS when the server offers it, plain otherwise (libpq's default); the certificate is
    /// checked as for `Require`.
    Prefer,
    /// TLS or nothing. The certificate is not checked, unless root certificates are given
    /// (`sslrootcert`, or `~/.postgresql/root.crt` exists): then it is checked as for
    /// `VerifyCa` (libpq's rule).
    Require,
    /// TLS, and the server's certificate must chain to a root of `sslrootcert`.
    VerifyCa,
    /// TLS, the certificate must chain to a root and name the host connected to.
    VerifyFull,
}

impl SslMode {
    /// Every mode by its libpq name (`allow` is not among them: tokio-postgres cannot do it).
    const NAMES: [(&'static str, SslMode); 5] = [
        ("disable", SslMode::Disable),
        ("prefer", SslMode::Prefer),
        ("require", SslMode::Require),
        ("verify-ca", SslMode::VerifyCa),
        ("verify-full", SslMode::VerifyFull),
    ];

    /// libpq's name of the mode (`verify-full`).
    pub fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, mode)| *mode == self)
            .map_or("?", |(name, _)| name)
    }

    fn parse(value: &str) -> Result<SslMode> {
        if let Some((_, mode)) = Self::NAMES.iter().find(|(name, _)| *name == value) {
            return Ok(*mode);
        }
        Err(Error::Config(if value == "allow" {
            "sslmode=allow (plain first, TLS on refusal) is not supported; use prefer".into()
        } else {
            format!(
                "sslmode={value:?}: expected disable, prefer, require, verify-ca or verify-full"
            )
        }))
    }
}

/// libpq's `sslrootcert`: where the roots that check the server's certificate come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootCert {
    /// A PEM file of CA certificates (libpq's default is `~/.postgresql/root.crt`).
    File(PathBuf),
    /// The operating system's roots (`sslrootcert=system`).
    System,
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
    pub(crate) sslrootcert: Option<RootCert>,
    pub(crate) tls: Option<TlsConnector>,
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
            sslrootcert: None,
            tls: None,
            statement_cache_size: DEFAULT_STATEMENT_CACHE_SIZE,
            command_timeout: None,
        }
    }

    /// Parses a libpq URL or key=value string (also reachable through `str::parse`).
    ///
    /// # Errors
    /// [`Error::Config`] naming the option that could not be read.
    pub fn parse(dsn: &str) -> Result<Config> {
        let (dsn, sslmode) = dsn::take(dsn, "sslmode");
        let (dsn, sslrootcert) = dsn::take(&dsn, "sslrootcert");
        let pg = tokio_postgres::Config::from_str(&dsn).map_err(|e| {
            Error::Config(match std::error::Error::source(&e) {
                Some(why) => format!("{e}: {why}"),
                None => e.to_string(),
            })
        })?;
        let mut config = Config {
            pg,
            ..Config::new()
        };
        if let Some(mode) = sslmode {
            config.sslmode = SslMode::parse(&mode)?;
        }
        if let Some(root) = sslrootcert {
            config.sslrootcert(&root);
        }
        Ok(config)
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

    /// libpq's `sslrootcert`: the path of a PEM file of CA certificates, or `"system"` for the
    /// operating system's roots.
    pub fn sslrootcert(&mut self, root: &str) -> &mut Config {
        self.sslrootcert = Some(match root {
            "system" => RootCert::System,
            path => RootCert::File(path.into()),
        });
        self
    }

    /// A TLS connector made by hand (a client certificate, other roots...): used as it is for
    /// every TLS connection, in place of the one `sslmode` and `sslrootcert` describe;
    /// `sslmode` still says whether TLS is used (`disable`: never; `prefer`: when the server
    /// offers it; otherwise always).
    pub fn tls_connector(&mut self, connector: TlsConnector) -> &mut Config {
        self.tls = Some(connector);
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

    /// The sslrootcert, if one was given.
    pub fn get_sslrootcert(&self) -> Option<&RootCert> {
        self.sslrootcert.as_ref()
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
    fn sslrootcert_is_read_in_both_forms() {
        let c = Config::parse("host=h sslmode=verify-full sslrootcert='/etc/my ca.pem'").unwrap();
        assert_eq!(
            c.get_sslrootcert(),
            Some(&RootCert::File("/etc/my ca.pem".into()))
        );
        let c = Config::parse("postgres://h/db?sslrootcert=system&sslmode=require").unwrap();
        assert_eq!(c.get_sslrootcert(), Some(&RootCert::System));
        assert_eq!(c.get_sslmode(), SslMode::Require);
    }

    #[test]
    fn an_unknown_sslmode_says_what_is_accepted() {
        let e = Config::parse("host=h sslmode=strict")
            .unwrap_err()
            .to_string();
        assert!(e.contains("verify-full"), "{e}");
        let e = Config::parse("host=h sslmode=allow")
            .unwrap_err()
            .to_string();
        assert!(e.contains("prefer"), "{e}");
    }

    #[test]
    fn a_bad_option_names_itself() {
        let e = Config::parse("host=h bogus=1").unwrap_err();
        assert!(e.to_string().contains("bogus"), "{e}");
    }
}
