//! Any byte stream into a client `Session` with permessage-deflate negotiated, in
//! fuzzer-chosen pieces: no panic; inflated messages stay within the message size limit (the
//! buffers stay bounded, a bomb stops at the limit); every delivered text is valid UTF-8;
//! every frame the client sends is a valid masked frame for a server with the same extension.
//! The first bytes choose the negotiated parameters.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ws_deflate::DeflateConfig;
use ws_frame::{Config, Decoder, Delivery, Event, Limits, Role, Session};
use ws_handshake::Extension;

const LIMIT: u64 = 1 << 16;

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let Some((&bits, input)) = rest.split_first() else {
        return;
    };
    let window = 8 + (bits & 7);
    let client = DeflateConfig::default()
        .client_no_context_takeover(control & 1 != 0)
        .server_no_context_takeover(control & 2 != 0)
        .server_max_window_bits(Some(window))
        .threshold(0);
    let answer = format!(
        "permessage-deflate; server_max_window_bits={window}{}",
        if control & 2 != 0 {
            "; server_no_context_takeover"
        } else {
            ""
        }
    );
    let Ok(Some(extension)) = client.accept_response(&Extension::parse_list(&answer)) else {
        panic!("a valid answer was refused: {answer}");
    };
    let config = Config::default()
        .limits(
            Limits::default()
                .max_frame_size(1 << 14)
                .max_message_size(LIMIT),
        )
        .delivery(if control & 4 == 0 {
            Delivery::Messages
        } else {
            Delivery::Fragments
        })
        .read_buffer_size(256);
    let mut session = Session::client(config, || [0x11, 0x22, 0x33, 0x44]);
    session.set_extension(Box::new(extension));
    let step = usize::from(control >> 3) * 11 + 1;
    let mut output = Vec::new();
    for piece in input.chunks(step) {
        session.receive_data(piece);
        loop {
            match session.next_event() {
                Ok(Some(Event::Text(text))) => assert!(text.len() as u64 <= LIMIT),
                Ok(Some(Event::Binary(data))) => {
                    assert!(
                        data.len() as u64 <= LIMIT,
                        "an inflated message past the limit"
                    );
                    // Echo it: the client compresses too.
                    let data = data.to_vec();
                    let _ = session.send_binary(&data);
                }
                Ok(Some(Event::Fragment { data, .. })) => assert!(data.len() as u64 <= LIMIT),
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
        output.extend_from_slice(session.pending_output());
        session.consume_output(session.pending_output().len());
    }
    // What the client sent decodes as frames, RSV1 only where the extension allows it.
    let mut server = Decoder::new(Role::Server, Limits::default()).allow_rsv_bits(4);
    let mut buf = output;
    while let Some(chunk) = server
        .decode(&mut buf)
        .expect("the client sent an invalid frame")
    {
        buf.drain(..chunk.consumed);
    }
    assert!(buf.is_empty(), "output ends on a frame boundary");
});
