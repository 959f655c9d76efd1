//! A custom mask key function (Python's `get_mask_key=`). Predictable keys defeat masking's
//! purpose (RFC 6455 §10.3): use this for tests and reproductions only.
//!
//! ```sh
//! cargo run -p ws-app --example custom_mask_key [-- ws://host:port/path]
//! ```

use ws_app::WebSocketApp;
use ws_client::Config;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = ws_client::echo::EchoServer::start()?;
    let url = std::env::args().nth(1).unwrap_or_else(|| server.url());
    let mut n: u8 = 0;
    let config = Config::builder()
        .mask_key(move || {
            n = n.wrapping_add(1);
            [n, n, n, n]
        })
        .build()?;
    WebSocketApp::builder(&url)
        .config(config)
        .on_open(|app| {
            let _ = app.send_text("masked with a known key");
        })
        .on_message(|app, message| {
            println!("received {message:?}");
            app.close();
        })
        .build()?
        .run_forever()?;
    Ok(())
}
