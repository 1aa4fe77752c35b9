//! asyncio's TCP echo server and client, from the streams guide, in one program: the server
//! answers each client with what it sent; the client sends one message and prints the echo.
//!
//! The Python programs (two scripts in the guide; the server's port is fixed there, picked by
//! the OS here, so the outputs differ by the address):
//!
//! ```text
//! async def handle_echo(reader, writer):
//!     data = await reader.read(100)
//!     message = data.decode()
//!     addr = writer.get_extra_info('peername')
//!     print(f"Received {message!r} from {addr!r}")
//!     print(f"Send: {message!r}")
//!     writer.write(data)
//!     await writer.drain()
//!     print("Close the connection")
//!     writer.close()
//!     await writer.wait_closed()
//!
//! async def tcp_echo_client(message):
//!     reader, writer = await asyncio.open_connection('127.0.0.1', 8888)
//!     print(f'Send: {message!r}')
//!     writer.write(message.encode())
//!     await writer.drain()
//!     data = await reader.read(100)
//!     print(f'Received: {data.decode()!r}')
//!     print('Close the connection')
//!     writer.close()
//!     await writer.wait_closed()
//! ```

use conductor::streams::{StreamReader, StreamWriter};

async fn handle_echo(mut reader: StreamReader, mut writer: StreamWriter) -> std::io::Result<()> {
    let data = reader.read(100).await?;
    let message = String::from_utf8_lossy(&data);
    let addr = writer.get_extra_info().peername.clone();
    let addr = addr.map_or("?".into(), |a| a.to_string());
    println!("[server] Received {message:?} from {addr}");
    println!("[server] Send: {message:?}");
    writer.write(&data);
    writer.drain().await?;
    println!("[server] Close the connection");
    writer.close();
    writer.wait_closed().await
}

async fn tcp_echo_client(addr: std::net::SocketAddr, message: &str) -> std::io::Result<()> {
    let (mut reader, mut writer) = conductor::open_connection(addr).await?;
    println!("[client] Send: {message:?}");
    writer.write(message.as_bytes());
    writer.drain().await?;
    let data = reader.read(100).await?;
    println!("[client] Received: {:?}", String::from_utf8_lossy(&data));
    println!("[client] Close the connection");
    writer.close();
    writer.wait_closed().await
}

#[conductor::main]
pub async fn main() {
    let server = conductor::start_server(handle_echo, "127.0.0.1:0")
        .await
        .expect("bind a local port");
    let addr = server.local_addr().unwrap();
    println!("Serving on {addr}");
    tcp_echo_client(addr, "Hello World!").await.unwrap();
    server.close();
    server.wait_closed().await;
    println!("Server closed");
}
