//! Pings and pongs: the server's pong comes back through `recv_data_frame(true)`; pings from
//! the server are answered automatically.
//!
//! ```sh
//! cargo run -p ws-client --example ping_pong
//! ```

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = ws_client::echo::EchoServer::start()?;
    let mut ws = ws_client::connect(&server.url())?;
    ws.ping(b"heartbeat")?;
    println!("received {:?}", ws.recv_data_frame(true)?);
    ws.pong(b"unsolicited pong (allowed by RFC 6455 5.5.3)")?;
    ws.close(ws_client::CloseCode::NORMAL, "")?;
    Ok(())
}
