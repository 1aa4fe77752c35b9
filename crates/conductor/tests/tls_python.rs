//! Python's `ssl` module as the peer, on loopback: its asyncio client against conductor's TLS
//! server, and conductor's client against its asyncio TLS server (each bounded in time).

mod support;

use std::io;
use std::time::Duration;

use conductor::net::{ServerOptions, start_server_with};
use conductor::process::Command;
use conductor::streams::{StreamReader, StreamWriter};
use conductor::tls::{TlsAcceptor, TlsConnector, open_connection};
use support::certs;

fn temp_file(name: &str, contents: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("conductor-tls-py-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

async fn upper(mut reader: StreamReader, mut writer: StreamWriter) -> io::Result<()> {
    let line = reader.readline().await.map_err(io::Error::other)?;
    writer.write(&line.to_ascii_uppercase());
    writer.close();
    writer.wait_closed().await
}

const PY_CLIENT: &str = r#"
import asyncio, ssl, sys
async def main():
    ctx = ssl.create_default_context(cafile=sys.argv[1])
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    r, w = await asyncio.open_connection("localhost", int(sys.argv[2]), ssl=ctx)
    w.write(b"hello from python\n")
    await w.drain()
    line = await r.readline()
    obj = w.get_extra_info("ssl_object")
    print(line.decode().strip(), obj.version(), obj.selected_alpn_protocol())
    w.close()
asyncio.run(asyncio.wait_for(main(), 10))
"#;

#[test]
fn pythons_asyncio_client_talks_to_a_conductor_tls_server() {
    let cert = certs::self_signed(&["localhost"]);
    let ca = temp_file("server.pem", &cert.cert_pem);
    conductor::run(async move {
        let acceptor = TlsAcceptor::builder(&cert.cert_pem, &cert.key_pem)
            .unwrap()
            .alpn_protocols(["http/1.1"])
            .build()
            .unwrap();
        let server = start_server_with(upper, "127.0.0.1:0", &ServerOptions::new().ssl(acceptor))
            .await
            .unwrap();
        let port = server.local_addr().unwrap().port().to_string();
        let out = conductor::timeout(
            Duration::from_secs(30),
            Command::new("python3")
                .args(["-c", PY_CLIENT])
                .arg(&ca)
                .arg(&port)
                .kill_on_drop(true)
                .output(),
        )
        .await
        .expect("python3 took longer than 30 s")
        .expect("python3 runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(stdout.trim(), "HELLO FROM PYTHON TLSv1.3 http/1.1");
    });
}

const PY_SERVER: &str = r#"
import asyncio, ssl, sys
async def handle(r, w):
    line = await r.readline()
    alpn = w.get_extra_info("ssl_object").selected_alpn_protocol()
    w.write(line.upper().strip() + b" " + alpn.encode() + b"\n")
    await w.drain()
    w.close()
async def main():
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(sys.argv[1], sys.argv[2])
    ctx.set_alpn_protocols(["h2"])
    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=ctx)
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.sleep(10)
asyncio.run(main())
"#;

#[test]
fn a_conductor_client_talks_to_pythons_asyncio_tls_server() {
    let cert = certs::self_signed(&["localhost"]);
    let cert_file = temp_file("py-server.pem", &cert.cert_pem);
    let key_file = temp_file("py-server.key", &cert.key_pem);
    conductor::run(async move {
        let mut child = Command::new("python3")
            .args(["-c", PY_SERVER])
            .arg(&cert_file)
            .arg(&key_file)
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 runs");
        let mut stdout = StreamReader::new(child.stdout.take().unwrap());
        let port: u16 = conductor::timeout(Duration::from_secs(30), stdout.readline())
            .await
            .expect("python3 printed its port within 30 s")
            .map(|l| String::from_utf8_lossy(&l).trim().parse().expect("a port"))
            .unwrap();
        let client = TlsConnector::builder()
            .add_root_pem(&cert.cert_pem)
            .unwrap()
            .alpn_protocols(["h2", "http/1.1"])
            .build()
            .unwrap();
        let talk = async {
            let (mut reader, mut writer) = open_connection(("localhost", port), &client).await?;
            writer.write(b"hello from rust\n");
            writer.drain().await?;
            reader.readline().await.map_err(io::Error::other)
        };
        let line = conductor::timeout(Duration::from_secs(10), talk)
            .await
            .expect("the exchange took longer than 10 s")
            .unwrap();
        assert_eq!(line, b"HELLO FROM RUST h2\n");
        let _ = child.kill();
    });
}
