//! Sending with an explicit opcode and manual fragmentation (Python's `send(data, opcode)`
//! and `send_frame(ABNF.create_frame(...))`).
//!
//! ```sh
//! cargo run -p ws-client --example custom_opcode
//! ```

use ws_client::{Message, OpCode};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = ws_client::echo::EchoServer::start()?;
    let mut ws = ws_client::connect(&server.url())?;
    ws.send(Message::Binary(vec![0xde, 0xad, 0xbe, 0xef]))?;
    println!("binary: {:?}", ws.recv()?);
    ws.send_frame(OpCode::Text, false, b"one message ")?;
    ws.send_frame(OpCode::Continuation, false, b"in three ")?;
    ws.send_frame(OpCode::Continuation, true, b"frames")?;
    println!("fragmented: {:?}", ws.recv()?);
    Ok(())
}
