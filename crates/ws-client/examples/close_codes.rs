//! Close status codes: closing with a code and reason, the peer's answer, and the codes the
//! codec refuses to send.
//!
//! ```sh
//! cargo run -p ws-client --example close_codes
//! ```

use ws_client::CloseCode;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = ws_client::echo::EchoServer::start()?;
    let mut ws = ws_client::connect(&server.url())?;
    // 1005 and 1006 are for reporting only (RFC 6455 7.4.1): refused, nothing is sent.
    match ws.send_close(CloseCode::ABNORMAL, "") {
        Err(e) => println!("sending 1006: {e}"),
        Ok(()) => return Err("1006 must be refused".into()),
    }
    let answer = ws.close(CloseCode::GOING_AWAY, "shutting down")?;
    if let Some(frame) = answer {
        println!(
            "server answered {} ({}) {:?}",
            frame.code.0,
            frame.code.description(),
            frame.reason
        );
    }
    if let Err(e) = ws.send_text("late") {
        println!("after close: {e}");
    }
    Ok(())
}
