//! Receiving the close status code and reason in `on_close` (Python's
//! `on_close(ws, close_status_code, close_msg)`); here the app closes with 1001.
//!
//! ```sh
//! cargo run -p ws-app --example close_code [-- ws://host:port/path]
//! ```

use ws_app::WebSocketApp;
use ws_client::CloseCode;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = ws_client::echo::EchoServer::start()?;
    let url = std::env::args().nth(1).unwrap_or_else(|| server.url());
    WebSocketApp::builder(&url)
        .on_open(|app| app.close_with(CloseCode::GOING_AWAY, "done for today"))
        .on_close(|_, frame| match frame {
            Some(frame) => println!(
                "close status code {}, message {:?}",
                frame.code.as_u16(),
                frame.reason
            ),
            None => println!("closed without a close frame"),
        })
        .build()?
        .run_forever()?;
    Ok(())
}
