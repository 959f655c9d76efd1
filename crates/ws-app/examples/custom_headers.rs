//! Custom request headers (Python's `header={"CustomHeader1": "123", ...}`), as name/value
//! pairs and as `"Name: value"` lines.
//!
//! ```sh
//! cargo run -p ws-app --example custom_headers [-- ws://host:port/path]
//! ```

use ws_app::WebSocketApp;
use ws_client::Config;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = ws_client::echo::EchoServer::start()?;
    let url = std::env::args().nth(1).unwrap_or_else(|| server.url());
    let config = Config::builder()
        .header("CustomHeader1", "123")
        .header("NewHeader2", "Test")
        .header_line("X-Line: as a line")
        .build()?;
    WebSocketApp::builder(&url)
        .config(config)
        .on_open(|app| {
            let _ = app.send_text("custom headers sent");
        })
        .on_message(|app, message| {
            println!("received {message:?}");
            app.close();
        })
        .build()?
        .run_forever()?;
    Ok(())
}
