//! Sending from a thread started in `on_open` (the seed manual's `on_open` with
//! `threading.Thread(target=run).start()`): the handle is `Clone + Send + Sync`, so the thread
//! sends while the loop receives.
//!
//! ```sh
//! cargo run -p ws-app --example on_open_thread [-- ws://host:port/path]
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ws_app::WebSocketApp;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = ws_client::echo::EchoServer::start()?;
    let url = std::env::args().nth(1).unwrap_or_else(|| server.url());
    let received = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&received);
    WebSocketApp::builder(&url)
        .on_open(|app| {
            let app = app.clone();
            std::thread::spawn(move || {
                for i in 0..3 {
                    std::thread::sleep(Duration::from_millis(100));
                    if let Err(e) = app.send_text(&format!("Hello {i}")) {
                        eprintln!("send: {e}");
                    }
                }
            });
        })
        .on_message(move |app, message| {
            println!("received {message:?}");
            if count.fetch_add(1, Ordering::SeqCst) + 1 == 3 {
                app.close();
            }
        })
        .build()?
        .run_forever()?;
    println!(
        "thread terminating... {} messages",
        received.load(Ordering::SeqCst)
    );
    Ok(())
}
