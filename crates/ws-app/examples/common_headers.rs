//! Common headers of the seed manual: cookie, origin and host, plus a custom header
//! computed before each connect (Python's callable `header=`, for rotating tokens).
//!
//! ```sh
//! cargo run -p ws-app --example common_headers [-- ws://host:port/path]
//! ```

use std::sync::atomic::{AtomicU32, Ordering};

use ws_app::WebSocketApp;
use ws_client::Config;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = ws_client::echo::EchoServer::start()?;
    let url = std::env::args().nth(1).unwrap_or_else(|| server.url());
    let config = Config::builder()
        .cookie("chocolate=chip")
        .origin("https://testing.example")
        .host("example.org")
        .build()?;
    static TOKEN: AtomicU32 = AtomicU32::new(0);
    let app = WebSocketApp::builder(&url)
        .config(config)
        .header_fn(|| {
            let n = TOKEN.fetch_add(1, Ordering::Relaxed);
            vec![("Authorization".into(), format!("Bearer token-{n}"))]
        })
        .on_open(|app| {
            let _ = app.send_text("with headers");
        })
        .on_message(|app, message| {
            println!("received {message:?}");
            app.close();
        })
        .build()?;
    app.run_forever()?;
    Ok(())
}
