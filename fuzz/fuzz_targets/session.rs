//! Any byte stream into a client `Session`, in fuzzer-chosen pieces (copied in, or read into
//! lent buffers), with EOF at the end: no panic, every frame it sends is a valid masked frame,
//! and its input buffer stays bounded by the frame limit.
//! Text taken as an owned `String` (`take_text`, which skips a second UTF-8 pass) equals the
//! borrowed text; in fuzz builds debug assertions re-check every unchecked conversion.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ws_frame::{
    Config, Decoder, Delivery, Event, Limits, OpCode, Role, Session, parse_close_payload,
};

fuzz_target!(|data: &[u8]| {
    let Some((&control, input)) = data.split_first() else {
        return;
    };
    let config = Config::default()
        .limits(
            Limits::default()
                .max_frame_size(1 << 12)
                .max_message_size(1 << 14),
        )
        .delivery(if control & 1 == 0 {
            Delivery::Messages
        } else {
            Delivery::Fragments
        })
        .accept_masked_frames(control & 2 != 0)
        .skip_utf8_validation(control & 4 != 0)
        .auto_close_reply(control & 8 != 0)
        .read_buffer_size(256);
    let mut session = Session::client(config, || [0x11, 0x22, 0x33, 0x44]);
    let step = usize::from(control >> 4) * 7 + 1;
    let mut output = Vec::new();
    let take = control & 0x80 != 0;
    for piece in input.chunks(step) {
        feed(&mut session, piece);
        drain(&mut session, take);
        output.extend_from_slice(session.pending_output());
        session.consume_output(session.pending_output().len());
    }
    session.receive_eof();
    drain(&mut session, take);
    output.extend_from_slice(session.pending_output());
    // Pieces are at most 106 bytes. What stays unconsumed is a header, a control frame (at
    // most 139 bytes), or a data frame waiting whole in the buffer, which it fits; copying a
    // piece in behind such a frame can double the buffer, so a frame within the 4 KiB limit
    // can take it to at most twice the frame, its header and a piece. Nothing a peer sends
    // grows it past that.
    let bound = 2 * ((1 << 12) + 14 + 106);
    let len = session.input_buffer().len();
    assert!(
        len <= bound,
        "the input buffer grew to {len} bytes, past {bound}"
    );

    // Whatever happened, the bytes the client sent are valid frames for a server.
    let mut server = Decoder::new(Role::Server, Limits::default());
    let mut buf = output;
    let mut closes = 0;
    while let Some(chunk) = server
        .decode(&mut buf)
        .expect("the client sent an invalid frame")
    {
        assert!(chunk.is_first && chunk.is_last, "output holds whole frames");
        if chunk.header.opcode == OpCode::Close {
            closes += 1;
            parse_close_payload(chunk.data(&buf)).expect("valid close payload");
        }
        buf.drain(..chunk.consumed);
    }
    assert!(buf.is_empty(), "output ends on a frame boundary");
    assert!(closes <= 1, "at most one close frame");
});

/// Feeds `piece` with `receive_data`, or (by its first byte) through lent buffers
/// (`lend_input` / `restore_input`), the way a split reader does.
fn feed(session: &mut Session<impl FnMut() -> [u8; 4]>, piece: &[u8]) {
    if piece[0] & 1 == 0 {
        session.receive_data(piece);
        return;
    }
    let mut rest = piece;
    while !rest.is_empty() {
        let mut loan = session.lend_input();
        assert_eq!(session.next_event(), Ok(None), "decoded while lent");
        let room = loan.room();
        let n = room.len().min(rest.len());
        room[..n].copy_from_slice(&rest[..n]);
        session.restore_input(loan, n);
        rest = &rest[n..];
    }
}

/// Takes every event; with `take`, text is also taken as an owned `String` and compared.
fn drain(session: &mut Session<impl FnMut() -> [u8; 4]>, take: bool) {
    while let Ok(Some(event)) = session.next_event() {
        let text = match event {
            Event::Text(t) if take => Some(t.to_owned()),
            _ => None,
        };
        if let Some(text) = text {
            assert_eq!(
                session.take_text(),
                text,
                "take_text differs from the event"
            );
        }
    }
}
