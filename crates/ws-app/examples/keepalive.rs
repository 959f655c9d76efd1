//! Keepalive (Python's `run_forever(ping_interval=60, ping_timeout=10, ping_payload="This is
//! an optional ping payload")`): a ping every interval, and the connection fails when a pong
//! does not come within the timeout. Shortened here to see a few rounds in a second.
//!
//! ```sh
//! cargo run -p ws-app --example keepalive [-- ws://host:port/path]
//! ```

use std::time::Duration;

use ws_app::WebSocketApp;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = ws_client::echo::EchoServer::start()?;
    let url = std::env::args().nth(1).unwrap_or_else(|| server.url());
    let app = WebSocketApp::builder(&url)
        .ping_interval(Duration::from_millis(250))
        .ping_timeout(Duration::from_millis(100))
        .ping_payload("This is an optional ping payload")
        .on_ping(|_, payload| println!("ping {payload:?}"))
        .on_pong(|app, payload| {
            println!(
                "pong {:?} (last ping {:?} ago)",
                String::from_utf8_lossy(payload),
                app.last_ping().map(|t| t.elapsed())
            );
        })
        .on_error(|_, error| eprintln!("error: {error}"))
        .build()?;
    let handle = app.handle();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1100));
        handle.close();
    });
    app.run_forever()?;
    Ok(())
}
