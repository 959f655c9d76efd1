//! A socket timeout (Python's `timeout=` / `settimeout`): `recv` gives up after it, and the
//! connection stays usable.
//!
//! ```sh
//! cargo run -p ws-client --example timeout
//! ```

use std::time::Duration;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = ws_client::echo::EchoServer::start()?;
    let mut ws = ws_client::Config::builder()
        .timeout(Some(Duration::from_millis(500)))
        .build()?
        .connect(&server.url())?;
    match ws.recv() {
        Err(e) if e.is_timeout() => println!("nothing within 500 ms: {e}"),
        other => println!("unexpected: {other:?}"),
    }
    ws.send_text("still connected")?;
    println!("received {:?}", ws.recv()?);
    Ok(())
}
