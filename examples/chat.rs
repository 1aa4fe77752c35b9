//! A small chat server: every line a client sends goes to every client, through a
//! `conductor::sync::broadcast` channel. Two clients join, talk, and one leaves; each prints
//! what it receives.
//!
//! Each connection's handler runs two tasks: one reads the client's lines and broadcasts them,
//! the other forwards what is broadcast to the client. When the client leaves, the forwarding
//! task is cancelled.

use conductor::streams::{StreamReader, StreamWriter};
use conductor::sync::broadcast;

async fn handle_client(
    mut reader: StreamReader,
    mut writer: StreamWriter,
    room: broadcast::Sender<String>,
) -> std::io::Result<()> {
    let name = String::from_utf8_lossy(&reader.readline().await?)
        .trim()
        .to_owned();
    let mut inbox = room.subscribe();
    let forward = conductor::spawn(async move {
        while let Ok(message) = inbox.recv().await {
            writer.write(message.as_bytes());
            if writer.drain().await.is_err() {
                break;
            }
        }
    });
    let _ = room.send(format!("* {name} joined\n"));
    loop {
        let line = reader.readline().await?;
        if line.is_empty() {
            break; // the client left
        }
        let _ = room.send(format!("{name}: {}", String::from_utf8_lossy(&line)));
    }
    forward.cancel();
    let _ = room.send(format!("* {name} left\n"));
    Ok(())
}

struct Client {
    name: &'static str,
    reader: StreamReader,
    writer: StreamWriter,
}

impl Client {
    async fn join(addr: std::net::SocketAddr, name: &'static str) -> Client {
        let (reader, mut writer) = conductor::open_connection(addr).await.unwrap();
        writer.write(format!("{name}\n").as_bytes());
        Client {
            name,
            reader,
            writer,
        }
    }

    async fn say(&mut self, line: &str) {
        self.writer.write(format!("{line}\n").as_bytes());
        self.writer.drain().await.unwrap();
    }

    async fn hear(&mut self) {
        let line = self.reader.readline().await.unwrap();
        print!("[{}] {}", self.name, String::from_utf8_lossy(&line));
    }
}

#[conductor::main]
pub async fn main() {
    let (room, _) = broadcast::channel::<String>(64);
    let server = conductor::start_server(
        move |reader, writer| handle_client(reader, writer, room.clone()),
        "127.0.0.1:0",
    )
    .await
    .unwrap();
    let addr = server.local_addr().unwrap();
    println!("chat server listening");

    let mut alice = Client::join(addr, "alice").await;
    alice.hear().await;
    let mut bob = Client::join(addr, "bob").await;
    alice.hear().await;
    bob.hear().await;

    alice.say("hi bob").await;
    alice.hear().await;
    bob.hear().await;
    bob.say("hello alice, bye").await;
    alice.hear().await;
    bob.hear().await;

    drop(bob); // closes the connection
    alice.hear().await;

    server.close();
    server.close_clients();
    server.wait_closed().await;
    println!("chat server closed");
}
