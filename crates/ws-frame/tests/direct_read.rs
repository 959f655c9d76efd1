//! Frames too large for the receive buffer are read straight into the buffer their message is
//! assembled in: what `input_buffer` and `lend_input` offer then, and that the bytes, their
//! order, the unmasking and the UTF-8 check come out as when they are copied in.
#![allow(clippy::unwrap_used)]

use ws_frame::{Config, Error, Event, FrameHeader, MaskKeySource, OpCode, Session, encode_frame};

/// A frame as a server sends it (unmasked), or as a client does with `mask`.
fn frame(opcode: OpCode, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut out = Vec::new();
    let header = FrameHeader::new(true, opcode, mask, payload.len() as u64);
    encode_frame(&mut out, header, payload).unwrap();
    out
}

/// A payload whose every byte says where it is, so a lost, doubled or moved byte shows.
fn numbered(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// How [`read_all`] gets each message out of the session.
#[derive(Clone, Copy)]
enum Out {
    /// `take_message` / `take_text`: the message buffer goes with it.
    Taken,
    /// A copy of the borrowed event: the session keeps its message buffer.
    Borrowed,
}

/// Feeds `wire` as a transport would, reading at most `read` bytes into whatever
/// `input_buffer` offers each time, and collects the messages, got out as `out` says.
fn read_all<K: MaskKeySource>(
    session: &mut Session<K>,
    wire: &[u8],
    read: usize,
    out: Out,
) -> Vec<Vec<u8>> {
    let mut messages = Vec::new();
    let mut at = 0;
    while at < wire.len() {
        let room = session.input_buffer();
        let n = room.len().min(read).min(wire.len() - at);
        room[..n].copy_from_slice(&wire[at..at + n]);
        session.commit_input(n);
        at += n;
        while let Some(event) = session.next_event().unwrap() {
            let message = match (event, out) {
                (Event::Binary(data), Out::Borrowed) => data.to_vec(),
                (Event::Text(text), Out::Borrowed) => text.as_bytes().to_vec(),
                (Event::Binary(_), Out::Taken) => session.take_message(),
                (Event::Text(_), Out::Taken) => session.take_text().into_bytes(),
                (other, _) => panic!("unexpected {other:?}"),
            };
            messages.push(message);
        }
    }
    messages
}

#[test]
fn a_large_frame_is_read_in_place_and_the_next_frame_is_not_read_with_it() {
    let big = numbered(1 << 20);
    let wire = [
        frame(OpCode::Binary, &big, None),
        frame(OpCode::Text, b"after", None),
    ]
    .concat();
    for read in [1000, 65_536, 300_000, usize::MAX] {
        let mut client = Session::client(Config::default(), || [0; 4]);
        // A room reaching past the frame would put the next frame's bytes in the message:
        // the message would differ and "after" would be lost. (`reads_in_place_stop_at_the_
        // end_of_the_frame` checks the room itself.)
        let messages = read_all(&mut client, &wire, read, Out::Taken);
        assert_eq!(messages.len(), 2, "read {read}");
        assert!(messages[0] == big, "read {read}: the large message differs");
        assert_eq!(messages[1], b"after");
    }
}

#[test]
fn reads_in_place_stop_at_the_end_of_the_frame() {
    let big = numbered(500_000);
    let wire = [frame(OpCode::Binary, &big, None), b"\x81\x02hi".to_vec()].concat();
    let mut client = Session::client(Config::default().read_buffer_size(4096), || [0; 4]);
    // The header and 4 KiB of the payload: the rest of the frame is read in place.
    let room = client.input_buffer();
    let n = room.len();
    room.copy_from_slice(&wire[..n]);
    client.commit_input(n);
    assert_eq!(client.next_event().unwrap(), None);
    let mut at = n;
    let frame_end = wire.len() - 4;
    while at < frame_end {
        let room = client.input_buffer();
        assert!(room.len() <= frame_end - at, "room past the frame at {at}");
        let n = room.len();
        room.copy_from_slice(&wire[at..at + n]);
        client.commit_input(n);
        at += n;
        if at < frame_end {
            assert_eq!(client.next_event().unwrap(), None);
        }
    }
    assert!(matches!(client.next_event().unwrap(), Some(Event::Binary(data)) if data == big));
    client.receive_data(&wire[frame_end..]);
    assert_eq!(client.next_event().unwrap(), Some(Event::Text("hi")));
}

#[test]
fn the_room_grows_with_the_data_not_with_the_length_a_header_claims() {
    // A header announcing 16 MiB (the default frame limit) and a little of its payload.
    let mut wire = vec![0x82, 127];
    wire.extend_from_slice(&(16u64 << 20).to_be_bytes());
    wire.extend_from_slice(&[7; 100]);
    let mut client = Session::client(Config::default(), || [0; 4]);
    client.receive_data(&wire);
    assert_eq!(client.next_event().unwrap(), None);
    let room = client.input_buffer().len();
    assert!(room <= 128 << 10, "offered {room} bytes for 100 received");
}

#[test]
fn masked_frames_read_in_place_are_unmasked_at_every_key_phase() {
    let payload = numbered(70_001);
    let wire = [
        frame(OpCode::Binary, &payload, Some([0x37, 0xfa, 0x21, 0x3d])),
        frame(OpCode::Binary, &payload, Some([1, 2, 3, 4])),
    ]
    .concat();
    // Reads of odd sizes put every read at another phase of the key.
    for read in [1, 3, 4093, 65_537] {
        let mut server = Session::server(Config::default().read_buffer_size(256));
        let messages = read_all(&mut server, &wire, read, Out::Taken);
        assert_eq!(messages.len(), 2, "read {read}");
        assert!(messages.iter().all(|m| *m == payload), "read {read}");
    }
}

#[test]
fn invalid_text_read_in_place_fails_as_it_arrives() {
    let mut text = "é".repeat(50_000).into_bytes();
    text[60_000] = 0xff;
    let wire = frame(OpCode::Text, &text, None);
    let mut client = Session::client(Config::default().read_buffer_size(256), || [0; 4]);
    let mut at = 0;
    let error = loop {
        let room = client.input_buffer();
        let n = room.len().min(1000).min(wire.len() - at);
        room[..n].copy_from_slice(&wire[at..at + n]);
        client.commit_input(n);
        at += n;
        match client.next_event() {
            Ok(None) => {}
            Ok(Some(event)) => panic!("unexpected {event:?}"),
            Err(error) => break error,
        }
    };
    assert_eq!(error, Error::InvalidUtf8 { offset: 60_000 });
    assert!(at < wire.len(), "failed only at the end of the frame");
    // The 1007 close frame is queued (masked with the all-zero key: the code shows).
    let close = client.pending_output();
    assert_eq!((close[0], &close[6..8]), (0x88, &[0x03, 0xef][..]));
}

#[test]
fn a_lent_message_buffer_keeps_its_bytes_ahead_of_bytes_fed_meanwhile() {
    let big = numbered(300_000);
    let wire = [frame(OpCode::Binary, &big, None), b"\x81\x02hi".to_vec()].concat();
    let mut client = Session::client(Config::default().read_buffer_size(1024), || [0; 4]);
    client.receive_data(&wire[..1000]);
    assert_eq!(client.next_event().unwrap(), None);
    let mut at = 1000;
    // Read into the loan while the rest of the stream is fed in the meantime: the loan's
    // bytes come first.
    let mut loan = client.lend_input();
    let room = loan.room();
    // The message buffer, with room for more than the receive buffer holds, but not past
    // the frame.
    assert!(room.len() > 1024 && room.len() <= wire.len() - 4 - at);
    let n = room.len().min(5000);
    room[..n].copy_from_slice(&wire[at..at + n]);
    at += n;
    assert_eq!(
        client.next_event().unwrap(),
        None,
        "decoded during the loan"
    );
    client.receive_data(&wire[at..]);
    client.restore_input(loan, n);
    assert!(matches!(client.next_event().unwrap(), Some(Event::Binary(data)) if data == big));
    assert_eq!(client.next_event().unwrap(), Some(Event::Text("hi")));
    assert_eq!(client.next_event().unwrap(), None);
}

#[test]
fn a_message_buffer_kept_from_an_earlier_message_holds_only_the_new_one() {
    // The second message is shorter than the first: what is left of the first in the
    // reused buffer must not show.
    let long = vec![1; 400_000];
    let short = vec![2; 200_000];
    let wire = [
        frame(OpCode::Binary, &long, None),
        frame(OpCode::Binary, &short, None),
    ]
    .concat();
    let mut client = Session::client(Config::default(), || [0; 4]);
    assert_eq!(
        read_all(&mut client, &wire, usize::MAX, Out::Borrowed),
        [long, short]
    );
}

/// The capacity of the buffer a message of two small frames is assembled in: the message
/// buffer the session holds at that point, handed over by `take_message`.
fn message_buffer_capacity<K: MaskKeySource>(session: &mut Session<K>) -> usize {
    let mut first = frame(OpCode::Binary, b"ab", None);
    first[0] &= 0x7f; // not the final frame
    let last = frame(OpCode::Continuation, b"cd", None);
    session.receive_data(&[first, last].concat());
    assert!(matches!(
        session.next_event().unwrap(),
        Some(Event::Binary(b"abcd"))
    ));
    session.take_message().capacity()
}

#[test]
fn the_buffer_of_a_large_message_is_kept_under_traffic_and_freed_when_it_thins() {
    let large = frame(OpCode::Binary, &numbered(1 << 20), None);
    let small = frame(OpCode::Binary, b"tick", None);
    // While messages keep coming, the buffer a borrowed 1 MiB message was assembled in
    // stays for the next one.
    let mut busy = Session::client(Config::default(), || [0; 4]);
    assert_eq!(
        read_all(&mut busy, &large, usize::MAX, Out::Borrowed),
        [numbered(1 << 20)]
    );
    assert_eq!(
        read_all(&mut busy, &small, usize::MAX, Out::Borrowed),
        [b"tick"]
    );
    assert!(message_buffer_capacity(&mut busy) >= 1 << 20);
    // Eight small reads in a row: the traffic has thinned out, and the buffer is freed
    // with the receive buffer's extra room.
    let mut quiet = Session::client(Config::default(), || [0; 4]);
    assert_eq!(
        read_all(&mut quiet, &large, usize::MAX, Out::Borrowed).len(),
        1
    );
    for _ in 0..8 {
        assert_eq!(
            read_all(&mut quiet, &small, usize::MAX, Out::Borrowed),
            [b"tick"]
        );
    }
    // Each read is judged when the next one asks for room.
    quiet.input_buffer();
    assert!(message_buffer_capacity(&mut quiet) < 1 << 10);
}
