//! The basic app of the seed manual: open, send, print what comes back, close (Python's
//! `WebSocketApp(url, on_open=..., on_message=..., on_error=..., on_close=...)` and
//! `run_forever()`).
//!
//! ```sh
//! cargo run -p ws-app --example basic [-- ws://host:port/path]
//! ```

use ws_app::WebSocketApp;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = ws_client::echo::EchoServer::start()?;
    let url = std::env::args().nth(1).unwrap_or_else(|| server.url());
    let app = WebSocketApp::builder(&url)
        .on_open(|app| {
            println!("Opened connection");
            if let Err(e) = app.send_text("Hello, World") {
                eprintln!("send failed: {e}");
            }
        })
        .on_message(|app, message| {
            println!("{message:?}");
            app.close();
        })
        .on_error(|_, error| eprintln!("error: {error}"))
        .on_close(|_, frame| println!("### closed ### {frame:?}"))
        .build()?;
    app.run_forever()?;
    Ok(())
}
