//! Reconnecting (Python's `run_forever(reconnect=5)`, and exponential backoff with jitter,
//! which Python lacks). Without a URL, a local server drops the first two connections right
//! after the upgrade, then echoes: the app reconnects twice and `on_reconnect` says so.
//!
//! ```sh
//! cargo run -p ws-app --example reconnect [-- ws://host:port/path]
//! ```

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use ws_app::{Backoff, Reconnect, WebSocketApp};

/// Drops the first `drops` connections after the upgrade, then serves the echo server's loop.
fn flaky_server(drops: usize) -> std::io::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let url = format!("ws://{}/", listener.local_addr()?);
    std::thread::spawn(move || {
        for (n, tcp) in listener.incoming().flatten().enumerate() {
            if n < drops {
                let mut tcp = tcp;
                let mut buf = [0; 4096];
                let read = tcp.read(&mut buf).unwrap_or(0);
                if let Ok(Some((request, _))) =
                    ws_handshake::parse_request(&buf[..read], &Default::default())
                {
                    let _ = tcp.write_all(&request.accept(None, None).unwrap_or_default());
                }
                continue;
            }
            std::thread::spawn(move || ws_client::echo::serve(tcp));
        }
    });
    Ok(url)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = match std::env::args().nth(1) {
        Some(url) => url,
        None => flaky_server(2)?,
    };
    let backoff = Backoff {
        initial: Duration::from_millis(200),
        max: Duration::from_secs(5),
        ..Backoff::default()
    };
    WebSocketApp::builder(&url)
        .reconnect(Reconnect::Backoff(backoff))
        .on_open(|_| println!("opened"))
        .on_reconnect(|app| {
            println!("reconnected");
            let _ = app.send_text("back again");
        })
        .on_message(|app, message| {
            println!("received {message:?}");
            app.close();
        })
        .on_error(|_, error| println!("error: {error}"))
        .on_close(|_, frame| println!("closed: {frame:?}"))
        .build()?
        .run_forever()?;
    Ok(())
}
