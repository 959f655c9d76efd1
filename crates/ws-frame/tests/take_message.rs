//! Session::take_message and Session::abandon.
#![allow(clippy::unwrap_used)]

use ws_frame::{Config, Event, OpCode, Session};

#[test]
fn take_message_hands_over_assembled_and_single_chunk_payloads() {
    let mut server = Session::server(Config::default());
    let mut client = Session::client(Config::default(), || [9, 8, 7, 6]);
    // A message in three frames (assembled in the session's buffer), then one in a single frame.
    client
        .send_frame(OpCode::Binary, false, &[1; 1000])
        .unwrap();
    client
        .send_frame(OpCode::Continuation, false, &[2; 1000])
        .unwrap();
    client
        .send_frame(OpCode::Continuation, true, &[3; 1000])
        .unwrap();
    client.send_binary(b"single").unwrap();
    server.receive_data(client.pending_output());
    assert!(matches!(server.next_event().unwrap(), Some(Event::Binary(d)) if d.len() == 3000));
    let taken = server.take_message();
    assert_eq!(taken.len(), 3000);
    assert_eq!((taken[0], taken[1500], taken[2999]), (1, 2, 3));
    assert!(matches!(
        server.next_event().unwrap(),
        Some(Event::Binary(b"single"))
    ));
    assert_eq!(server.take_message(), b"single");
    // Only right after a data event.
    assert_eq!(server.take_message(), Vec::<u8>::new());
}

#[test]
fn abandon_closes_without_a_frame() {
    let mut client = Session::client(Config::default(), || [1, 2, 3, 4]);
    client.abandon();
    assert_eq!(client.state(), ws_frame::State::Closed);
    assert_eq!(client.pending_output(), b"");
    assert_eq!(client.send_text("late"), Err(ws_frame::Error::Closed));
}
