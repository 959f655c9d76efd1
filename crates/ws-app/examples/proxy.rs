//! Connecting through a proxy (Python's `run_forever(http_proxy_host=..., http_proxy_port=...,
//! proxy_type="http")`). Give a proxy URL (`http://`, `socks4://`, `socks4a://`,
//! `socks5://`, `socks5h://`, with `user:password@` if needed); without one, a tiny HTTP
//! CONNECT proxy runs in this process so the example works anywhere.
//!
//! ```sh
//! cargo run -p ws-app --example proxy [-- PROXY_URL [ws://host:port/path]]
//! ```

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

use ws_app::WebSocketApp;
use ws_client::{Config, Proxy, ProxyConfig};

/// A minimal CONNECT proxy on loopback: one tunnel per connection, bytes copied both ways.
fn local_proxy() -> std::io::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let address = listener.local_addr()?;
    std::thread::spawn(move || {
        for mut client in listener.incoming().flatten() {
            std::thread::spawn(move || -> std::io::Result<()> {
                let mut head = Vec::new();
                let mut byte = [0; 1];
                while !head.ends_with(b"\r\n\r\n") && client.read(&mut byte)? == 1 {
                    head.push(byte[0]);
                }
                let request = String::from_utf8_lossy(&head);
                let target = request.split_whitespace().nth(1).unwrap_or_default();
                println!("proxy: CONNECT {target}");
                let upstream = TcpStream::connect(target)?;
                client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
                let (mut up_read, mut client_write) = (upstream.try_clone()?, client.try_clone()?);
                std::thread::spawn(move || std::io::copy(&mut up_read, &mut client_write));
                let mut up_write = upstream;
                std::io::copy(&mut client, &mut up_write)?;
                Ok(())
            });
        }
    });
    Ok(format!("http://{address}"))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = ws_client::echo::EchoServer::start()?;
    let mut args = std::env::args().skip(1);
    let proxy = match args.next() {
        Some(proxy) => proxy,
        None => local_proxy()?,
    };
    let url = args.next().unwrap_or_else(|| server.url());
    let config = Config::builder()
        .proxy(ProxyConfig::Explicit(Proxy::parse(&proxy)?))
        .build()?;
    WebSocketApp::builder(&url)
        .config(config)
        .on_open(|app| {
            let _ = app.send_text("through the proxy");
        })
        .on_message(|app, message| {
            println!("received {message:?}");
            app.close();
        })
        .build()?
        .run_forever()?;
    Ok(())
}
