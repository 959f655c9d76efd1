//! Text messages without UTF-8 validation (Python's `skip_utf8_validation=True`): they arrive
//! as `Message::UnvalidatedText`, for feeds that are known to be good and large.
//!
//! ```sh
//! cargo run -p ws-app --example skip_utf8 [-- ws://host:port/path]
//! ```

use ws_app::WebSocketApp;
use ws_client::{Config, Message};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = ws_client::echo::EchoServer::start()?;
    let url = std::env::args().nth(1).unwrap_or_else(|| server.url());
    WebSocketApp::builder(&url)
        .config(Config::builder().skip_utf8_validation(true).build()?)
        .on_open(|app| {
            let _ = app.send_text("not checked on the way in");
        })
        .on_message(|app, message| {
            if let Message::UnvalidatedText(bytes) = &message {
                println!("unvalidated text of {} bytes", bytes.len());
            }
            app.close();
        })
        .build()?
        .run_forever()?;
    Ok(())
}
