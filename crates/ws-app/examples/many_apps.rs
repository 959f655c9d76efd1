//! Several apps at once, the Rust answer to Python's `dispatcher=` (rel, asyncio): each app
//! runs on a thread of its own, and its handle sends or closes from anywhere.
//!
//! ```sh
//! cargo run -p ws-app --example many_apps [-- ws://host:port/path]
//! ```

use ws_app::WebSocketApp;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = ws_client::echo::EchoServer::start()?;
    let url = std::env::args().nth(1).unwrap_or_else(|| server.url());
    let mut handles = Vec::new();
    let mut threads = Vec::new();
    for n in 0..3 {
        let app = WebSocketApp::builder(&url)
            .on_message(move |_, message| println!("app {n} received {message:?}"))
            .build()?;
        handles.push(app.handle());
        threads.push(std::thread::spawn(move || app.run_forever()));
    }
    for (n, handle) in handles.iter().enumerate() {
        while !handle.is_connected() {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        handle.send_text(&format!("hello from the main thread to app {n}"))?;
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    for handle in &handles {
        handle.close();
    }
    for thread in threads {
        thread.join().map_err(|_| "an app panicked")??;
    }
    Ok(())
}
