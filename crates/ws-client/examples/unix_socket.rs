//! A WebSocket over a Unix domain socket (docker-py's case): the URL still names the host
//! for the `Host` header.
//!
//! ```sh
//! cargo run -p ws-client --example unix_socket
//! ```

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::temp_dir().join(format!("ws-client-example-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    ws_client::echo::EchoServer::start_unix(&path)?;
    let mut ws = ws_client::Config::builder()
        .unix_socket(&path)
        .build()?
        .connect("ws://localhost/")?;
    ws.send_text("over a Unix socket")?;
    println!("received {:?}", ws.recv()?);
    ws.close(ws_client::CloseCode::NORMAL, "")?;
    std::fs::remove_file(&path)?;
    Ok(())
}
