//! A custom mask key source (Python's `get_mask_key` / `set_mask_key`), here a counter.
//! Predictable keys defeat masking's purpose (RFC 6455 10.3): for tests and reproductions.
//!
//! ```sh
//! cargo run -p ws-client --example mask_key
//! ```

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = ws_client::echo::EchoServer::start()?;
    let mut n: u32 = 0;
    let mut ws = ws_client::Config::builder()
        .mask_key(move || {
            n = n.wrapping_add(1);
            n.to_be_bytes()
        })
        .build()?
        .connect(&server.url())?;
    ws.send_text("masked with key 00 00 00 01")?;
    println!("received {:?}", ws.recv()?);
    Ok(())
}
