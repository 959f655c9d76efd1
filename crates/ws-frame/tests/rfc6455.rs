//! RFC 6455 §5.7 examples in both directions, fed whole, split at every byte offset, and byte
//! by byte; and the session-level rules, one table case per rule.

#![allow(clippy::unwrap_used)] // tests and benchmarks fail loudly by design

use ws_frame::{
    CloseCode, Config, Decoder, Delivery, Error, Event, FrameHeader, Limits, OpCode, Role, Session,
    State, encode_frame,
};

/// Every complete frame the decoder produces when `bytes` arrive as `pieces`.
fn decode_pieces(mut decoder: Decoder, pieces: &[&[u8]]) -> Result<Vec<Decoded>, Error> {
    let mut buf = Vec::new();
    let mut frames = Vec::new();
    let mut current: Option<(FrameHeader, Vec<u8>)> = None;
    for piece in pieces {
        buf.extend_from_slice(piece);
        while let Some(chunk) = decoder.decode(&mut buf)? {
            if chunk.is_first {
                assert!(current.is_none(), "new frame before the last one ended");
                current = Some((chunk.header, Vec::new()));
            }
            let (_, payload) = current.as_mut().expect("a chunk outside a frame");
            assert_eq!(chunk.offset, payload.len() as u64);
            payload.extend_from_slice(chunk.data(&buf));
            if chunk.is_last {
                frames.push(current.take().unwrap());
            }
            buf.drain(..chunk.consumed);
        }
    }
    assert!(buf.is_empty(), "bytes left over: {buf:?}");
    Ok(frames)
}

/// The same bytes fed whole, split once at every offset, and one byte at a time all decode to
/// `expected`.
fn assert_decodes_at_every_split(role: Role, bytes: &[u8], expected: &[Decoded]) {
    let decoder = || Decoder::new(role, Limits::default()).accept_masked_frames(true);
    assert_eq!(
        decode_pieces(decoder(), &[bytes]).unwrap(),
        expected,
        "whole"
    );
    for split in 0..=bytes.len() {
        let (a, b) = bytes.split_at(split);
        assert_eq!(
            decode_pieces(decoder(), &[a, b]).unwrap(),
            expected,
            "split at {split}"
        );
    }
    let bytewise: Vec<&[u8]> = bytes.chunks(1).collect();
    assert_eq!(
        decode_pieces(decoder(), &bytewise).unwrap(),
        expected,
        "byte by byte"
    );
}

fn encode(fin: bool, opcode: OpCode, mask: Option<[u8; 4]>, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_frame(&mut out, FrameHeader::new(fin, opcode, mask, 0), payload).unwrap();
    out
}

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// A frame as (fin, opcode, mask, payload).
type FrameSpec = (bool, OpCode, Option<[u8; 4]>, Vec<u8>);
/// A decoded frame and its payload.
type Decoded = (FrameHeader, Vec<u8>);

/// (description, wire bytes, frames as (fin, opcode, mask, payload)).
fn rfc_examples() -> Vec<(&'static str, Vec<u8>, Vec<FrameSpec>)> {
    let mut len256 = vec![0x82, 0x7E, 0x01, 0x00];
    len256.extend(std::iter::repeat_n(0xAB, 256));
    let mut len64k = vec![0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00];
    len64k.extend(std::iter::repeat_n(0xCD, 65536));
    vec![
        (
            "single-frame unmasked text",
            vec![0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f],
            vec![(true, OpCode::Text, None, b"Hello".to_vec())],
        ),
        (
            "single-frame masked text",
            vec![
                0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
            ],
            vec![(true, OpCode::Text, Some(KEY), b"Hello".to_vec())],
        ),
        (
            "fragmented unmasked text",
            vec![0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f],
            vec![
                (false, OpCode::Text, None, b"Hel".to_vec()),
                (true, OpCode::Continuation, None, b"lo".to_vec()),
            ],
        ),
        (
            "unmasked ping",
            vec![0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f],
            vec![(true, OpCode::Ping, None, b"Hello".to_vec())],
        ),
        (
            "masked pong",
            vec![
                0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
            ],
            vec![(true, OpCode::Pong, Some(KEY), b"Hello".to_vec())],
        ),
        (
            "256 bytes binary, 16-bit length",
            len256,
            vec![(true, OpCode::Binary, None, vec![0xAB; 256])],
        ),
        (
            "64 KiB binary, 64-bit length",
            len64k,
            vec![(true, OpCode::Binary, None, vec![0xCD; 65536])],
        ),
    ]
}

#[test]
fn rfc_examples_encode_to_the_rfc_bytes() {
    for (name, bytes, frames) in rfc_examples() {
        let encoded: Vec<u8> = frames
            .iter()
            .flat_map(|(fin, op, mask, payload)| encode(*fin, *op, *mask, payload))
            .collect();
        assert_eq!(encoded, bytes, "{name}");
    }
}

#[test]
fn rfc_examples_decode_at_every_split() {
    for (name, bytes, frames) in rfc_examples() {
        let expected: Vec<Decoded> = frames
            .iter()
            .map(|(fin, op, mask, payload)| {
                (
                    FrameHeader::new(*fin, *op, *mask, payload.len() as u64),
                    payload.clone(),
                )
            })
            .collect();
        // The large examples split at every offset would take long in debug builds; their
        // headers are what matters, so split those only around the header and payload start.
        if bytes.len() > 1024 {
            let decoder = || Decoder::new(Role::Client, Limits::default());
            for split in 0..16 {
                let (a, b) = bytes.split_at(split);
                assert_eq!(
                    decode_pieces(decoder(), &[a, b]).unwrap(),
                    expected,
                    "{name} @{split}"
                );
            }
            continue;
        }
        let role = if frames[0].2.is_some() {
            Role::Server
        } else {
            Role::Client
        };
        assert_decodes_at_every_split(role, &bytes, &expected);
    }
}

#[test]
fn header_partial_at_every_prefix_and_minimal_lengths() {
    for len in [0u64, 125, 126, 65535, 65536, 1 << 40] {
        for mask in [None, Some(KEY)] {
            let header = FrameHeader::new(true, OpCode::Binary, mask, len);
            let mut out = [0; ws_frame::MAX_HEADER_LEN];
            let n = header.encode(&mut out).unwrap();
            assert_eq!(n, header.encoded_len());
            let expected_len = 2
                + [0, 2, 8][usize::from(len > 125) + usize::from(len > 65535)]
                + if mask.is_some() { 4 } else { 0 };
            assert_eq!(n, expected_len, "minimal length encoding for {len}");
            for prefix in 0..n {
                assert_eq!(
                    FrameHeader::decode(&out[..prefix]),
                    Ok(ws_frame::Status::Partial)
                );
            }
            assert_eq!(
                FrameHeader::decode(&out[..n]),
                Ok(ws_frame::Status::Complete((header, n)))
            );
        }
    }
}

#[test]
fn header_rejects_64_bit_length_with_top_bit() {
    let bytes = [0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 1];
    assert_eq!(
        FrameHeader::decode(&bytes),
        Err(Error::PayloadLengthOverflow(0x8000_0000_0000_0001))
    );
    let header = FrameHeader::new(true, OpCode::Binary, None, 1 << 63);
    assert_eq!(
        header.encode(&mut [0; 14]),
        Err(Error::PayloadTooLong(1 << 63))
    );
    let reserved = FrameHeader::new(true, OpCode::Reserved(0x13), None, 0);
    assert_eq!(
        reserved.encode(&mut [0; 14]),
        Err(Error::InvalidOpcode(0x13))
    );
}

// ---- session-level rules --------------------------------------------------------------------

/// A client session with a fixed mask key, for exact output.
fn client(config: Config) -> Session<impl FnMut() -> [u8; 4]> {
    Session::client(config, || KEY)
}

/// Unmasked server frame bytes.
fn server_frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    encode(fin, OpCode::from_bits(opcode), None, payload)
}

/// What a client made of `input`: the events (owned), and the error that ended it, if any.
fn run_client(config: Config, input: &[u8]) -> (Vec<String>, Option<Error>, Vec<Decoded>, State) {
    let mut session = client(config);
    session.receive_data(input);
    let mut events = Vec::new();
    let error = loop {
        match session.next_event() {
            Ok(Some(event)) => events.push(format!("{event:?}")),
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    let sent = decode_pieces(
        Decoder::new(Role::Server, Limits::default()),
        &[session.pending_output()],
    )
    .unwrap();
    (events, error, sent, session.state())
}

/// The close code of the one close frame the client sent.
fn sent_close_code(sent: &[Decoded]) -> Option<u16> {
    let (header, payload) = sent.last()?;
    assert_eq!(header.opcode, OpCode::Close);
    Some(u16::from_be_bytes([payload[0], payload[1]]))
}

#[test]
fn protocol_violations_fail_with_the_right_error_and_close_code() {
    let mut masked = vec![0x81, 0x81];
    masked.extend_from_slice(&KEY);
    masked.push(b'a' ^ KEY[0]);
    let fragmented_text = server_frame(false, 0x1, b"He");
    let cases: Vec<(&str, Vec<u8>, Error, u16)> = vec![
        (
            "reserved data opcode",
            server_frame(true, 0x3, b""),
            Error::ReservedOpcode(0x3),
            1002,
        ),
        (
            "reserved control opcode",
            server_frame(true, 0xB, b""),
            Error::ReservedOpcode(0xB),
            1002,
        ),
        (
            "rsv1 without extension",
            vec![0xC1, 0x00],
            Error::ReservedBits(4),
            1002,
        ),
        (
            "rsv3 without extension",
            vec![0x91, 0x00],
            Error::ReservedBits(1),
            1002,
        ),
        (
            "fragmented ping",
            server_frame(false, 0x9, b""),
            Error::FragmentedControlFrame(OpCode::Ping),
            1002,
        ),
        (
            "fragmented close",
            server_frame(false, 0x8, b""),
            Error::FragmentedControlFrame(OpCode::Close),
            1002,
        ),
        (
            "ping of 126 bytes",
            server_frame(true, 0x9, &[0; 126]),
            Error::ControlFrameTooLong(126),
            1002,
        ),
        (
            "pong of 126 bytes",
            server_frame(true, 0xA, &[0; 126]),
            Error::ControlFrameTooLong(126),
            1002,
        ),
        (
            "close of 1 byte",
            server_frame(true, 0x8, &[3]),
            Error::InvalidClosePayload,
            1002,
        ),
        (
            "close code 1005",
            server_frame(true, 0x8, &[0x03, 0xED]),
            Error::InvalidCloseCode(1005),
            1002,
        ),
        (
            "close reason not UTF-8",
            server_frame(true, 0x8, &[0x03, 0xE8, 0xFF]),
            Error::InvalidCloseReason,
            1007,
        ),
        (
            "masked frame from server",
            masked,
            Error::MaskedFrameFromServer,
            1002,
        ),
        (
            "continuation without message",
            server_frame(true, 0x0, b"x"),
            Error::UnexpectedContinuation,
            1002,
        ),
        (
            "text inside a fragmented message",
            [fragmented_text.clone(), server_frame(true, 0x1, b"x")].concat(),
            Error::ExpectedContinuation(OpCode::Text),
            1002,
        ),
        (
            "binary inside a fragmented message",
            [fragmented_text, server_frame(true, 0x2, b"x")].concat(),
            Error::ExpectedContinuation(OpCode::Binary),
            1002,
        ),
        (
            "64-bit length top bit",
            vec![0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0],
            Error::PayloadLengthOverflow(1 << 63),
            1002,
        ),
        (
            "invalid UTF-8 text",
            server_frame(true, 0x1, b"ab\xC0\xAF"),
            Error::InvalidUtf8 { offset: 2 },
            1007,
        ),
        (
            "truncated UTF-8 at message end",
            server_frame(true, 0x1, b"ab\xE2\x82"),
            Error::TruncatedUtf8 { offset: 2 },
            1007,
        ),
        (
            "truncated UTF-8 across fragments",
            [
                server_frame(false, 0x1, b"\xE2"),
                server_frame(true, 0x0, b"\x82"),
            ]
            .concat(),
            Error::TruncatedUtf8 { offset: 0 },
            1007,
        ),
    ];
    for (name, input, error, code) in cases {
        let (_, got, sent, state) = run_client(Config::default(), &input);
        assert_eq!(got, Some(error), "{name}");
        assert_eq!(error.close_code(), Some(CloseCode(code)), "{name}");
        assert_eq!(
            sent_close_code(&sent),
            Some(code),
            "{name}: close frame sent"
        );
        assert_eq!(state, State::Closed, "{name}");
    }
}

#[test]
fn every_close_code_follows_section_7_4() {
    let valid = |c: u16| matches!(c, 1000..=1003 | 1007..=1014 | 3000..=4999);
    for code in (0..=5100u16).chain([u16::MAX]) {
        assert_eq!(CloseCode(code).is_valid(), valid(code), "{code}");
        let (events, error, _, _) = run_client(
            Config::default(),
            &server_frame(true, 0x8, &code.to_be_bytes()),
        );
        if valid(code) {
            assert_eq!(error, None, "{code}");
            assert_eq!(events.len(), 1, "{code}");
        } else {
            assert_eq!(error, Some(Error::InvalidCloseCode(code)), "{code}");
        }
    }
}

#[test]
fn size_limits_fail_with_1009_naming_limit_and_value() {
    let config =
        Config::default().limits(Limits::default().max_frame_size(100).max_message_size(150));
    let (_, error, sent, _) = run_client(config, &server_frame(true, 0x2, &[0; 101]));
    assert_eq!(
        error,
        Some(Error::FrameTooLarge {
            size: 101,
            limit: 100
        })
    );
    assert_eq!(sent_close_code(&sent), Some(1009));
    assert_eq!(error.unwrap().to_string(), "frame too large: 101 > 100");

    let input = [
        server_frame(false, 0x2, &[0; 100]),
        server_frame(true, 0x0, &[0; 51]),
    ]
    .concat();
    let (_, error, sent, _) = run_client(config, &input);
    assert_eq!(
        error,
        Some(Error::MessageTooLarge {
            size: 151,
            limit: 150
        })
    );
    assert_eq!(sent_close_code(&sent), Some(1009));
    assert_eq!(error.unwrap().to_string(), "message too long: 151 > 150");

    // Fragment delivery does not hold the message, so only the frame limit applies.
    let (events, error, _, _) = run_client(config.delivery(Delivery::Fragments), &input);
    assert_eq!((events.len(), error), (2, None));
}

#[test]
fn invalid_utf8_fails_before_the_frame_has_arrived() {
    // A 1000-byte text frame of which only the first 12 bytes have come; byte 10 is invalid.
    let mut frame = server_frame(true, 0x1, &[b'a'; 1000]);
    frame[4 + 10] = 0xFF;
    let mut session = client(Config::default());
    session.receive_data(&frame[..4 + 12]);
    assert_eq!(session.next_event(), Err(Error::InvalidUtf8 { offset: 10 }));
    // And a sequence that can never complete fails on its second byte (Autobahn 6.4.3).
    let mut session = client(Config::default());
    let mut frame = server_frame(true, 0x1, &[b'a'; 1000]);
    frame[4..7].copy_from_slice(b"\xCE\xBA\xE1");
    frame[7] = 0x7F;
    session.receive_data(&frame[..8]);
    assert_eq!(session.next_event(), Err(Error::InvalidUtf8 { offset: 2 }));
}

#[test]
fn ping_in_the_middle_of_a_fragmented_message_is_answered_in_order() {
    let input = [
        server_frame(false, 0x1, b"Hel"),
        server_frame(true, 0x9, b"are you there"),
        server_frame(true, 0x0, b"lo"),
    ]
    .concat();
    for split in 0..=input.len() {
        let mut session = client(Config::default());
        let mut events = Vec::new();
        for piece in [&input[..split], &input[split..]] {
            session.receive_data(piece);
            while let Some(event) = session.next_event().unwrap() {
                events.push(format!("{event:?}"));
            }
        }
        assert_eq!(
            events,
            [
                r#"Ping([97, 114, 101, 32, 121, 111, 117, 32, 116, 104, 101, 114, 101])"#,
                r#"Text("Hello")"#
            ]
        );
        let sent = decode_pieces(
            Decoder::new(Role::Server, Limits::default()),
            &[session.pending_output()],
        )
        .unwrap();
        assert_eq!(
            sent,
            [(
                FrameHeader::new(true, OpCode::Pong, Some(KEY), 13),
                b"are you there".to_vec()
            )]
        );
    }
}

#[test]
fn close_is_echoed_and_the_session_closes() {
    let (events, error, sent, state) = run_client(
        Config::default(),
        &server_frame(true, 0x8, b"\x03\xE9going away"),
    );
    assert_eq!(
        events,
        [r#"Close { code: CloseCode(1001), reason: "going away" }"#]
    );
    assert_eq!(error, None);
    assert_eq!(
        sent,
        [(
            FrameHeader::new(true, OpCode::Close, Some(KEY), 2),
            vec![0x03, 0xE9]
        )]
    );
    assert_eq!(state, State::Closed);

    // A close without status is answered without status and reported as 1005.
    let (events, _, sent, _) = run_client(Config::default(), &server_frame(true, 0x8, b""));
    assert_eq!(events, [r#"Close { code: CloseCode(1005), reason: "" }"#]);
    assert_eq!(
        sent,
        [(FrameHeader::new(true, OpCode::Close, Some(KEY), 0), vec![])]
    );
}

#[test]
fn local_close_waits_for_the_peer_and_still_delivers_data() {
    let mut session = client(Config::default());
    session
        .send_close(Some(CloseCode::GOING_AWAY), "bye")
        .unwrap();
    assert_eq!(session.state(), State::LocalClosing);
    assert!(!session.close_expected());
    assert_eq!(session.send_text("late"), Err(Error::Closed));
    assert_eq!(session.send_close(None, ""), Err(Error::Closed));
    session.receive_data(&server_frame(true, 0x1, b"in flight"));
    session.receive_data(&server_frame(true, 0x9, b"p"));
    session.receive_data(&server_frame(true, 0x8, b"\x03\xE9"));
    assert_eq!(session.next_event(), Ok(Some(Event::Text("in flight"))));
    assert_eq!(session.next_event(), Ok(Some(Event::Ping(b"p"))));
    assert_eq!(
        session.next_event(),
        Ok(Some(Event::Close {
            code: CloseCode::GOING_AWAY,
            reason: ""
        }))
    );
    assert_eq!(session.state(), State::Closed);
    assert!(session.close_expected());
    // Only our close went out: no pong after our close frame, no second close.
    let sent = decode_pieces(
        Decoder::new(Role::Server, Limits::default()),
        &[session.pending_output()],
    )
    .unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].1, b"\x03\xE9bye");
}

#[test]
fn close_reply_can_be_left_to_the_application() {
    let mut session = client(Config::default().auto_close_reply(false));
    session.receive_data(&server_frame(true, 0x8, b"\x0F\xA0app"));
    assert_eq!(
        session.next_event(),
        Ok(Some(Event::Close {
            code: CloseCode(4000),
            reason: "app"
        }))
    );
    assert_eq!(session.state(), State::RemoteClosing);
    assert!(session.pending_output().is_empty());
    session.send_text("last words").unwrap();
    session.send_close(Some(CloseCode::NORMAL), "").unwrap();
    assert_eq!(session.state(), State::Closed);
}

#[test]
fn eof_without_close_is_abnormal_but_delivers_what_came_first() {
    let mut session = client(Config::default());
    session.receive_data(&server_frame(true, 0x2, b"data"));
    session.receive_data(&[0x81]); // half a header
    session.receive_eof();
    assert_eq!(session.next_event(), Ok(Some(Event::Binary(b"data"))));
    let error = session.next_event().unwrap_err();
    assert_eq!(error, Error::UnexpectedEof);
    assert_eq!(error.close_code(), Some(CloseCode::ABNORMAL));
    assert!(session.pending_output().is_empty(), "1006 is never sent");
    assert_eq!(session.state(), State::Closed);
    assert_eq!(session.next_event(), Ok(None));

    let mut session = client(Config::default());
    session.receive_data(&server_frame(true, 0x8, b"\x03\xE8"));
    session.receive_eof();
    assert!(matches!(
        session.next_event(),
        Ok(Some(Event::Close { .. }))
    ));
    assert_eq!(
        session.next_event(),
        Ok(None),
        "EOF after the close handshake is clean"
    );
}

#[test]
fn masked_server_frames_can_be_accepted_like_python() {
    let mut input = vec![0x82, 0x83];
    input.extend_from_slice(&KEY);
    input.extend([1 ^ KEY[0], 2 ^ KEY[1], 3 ^ KEY[2]]);
    let (events, error, _, _) = run_client(Config::default().accept_masked_frames(true), &input);
    assert_eq!(
        (events, error),
        (vec!["Binary([1, 2, 3])".to_string()], None)
    );
}

#[test]
fn server_role_requires_masked_frames() {
    let mut session = Session::server(Config::default());
    session.receive_data(&server_frame(true, 0x1, b"x"));
    assert_eq!(session.next_event(), Err(Error::UnmaskedFrameFromClient));
    // The server's close frame is unmasked and carries 1002.
    let sent = decode_pieces(
        Decoder::new(Role::Client, Limits::default()),
        &[session.pending_output()],
    )
    .unwrap();
    assert_eq!(sent[0].0.mask, None);
    assert_eq!(&sent[0].1[..2], &1002u16.to_be_bytes());
}

#[test]
fn fragments_are_delivered_one_by_one_when_asked() {
    let input = [
        server_frame(false, 0x1, b"\xE2\x82"),
        server_frame(false, 0x0, b"\xAC"),
        server_frame(true, 0x0, b"!"),
    ]
    .concat();
    let (events, error, _, _) = run_client(Config::default().delivery(Delivery::Fragments), &input);
    assert_eq!(error, None);
    assert_eq!(
        events,
        [
            "Fragment { opcode: Text, data: [226, 130], fin: false }",
            "Fragment { opcode: Continuation, data: [172], fin: false }",
            "Fragment { opcode: Continuation, data: [33], fin: true }",
        ]
    );
}

#[test]
fn skip_utf8_validation_delivers_unvalidated_text() {
    let (events, error, _, _) = run_client(
        Config::default().skip_utf8_validation(true),
        &server_frame(true, 0x1, b"\xFF"),
    );
    assert_eq!(
        (events, error),
        (vec!["UnvalidatedText([255])".to_string()], None)
    );
}

#[test]
fn auto_pong_can_be_turned_off() {
    let (events, _, sent, _) = run_client(
        Config::default().auto_pong(false),
        &server_frame(true, 0x9, b"x"),
    );
    assert_eq!(events.len(), 1);
    assert!(sent.is_empty());
}

#[test]
fn local_misuse_is_refused_and_nothing_is_sent() {
    let mut session = client(Config::default());
    assert_eq!(
        session.send_ping(&[0; 126]),
        Err(Error::ControlPayloadTooLong(126))
    );
    assert_eq!(
        session.send_pong(&[0; 126]),
        Err(Error::ControlPayloadTooLong(126))
    );
    assert_eq!(
        session.send_close(Some(CloseCode::NO_STATUS), ""),
        Err(Error::InvalidCloseCode(1005))
    );
    assert_eq!(
        session.send_close(Some(CloseCode(999)), ""),
        Err(Error::InvalidCloseCode(999))
    );
    assert_eq!(
        session.send_close(Some(CloseCode::NORMAL), &"x".repeat(124)),
        Err(Error::CloseReasonTooLong(124))
    );
    assert_eq!(
        session.send_close(None, "why"),
        Err(Error::CloseReasonWithoutCode)
    );
    assert_eq!(
        session.send_frame(OpCode::Continuation, true, b"x"),
        Err(Error::NoMessageInProgress)
    );
    assert_eq!(
        session.send_frame(OpCode::Ping, true, b"x"),
        Err(Error::NotADataOpcode(OpCode::Ping))
    );
    assert_eq!(
        session.send_frame(OpCode::Text, true, b"\xFF"),
        Err(Error::InvalidOutgoingUtf8)
    );
    assert_eq!(
        session.send_frame(OpCode::Text, true, b"\xE2\x82"),
        Err(Error::InvalidOutgoingUtf8)
    );
    assert!(session.pending_output().is_empty());
    assert_eq!(session.state(), State::Open);
    for error in [
        Error::ControlPayloadTooLong(126),
        Error::Closed,
        Error::MessageInProgress,
    ] {
        assert_eq!(error.close_code(), None, "{error} is local");
    }

    // A hand-fragmented text message may split a code point between frames.
    session
        .send_frame(OpCode::Text, false, b"\xE2\x82")
        .unwrap();
    assert_eq!(
        session.send_text("interleaved"),
        Err(Error::MessageInProgress)
    );
    assert_eq!(
        session.send_frame(OpCode::Binary, true, b""),
        Err(Error::MessageInProgress)
    );
    assert_eq!(
        session.send_frame(OpCode::Continuation, true, b"\xFF"),
        Err(Error::InvalidOutgoingUtf8)
    );
    session.send_ping(b"control frames may interleave").unwrap();
    session
        .send_frame(OpCode::Continuation, true, b"\xAC")
        .unwrap();

    let mut server = Session::server(Config::default());
    server.receive_data(session.pending_output());
    assert_eq!(
        server.next_event(),
        Ok(Some(Event::Ping(b"control frames may interleave")))
    );
    assert_eq!(server.next_event(), Ok(Some(Event::Text("€"))));
}

#[test]
fn fail_sends_a_close_and_ends_the_session_at_once() {
    let mut session = client(Config::default());
    session.fail(CloseCode::POLICY_VIOLATION, "no").unwrap();
    assert_eq!(session.state(), State::Closed);
    assert!(session.close_expected());
    session.receive_data(&server_frame(true, 0x1, b"ignored"));
    assert_eq!(session.next_event(), Ok(None));
    session.fail(CloseCode::NORMAL, "").unwrap();
    let sent = decode_pieces(
        Decoder::new(Role::Server, Limits::default()),
        &[session.pending_output()],
    )
    .unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].1, b"\x03\xF0no");
}

#[test]
fn protocol_error_close_reason_names_the_problem() {
    let (_, _, sent, _) = run_client(Config::default(), &server_frame(true, 0x9, &[0; 126]));
    let reason = std::str::from_utf8(&sent[0].1[2..]).unwrap();
    assert_eq!(reason, "control frame too long: 126 > 125");
}

/// Reads `bytes` into the session through `input_buffer` / `commit_input` (no copy) and
/// returns how many events they produced.
fn read_in(session: &mut Session<impl FnMut() -> [u8; 4]>, bytes: &[u8]) -> usize {
    let mut events = 0;
    let mut fed = 0;
    while fed < bytes.len() {
        let buf = session.input_buffer();
        assert!(!buf.is_empty());
        let n = buf.len().min(bytes.len() - fed);
        buf[..n].copy_from_slice(&bytes[fed..fed + n]);
        session.commit_input(n);
        fed += n;
        while session.next_event().unwrap().is_some() {
            events += 1;
        }
    }
    events
}

#[test]
fn a_large_frame_streams_through_a_small_buffer_without_growing_it() {
    let mut session = client(Config::default().read_buffer_size(300));
    assert_eq!(
        read_in(&mut session, &server_frame(true, 0x2, &[7; 1000])),
        1
    );
    assert_eq!(session.input_buffer().len(), 300, "the buffer never grew");
}

#[test]
fn the_buffer_grows_under_bulk_reads_and_shrinks_back_when_traffic_thins() {
    let mut session = client(Config::default());
    assert_eq!(session.input_buffer().len(), ws_frame::INITIAL_READ_BUFFER);
    // A stream that fills every read: the room doubles up to the configured 128 KiB.
    let frames: Vec<u8> = (0..40_000)
        .flat_map(|_| server_frame(true, 0x2, &[1; 100]))
        .collect();
    assert_eq!(read_in(&mut session, &frames), 40_000);
    let grown = session.input_buffer().len();
    assert_eq!(grown, 128 << 10, "grew to the maximum");
    // One small read is not the end of a stream: the buffer stays.
    assert_eq!(read_in(&mut session, &server_frame(true, 0x2, b"hi")), 1);
    assert_eq!(session.input_buffer().len(), 128 << 10);
    // Eight small reads in a row, everything consumed: back to the initial size.
    for _ in 0..7 {
        assert_eq!(read_in(&mut session, &server_frame(true, 0x2, b"hi")), 1);
    }
    assert_eq!(session.input_buffer().len(), ws_frame::INITIAL_READ_BUFFER);
    // A configured size below the initial one is used as it is.
    let mut small = client(Config::default().read_buffer_size(1000));
    assert_eq!(small.input_buffer().len(), 1000);
}

#[test]
fn input_buffer_compacts_consumed_bytes_instead_of_offering_a_sliver() {
    let mut session = client(Config::default().read_buffer_size(1024));
    let frames: Vec<u8> = (0..101)
        .flat_map(|_| server_frame(true, 0x2, &[1; 8]))
        .collect();
    let frame = server_frame(true, 0x2, &[2; 8]);
    // 1010 bytes of whole frames and the first byte of the next one fill the buffer to 1011.
    assert_eq!(
        read_in(&mut session, &[&frames[..], &frame[..1]].concat()),
        101
    );
    // One unconsumed byte: the next read must get (nearly) the whole buffer, not 13 bytes.
    assert_eq!(session.input_buffer().len(), 1023);
    assert_eq!(read_in(&mut session, &frame[1..]), 1);
}

#[test]
fn input_after_close_is_dropped_so_memory_stays_bounded() {
    let mut session = client(Config::default().read_buffer_size(4096));
    session.receive_data(&server_frame(true, 0x8, b"\x03\xE8"));
    assert!(matches!(
        session.next_event(),
        Ok(Some(Event::Close { .. }))
    ));
    let junk = server_frame(true, 0x2, &[1; 4000]);
    for _ in 0..1000 {
        session.receive_data(&junk);
        let buf = session.input_buffer();
        let n = buf.len().min(junk.len());
        buf[..n].copy_from_slice(&junk[..n]);
        session.commit_input(n);
        assert_eq!(session.next_event(), Ok(None));
    }
    assert_eq!(session.input_buffer().len(), 4096, "the buffer never grew");
}

/// As [`read_in`], through [`Session::lend_input`] / [`Session::restore_input`], at most
/// `piece` bytes per loan; the payloads of the binary messages, in order.
fn read_in_loans(
    session: &mut Session<impl FnMut() -> [u8; 4]>,
    bytes: &[u8],
    piece: usize,
) -> Vec<Vec<u8>> {
    let mut messages = Vec::new();
    let mut fed = 0;
    while fed < bytes.len() {
        let mut loan = session.lend_input();
        assert_eq!(
            session.next_event(),
            Ok(None),
            "nothing to decode while lent"
        );
        let room = loan.room();
        assert!(!room.is_empty());
        let n = room.len().min(piece).min(bytes.len() - fed);
        room[..n].copy_from_slice(&bytes[fed..fed + n]);
        session.restore_input(loan, n);
        fed += n;
        while let Some(event) = session.next_event().unwrap() {
            match event {
                Event::Binary(data) => messages.push(data.to_vec()),
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    messages
}

#[test]
fn a_lent_buffer_keeps_partial_frames_and_decodes_as_input_buffer_does() {
    let payloads: Vec<Vec<u8>> = (0..200u32)
        .map(|i| vec![i as u8; (i as usize * 37) % 700])
        .collect();
    let stream: Vec<u8> = payloads
        .iter()
        .flat_map(|p| server_frame(true, 0x2, p))
        .collect();
    for piece in [1, 7, 100, 4096, usize::MAX] {
        let mut session = client(Config::default());
        assert_eq!(
            read_in_loans(&mut session, &stream, piece),
            payloads,
            "piece {piece}"
        );
    }
}

#[test]
fn a_lent_buffer_grows_under_bulk_reads_and_shrinks_back() {
    let mut session = client(Config::default());
    let frames: Vec<u8> = (0..40_000)
        .flat_map(|_| server_frame(true, 0x2, &[1; 100]))
        .collect();
    assert_eq!(
        read_in_loans(&mut session, &frames, usize::MAX).len(),
        40_000
    );
    assert_eq!(
        session.lend_input().room().len(),
        128 << 10,
        "grew to the maximum"
    );
    let mut session = client(Config::default());
    read_in_loans(&mut session, &frames, usize::MAX);
    for _ in 0..8 {
        read_in_loans(&mut session, &server_frame(true, 0x2, b"hi"), usize::MAX);
    }
    assert_eq!(
        session.lend_input().room().len(),
        ws_frame::INITIAL_READ_BUFFER,
        "back to the initial size"
    );
}

#[test]
fn bytes_fed_while_the_buffer_is_lent_follow_the_loans_bytes() {
    let first = server_frame(true, 0x2, b"first");
    let second = server_frame(true, 0x2, b"second");
    let mut session = client(Config::default());
    // Half of the first frame is already in the buffer when it is lent.
    session.receive_data(&first[..3]);
    assert_eq!(session.next_event(), Ok(None));
    let mut loan = session.lend_input();
    session.receive_data(&second);
    assert_eq!(
        session.next_event(),
        Ok(None),
        "the first frame is not complete yet"
    );
    let rest = &first[3..];
    loan.room()[..rest.len()].copy_from_slice(rest);
    session.restore_input(loan, rest.len());
    assert!(matches!(session.next_event(), Ok(Some(Event::Binary(b))) if b == b"first"));
    assert!(matches!(session.next_event(), Ok(Some(Event::Binary(b))) if b == b"second"));
    assert_eq!(session.next_event(), Ok(None));
    // A failed read gives the buffer back with 0 bytes: the partial frame is still there.
    session.receive_data(&first[..3]);
    let loan = session.lend_input();
    session.restore_input(loan, 0);
    session.receive_data(&first[3..]);
    assert!(matches!(session.next_event(), Ok(Some(Event::Binary(b))) if b == b"first"));
}

#[test]
fn a_binary_frame_waiting_whole_in_the_buffer_still_ends_in_unexpected_eof() {
    // A 1000-byte binary frame fits the buffer, so the session waits for all of it (the
    // fast path then takes it without a copy); the connection ends 10 bytes short.
    let frame = server_frame(true, 0x2, &[5; 1000]);
    let mut session = client(Config::default());
    let room = session.input_buffer();
    room[..990].copy_from_slice(&frame[..990]);
    session.commit_input(990);
    assert_eq!(session.next_event(), Ok(None));
    assert!(
        session.input_buffer().len() >= 10,
        "room for the rest of the frame"
    );
    session.receive_eof();
    assert_eq!(session.next_event(), Err(Error::UnexpectedEof));
    // The same frame completed instead is one message.
    let mut session = client(Config::default());
    assert_eq!(read_in(&mut session, &frame[..990]), 0);
    assert_eq!(read_in(&mut session, &frame[990..]), 1);
}

#[test]
fn a_text_frame_waiting_whole_still_fails_at_its_first_invalid_byte() {
    // 1000 bytes of text with an invalid byte at 700; the frame fits the buffer, so it waits
    // whole, but the bad byte must fail the connection as soon as it arrives.
    let mut text = "é".repeat(500).into_bytes();
    text[700] = 0xFF;
    let frame = server_frame(true, 0x1, &text);
    let mut session = client(Config::default());
    assert_eq!(read_in(&mut session, &frame[..500]), 0);
    let room = session.input_buffer();
    room[..300].copy_from_slice(&frame[500..800]);
    session.commit_input(300);
    assert_eq!(
        session.next_event(),
        Err(Error::InvalidUtf8 { offset: 700 }),
        "before the rest of the frame arrived"
    );
    let sent = decode_pieces(
        Decoder::new(Role::Server, Limits::default()),
        &[session.pending_output()],
    )
    .unwrap();
    assert_eq!(&sent[0].1[..2], &1007u16.to_be_bytes());

    // Valid text cut inside a code point by every read still arrives whole, checked once.
    let text = "é€😀".repeat(100);
    let frame = server_frame(true, 0x1, text.as_bytes());
    for cut in 3..12 {
        let mut session = client(Config::default());
        assert_eq!(read_in(&mut session, &frame[..cut]), 0);
        let mut events = Vec::new();
        let mut fed = cut;
        while fed < frame.len() {
            let n = 7.min(frame.len() - fed);
            let room = session.input_buffer();
            room[..n].copy_from_slice(&frame[fed..fed + n]);
            session.commit_input(n);
            fed += n;
            while let Some(event) = session.next_event().unwrap() {
                events.push(format!("{event:?}"));
            }
        }
        assert_eq!(events, [format!("{:?}", Event::Text(&text))], "cut {cut}");
        // And a text frame cut short at the end of the stream is still UnexpectedEof.
        let mut session = client(Config::default());
        assert_eq!(read_in(&mut session, &frame[..frame.len() - 1]), 0);
        session.receive_eof();
        assert!(session.next_event().is_err());
    }
}
