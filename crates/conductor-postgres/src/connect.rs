//! Opening a connection: each host of the configuration in order (several hosts give
//! fallback), each within the connect timeout, over TCP or a Unix socket; tokio-postgres does
//! the startup and authentication (password, MD5, SCRAM-SHA-256) on conductor's socket; the
//! driver is spawned on the current loop; `target_session_attrs` is then checked.

use std::path::PathBuf;
use std::sync::Arc;

use conductor::net::{TcpStream, UnixStream};
use tokio_postgres::NoTls;
use tokio_postgres::config::{Host, SslMode as PgSslMode, TargetSessionAttrs};
use tokio_postgres::tls::TlsConnect;

use crate::config::{Config, SslMode};
use crate::connection::Connection;
use crate::driver::{DriverState, drive};
use crate::error::{Error, Result};
use crate::session::{Addr, Session};
use crate::socket::Socket;
use crate::tls::{self, Handshake};

/// Connects with a libpq URL or key=value string (asyncpg's `connect(dsn)`).
///
/// Must run on a conductor loop: the connection's driver becomes a task of that loop.
///
/// # Errors
/// [`Error::Config`] for a string that does not parse or roots that do not load,
/// [`Error::Connect`] when no host accepted (each host's reason is listed: refused, timed out,
/// a TLS handshake that failed and why).
///
/// ```no_run
/// # conductor::run(async {
/// let conn = conductor_postgres::connect("postgres://postgres@127.0.0.1/postgres").await?;
/// let one: i32 = conn.fetchval("SELECT $1::int", &[&1i32]).await?;
/// assert_eq!(one, 1);
/// conn.close().await;
/// # Ok::<(), conductor_postgres::Error>(())
/// # }).unwrap();
/// ```
pub async fn connect(dsn: &str) -> Result<Connection> {
    Config::parse(dsn)?.connect().await
}

impl Config {
    /// Opens a connection with this configuration: TLS as `sslmode` and `sslrootcert` say
    /// (through conductor's rustls support), over TCP; Unix sockets are always plain.
    ///
    /// # Errors
    /// As [`connect`].
    pub async fn connect(&self) -> Result<Connection> {
        match tls::connector(self)? {
            None => self.connect_with_tls(|_host| NoTls).await,
            Some(connector) => {
                self.connect_with_tls(|host| Handshake {
                    connector: connector.clone(),
                    server_name: host.to_owned(),
                })
                .await
            }
        }
    }

    /// Opens a connection through another TLS implementation: `make_tls` gets the host name
    /// (for the certificate check) and returns a tokio-postgres `TlsConnect` over this crate's
    /// [`Socket`] (the role of tokio-postgres' `MakeTlsConnect`, which needs its `runtime`
    /// feature). [`connect`](Self::connect) uses conductor's own.
    ///
    /// # Errors
    /// As [`connect`].
    pub async fn connect_with_tls<F, T>(&self, mut make_tls: F) -> Result<Connection>
    where
        F: FnMut(&str) -> T,
        T: TlsConnect<Socket>,
        T::Stream: 'static,
    {
        let targets = self.targets()?;
        let mut attempts = Vec::new();
        for target in targets {
            let label = target.label();
            match conductor::timeout(
                self.get_connect_timeout(),
                self.connect_one(&target, &mut make_tls),
            )
            .await
            {
                Ok(Ok(conn)) => return Ok(conn),
                Ok(Err(e)) => attempts.push(format!("{label}: {e}")),
                Err(_) => attempts.push(format!(
                    "{label}: timed out after {:?}",
                    self.get_connect_timeout()
                )),
            }
        }
        Err(Error::Connect { attempts })
    }

    fn targets(&self) -> Result<Vec<Target>> {
        let hosts = self.pg.get_hosts();
        if hosts.is_empty() {
            return Err(Error::Config(
                "no host: give host=... (a name, an address or a Unix socket directory)".into(),
            ));
        }
        let ports = self.pg.get_ports();
        if ports.len() > 1 && ports.len() != hosts.len() {
            return Err(Error::Config(format!(
                "{} ports for {} hosts: give one port, or one per host",
                ports.len(),
                hosts.len()
            )));
        }
        let addrs = self.pg.get_hostaddrs();
        Ok(hosts
            .iter()
            .enumerate()
            .map(|(i, host)| {
                let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
                match host {
                    Host::Tcp(name) => Target::Tcp {
                        name: name.clone(),
                        connect_to: addrs.get(i).map_or_else(|| name.clone(), |a| a.to_string()),
                        port,
                    },
                    Host::Unix(dir) => Target::Unix(dir.join(format!(".s.PGSQL.{port}"))),
                }
            })
            .collect())
    }

    async fn connect_one<F, T>(&self, target: &Target, make_tls: &mut F) -> Result<Connection>
    where
        F: FnMut(&str) -> T,
        T: TlsConnect<Socket>,
        T::Stream: 'static,
    {
        let (socket, addr, hostname) = target.open().await.map_err(Error::Io)?;
        let tls = make_tls(hostname.as_deref().unwrap_or(""));
        let mut pg = self.pg.clone();
        pg.ssl_mode(match (self.sslmode, target) {
            (SslMode::Disable, _) | (_, Target::Unix(_)) => PgSslMode::Disable,
            (SslMode::Prefer, _) => PgSslMode::Prefer,
            _ => PgSslMode::Require,
        });
        let (client, connection) = pg.connect_raw(socket, tls).await?;
        let driver = Arc::new(DriverState::default());
        drop(conductor::spawn_named(
            "conductor-postgres driver",
            drive(connection, driver.clone()),
        ));
        let session = Session::new(
            client,
            driver,
            addr,
            self.statement_cache_size,
            self.command_timeout,
        );
        let conn = Connection::from_session(Arc::new(session));
        check_session_attrs(&conn, self.pg.get_target_session_attrs()).await?;
        Ok(conn)
    }
}

/// libpq's `target_session_attrs`: a server whose `transaction_read_only` does not match is
/// refused (the caller goes on to the next host).
async fn check_session_attrs(conn: &Connection, want: TargetSessionAttrs) -> Result<()> {
    let need_read_only = match want {
        TargetSessionAttrs::ReadWrite => false,
        TargetSessionAttrs::ReadOnly => true,
        _ => return Ok(()),
    };
    let rows = conn
        .session()
        .client
        .simple_query("SHOW transaction_read_only")
        .await
        .map_err(|e| conn.session().error(e))?;
    let read_only = rows.iter().find_map(|m| match m {
        tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(|v| v == "on"),
        _ => None,
    });
    if read_only == Some(need_read_only) {
        Ok(())
    } else {
        conn.close().await;
        Err(Error::Config(format!(
            "the server is {} and target_session_attrs asks for {}",
            if read_only == Some(true) {
                "read-only"
            } else {
                "read-write"
            },
            if need_read_only {
                "read-only"
            } else {
                "read-write"
            }
        )))
    }
}

enum Target {
    Tcp {
        name: String,
        connect_to: String,
        port: u16,
    },
    Unix(PathBuf),
}

impl Target {
    fn label(&self) -> String {
        match self {
            Target::Tcp { name, port, .. } => format!("{name}:{port}"),
            Target::Unix(p) => p.display().to_string(),
        }
    }

    async fn open(&self) -> std::io::Result<(Socket, Addr, Option<String>)> {
        match self {
            Target::Tcp {
                name,
                connect_to,
                port,
            } => {
                let s = TcpStream::connect((connect_to.as_str(), *port)).await?;
                s.set_nodelay(true)?;
                let peer = s.peer_addr()?;
                Ok((Socket::Tcp(s), Addr::Tcp(peer), Some(name.clone())))
            }
            Target::Unix(path) => {
                let s = UnixStream::connect(path).await?;
                Ok((Socket::Unix(s), Addr::Unix(path.clone()), None))
            }
        }
    }
}
