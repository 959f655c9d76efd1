//! Property tests: encode/decode round trips at random split points, masking against the
//! byte-at-a-time reference, incremental UTF-8 against `core::str::from_utf8`, and whole
//! message streams between two sessions.

#![allow(clippy::unwrap_used)] // tests and benchmarks fail loudly by design

mod trace;

use proptest::prelude::*;
use trace::Feed;
use ws_frame::{
    Config, Decoder, Event, FrameHeader, Limits, OpCode, Role, Session, Utf8Validator, apply_mask,
    apply_mask_bytes, encode_frame,
};

#[test]
fn mask_equals_reference_for_every_length_and_offset() {
    let key = [0xDE, 0xAD, 0xBE, 0xEF];
    let data: Vec<u8> = (0..=300u16).map(|i| (i * 7 + 3) as u8).collect();
    for len in 0..=256 {
        for offset in 0..=3 {
            // Also vary the alignment of the slice in memory.
            for align in 0..8 {
                let mut ours = data[align..align + len].to_vec();
                let mut reference = ours.clone();
                apply_mask(&mut ours, key, offset);
                apply_mask_bytes(&mut reference, key, offset);
                assert_eq!(ours, reference, "len {len} offset {offset} align {align}");
            }
        }
    }
}

fn opcode() -> impl Strategy<Value = OpCode> {
    prop_oneof![
        Just(OpCode::Continuation),
        Just(OpCode::Text),
        Just(OpCode::Binary),
        Just(OpCode::Close),
        Just(OpCode::Ping),
        Just(OpCode::Pong),
        (3u8..8).prop_map(OpCode::Reserved),
        (11u8..16).prop_map(OpCode::Reserved),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn header_round_trips(
        fin: bool, rsv1: bool, rsv2: bool, rsv3: bool,
        opcode in opcode(),
        mask: Option<[u8; 4]>,
        len in prop_oneof![0u64..200, 65500u64..65600, 0u64..(1 << 63)],
    ) {
        let header = FrameHeader { fin, rsv1, rsv2, rsv3, opcode, mask, payload_len: len };
        let mut out = [0; ws_frame::MAX_HEADER_LEN];
        let n = header.encode(&mut out).unwrap();
        prop_assert_eq!(FrameHeader::decode(&out[..n]), Ok(ws_frame::Status::Complete((header, n))));
        prop_assert_eq!(FrameHeader::decode(&out[..n - 1]), Ok(ws_frame::Status::Partial));
    }

    #[test]
    fn frames_round_trip_through_the_decoder_at_random_splits(
        payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 1..6),
        key: [u8; 4],
        splits in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
    ) {
        let mut wire = Vec::new();
        for payload in &payloads {
            encode_frame(&mut wire, FrameHeader::new(true, OpCode::Binary, Some(key), 0), payload).unwrap();
        }
        let mut cuts: Vec<usize> = splits.iter().map(|i| i.index(wire.len() + 1)).collect();
        cuts.sort_unstable();
        let mut decoder = Decoder::new(Role::Server, Limits::default());
        let (mut buf, mut got, mut current, mut last) = (Vec::new(), Vec::new(), Vec::new(), 0);
        for cut in cuts.into_iter().chain([wire.len()]) {
            buf.extend_from_slice(&wire[last..cut]);
            last = cut;
            while let Some(chunk) = decoder.decode(&mut buf).unwrap() {
                prop_assert_eq!(chunk.header.mask, Some(key));
                current.extend_from_slice(chunk.data(&buf));
                if chunk.is_last {
                    got.push(std::mem::take(&mut current));
                }
                buf.drain(..chunk.consumed);
            }
        }
        prop_assert_eq!(got, payloads);
    }

    #[test]
    fn masking_twice_is_identity(data: Vec<u8>, key: [u8; 4], offset in 0usize..4) {
        let mut masked = data.clone();
        apply_mask(&mut masked, key, offset);
        apply_mask(&mut masked, key, offset);
        prop_assert_eq!(masked, data);
    }

    #[test]
    fn chunked_masking_equals_whole_masking(
        data in proptest::collection::vec(any::<u8>(), 0..2000),
        key: [u8; 4],
        splits in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        let mut whole = data.clone();
        apply_mask(&mut whole, key, 0);
        let mut cuts: Vec<usize> = splits.iter().map(|i| i.index(data.len() + 1)).collect();
        cuts.sort_unstable();
        let mut chunked = data;
        let mut start = 0;
        for end in cuts.into_iter().chain([chunked.len()]) {
            apply_mask(&mut chunked[start..end], key, start);
            start = end;
        }
        prop_assert_eq!(chunked, whole);
    }

    #[test]
    fn incremental_utf8_agrees_with_std_at_any_split(
        bytes in prop_oneof![
            any::<String>().prop_map(String::into_bytes),
            proptest::collection::vec(any::<u8>(), 0..64),
            // Valid text with one byte replaced: the interesting near misses.
            (any::<String>(), any::<prop::sample::Index>(), any::<u8>()).prop_map(|(s, i, b)| {
                let mut v = s.into_bytes();
                if !v.is_empty() { let i = i.index(v.len()); v[i] = b; }
                v
            }),
        ],
        splits in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
    ) {
        let mut cuts: Vec<usize> = splits.iter().map(|i| i.index(bytes.len() + 1)).collect();
        cuts.sort_unstable();
        let mut validator = Utf8Validator::new();
        let mut start = 0;
        let mut result = Ok(());
        for end in cuts.into_iter().chain([bytes.len()]) {
            result = validator.feed(&bytes[start..end]);
            if result.is_err() { break; }
            start = end;
        }
        let result = result.and_then(|()| validator.finish());
        match core::str::from_utf8(&bytes) {
            Ok(_) => prop_assert_eq!(result, Ok(())),
            Err(e) => {
                let offset = e.valid_up_to() as u64;
                let expected = if e.error_len().is_some() {
                    ws_frame::Error::InvalidUtf8 { offset }
                } else {
                    ws_frame::Error::TruncatedUtf8 { offset }
                };
                prop_assert_eq!(result, Err(expected));
            }
        }
    }

    #[test]
    fn messages_cross_two_sessions_intact(
        messages in proptest::collection::vec(
            prop_oneof![
                any::<String>().prop_map(|s| (true, s.into_bytes())),
                proptest::collection::vec(any::<u8>(), 0..3000).prop_map(|b| (false, b)),
            ],
            1..8,
        ),
        chunk in 1usize..500,
        seed: u32,
        read: bool,
    ) {
        let mut state = seed;
        let mut client = Session::client(Config::default().read_buffer_size(256), move || {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            state.to_le_bytes()
        });
        let mut server = Session::server(Config::default().read_buffer_size(256));
        for (is_text, payload) in &messages {
            if *is_text {
                client.send_text(std::str::from_utf8(payload).unwrap()).unwrap();
            } else {
                client.send_binary(payload).unwrap();
            }
        }
        let wire = client.pending_output().to_vec();
        let mut got = Vec::new();
        for mut piece in wire.chunks(chunk) {
            if read {
                // Into the buffer the session offers: frames larger than it are read
                // straight into the message buffer, and unmasked there.
                let room = server.input_buffer();
                let n = room.len().min(piece.len());
                room[..n].copy_from_slice(&piece[..n]);
                server.commit_input(n);
                piece = &piece[n..];
            }
            server.receive_data(piece);
            while let Some(event) = server.next_event().unwrap() {
                got.push(match event {
                    Event::Text(text) => (true, text.as_bytes().to_vec()),
                    Event::Binary(data) => (false, data.to_vec()),
                    other => panic!("unexpected {other:?}"),
                });
            }
        }
        prop_assert_eq!(got, messages);
    }
}

/// A frame as a peer might send it: any opcode, FIN, RSV bits, mask, payload (often text,
/// sometimes invalid UTF-8), non-minimal 16- and 64-bit lengths, and 64-bit lengths with the
/// top bit set (an error).
fn wire_frame() -> impl Strategy<Value = Vec<u8>> {
    (
        opcode(),
        any::<bool>(),
        prop_oneof![8 => Just(0u8), 1 => 1u8..8],
        prop_oneof![6 => Just(None), 1 => any::<[u8; 4]>().prop_map(Some)],
        prop_oneof![
            4 => "[a-zé€😀]{0,40}".prop_map(String::into_bytes),
            2 => proptest::collection::vec(any::<u8>(), 0..300),
            1 => Just(vec![0xE2, 0x82]),
        ],
        prop_oneof![6 => Just(Length::Minimal), 1 => Just(Length::Wide16), 1 => Just(Length::Wide64), 1 => Just(Length::TopBitSet)],
    )
        .prop_map(|(opcode, fin, rsv, mask, payload, length)| {
            let header = FrameHeader {
                rsv1: rsv & 4 != 0,
                rsv2: rsv & 2 != 0,
                rsv3: rsv & 1 != 0,
                ..FrameHeader::new(fin, opcode, mask, payload.len() as u64)
            };
            let mut out = Vec::new();
            encode_frame(&mut out, header, &payload).unwrap();
            if mask.is_some() || payload.len() >= 126 {
                return out;
            }
            // The same frame with another length encoding: non-minimal ones are accepted, as
            // most peers do; a 64-bit length with its top bit set is an error (§5.2).
            let len = payload.len() as u64;
            let mut other = vec![out[0]];
            match length {
                Length::Minimal => return out,
                Length::Wide16 => other.extend_from_slice(&[126, 0, len as u8]),
                Length::Wide64 => {
                    other.push(127);
                    other.extend_from_slice(&len.to_be_bytes());
                }
                Length::TopBitSet => {
                    other.push(127);
                    other.extend_from_slice(&(len | 1 << 63).to_be_bytes());
                }
            }
            other.extend_from_slice(&payload);
            other
        })
}

/// How [`wire_frame`] encodes a short unmasked frame's length.
#[derive(Clone, Copy, Debug)]
enum Length {
    Minimal,
    Wide16,
    Wide64,
    TopBitSet,
}

/// Everything a client session reports for `wire`, fed as `feed` says (see [`trace::trace`]),
/// with the receive fast path on or off. Reads go into a buffer of at most 256 bytes: frames
/// that fit wait in it whole, larger ones stream through.
fn session_trace(
    wire: &[u8],
    feed: Feed,
    limits: Limits,
    skip_utf8: bool,
    fast_path: bool,
) -> Vec<String> {
    let mut config = Config::default()
        .limits(limits)
        .skip_utf8_validation(skip_utf8)
        .receive_fast_path(fast_path);
    if let Feed::Read(_) = feed {
        config = config.read_buffer_size(256);
    }
    trace::trace(config, wire, feed)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// The receive fast path (frames taken whole from the buffer, or waiting there whole)
    /// and the general path (the frame decoder and the message assembler, with the fast
    /// path turned off) agree on every event, every owned copy, every error and every byte
    /// queued in answer, whether the bytes come all at once, one at a time, or in reads into
    /// a small buffer, where frames that do not fit stream through.
    #[test]
    fn the_fast_path_agrees_with_the_byte_at_a_time_path(
        frames in proptest::collection::vec(wire_frame(), 1..12),
        max_frame in prop_oneof![Just(u64::MAX), 0u64..64],
        max_message in prop_oneof![Just(u64::MAX), 0u64..128],
        max_fragments in prop_oneof![Just(u64::MAX), 0u64..3],
        skip_utf8: bool,
        cut in prop_oneof![3 => Just(0usize), 1 => 1usize..40],
    ) {
        let mut wire = frames.concat();
        wire.truncate(wire.len().saturating_sub(cut));
        let limits = Limits::default()
            .max_frame_size(max_frame)
            .max_message_size(max_message)
            .max_fragments(max_fragments);
        let general = session_trace(&wire, Feed::Copied(1), limits, skip_utf8, false);
        for feed in [Feed::Copied(0), Feed::Copied(1), Feed::Read(1), Feed::Read(7), Feed::Read(100)] {
            let fast = session_trace(&wire, feed, limits, skip_utf8, true);
            prop_assert_eq!(&general, &fast, "{:?}", feed);
        }
    }
}
