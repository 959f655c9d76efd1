//! One-shot send and receive (Python's `create_connection` + `send` + `recv`), against the
//! URL given as the first argument, or the built-in loopback echo server.
//!
//! ```sh
//! cargo run -p ws-client --example echo_once [-- ws://host:port/path]
//! ```

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (url, _server) = target()?;
    let mut ws = ws_client::connect(&url)?;
    ws.send_text("Hello, World")?;
    println!("received {:?}", ws.recv()?);
    ws.close(ws_client::CloseCode::NORMAL, "")?;
    Ok(())
}

/// The URL from the command line, or a loopback echo server started here.
fn target() -> std::io::Result<(String, Option<ws_client::echo::EchoServer>)> {
    match std::env::args().nth(1) {
        Some(url) => Ok((url, None)),
        None => {
            let server = ws_client::echo::EchoServer::start()?;
            Ok((server.url(), Some(server)))
        }
    }
}
