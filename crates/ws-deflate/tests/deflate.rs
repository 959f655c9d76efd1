//! permessage-deflate: every valid and invalid answer of RFC 7692 §7.1 for both roles, round
//! trips between a client and a server session at every window size with and without context
//! takeover, fragmented and interleaved messages, invalid UTF-8 inside a compressed message,
//! and a decompression bomb with its peak memory measured.
#![allow(clippy::unwrap_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Write;

use proptest::prelude::*;
use ws_deflate::{DeflateConfig, NegotiationError, PerMessageDeflate};
use ws_frame::{
    CloseCode, Config, Error, Event, FrameHeader, Limits, OpCode, Session, encode_frame,
};
use ws_handshake::Extension;

/// Counts the bytes this thread allocated and has not yet freed, and the peak, for the bomb
/// test. Per thread, so the tests running beside it on other threads do not count.
struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

/// Adds `delta` bytes to this thread's live count and raises its peak.
fn count(delta: isize) {
    // `try_with`: nothing to count in a thread being torn down.
    let _ = LIVE.try_with(|live| {
        live.set(live.get() + delta);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(live.get())));
    });
}

/// This thread's live bytes.
fn live() -> isize {
    LIVE.with(Cell::get)
}

fn size(n: usize) -> isize {
    isize::try_from(n).unwrap_or(isize::MAX)
}

// SAFETY: every call forwards to the system allocator with the same layout; the counters
// only observe sizes.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(size(layout.size()));
        // SAFETY: the caller's layout, passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-size(layout.size()));
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    /// Forwarded, so a buffer the system grows in place counts once, as it is.
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(size(new_size) - size(layout.size()));
        // SAFETY: the caller's pointer, layout and size, passed on unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn answer(
    config: &DeflateConfig,
    answer: &str,
) -> Result<Option<PerMessageDeflate>, NegotiationError> {
    config.accept_response(&Extension::parse_list(answer))
}

#[test]
fn the_client_accepts_every_valid_answer() {
    let config = DeflateConfig::default();
    for (text, server_bits, client_bits, server_nct, client_nct) in [
        ("permessage-deflate", 15, 15, false, false),
        (
            "permessage-deflate; server_no_context_takeover",
            15,
            15,
            true,
            false,
        ),
        (
            "permessage-deflate; client_no_context_takeover",
            15,
            15,
            false,
            true,
        ),
        (
            "permessage-deflate; server_max_window_bits=10",
            10,
            15,
            false,
            false,
        ),
        (
            "permessage-deflate; server_max_window_bits=8",
            8,
            15,
            false,
            false,
        ),
        (
            "permessage-deflate; client_max_window_bits=9",
            15,
            9,
            false,
            false,
        ),
        (
            "permessage-deflate; client_max_window_bits=8",
            15,
            8,
            false,
            false,
        ),
        (
            "PerMessage-Deflate; Server_No_Context_Takeover; client_max_window_bits=12; server_max_window_bits=\"11\"",
            11,
            12,
            true,
            false,
        ),
    ] {
        let negotiated = answer(&config, text).unwrap().unwrap().negotiated();
        assert_eq!(negotiated.server_max_window_bits, server_bits, "{text}");
        assert_eq!(negotiated.client_max_window_bits, client_bits, "{text}");
        assert_eq!(negotiated.server_no_context_takeover, server_nct, "{text}");
        assert_eq!(negotiated.client_no_context_takeover, client_nct, "{text}");
    }
    // No permessage-deflate in the answer: declined, not an error.
    assert!(answer(&config, "other-extension").unwrap().is_none());
}

#[test]
fn the_client_refuses_every_invalid_answer_by_name() {
    let limited = DeflateConfig::default()
        .server_max_window_bits(Some(10))
        .client_max_window_bits(Some(12));
    for (config, text, expected) in [
        (
            DeflateConfig::default(),
            "permessage-deflate; foo",
            "unknown parameter \"foo\"",
        ),
        (
            DeflateConfig::default(),
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "parameter \"server_no_context_takeover\" given twice",
        ),
        (
            DeflateConfig::default(),
            "permessage-deflate; server_no_context_takeover=1",
            "invalid value \"1\" for server_no_context_takeover",
        ),
        (
            DeflateConfig::default(),
            "permessage-deflate; server_max_window_bits",
            "server_max_window_bits needs a value from 8 to 15",
        ),
        (
            DeflateConfig::default(),
            "permessage-deflate; server_max_window_bits=7",
            "invalid value \"7\" for server_max_window_bits",
        ),
        (
            DeflateConfig::default(),
            "permessage-deflate; server_max_window_bits=16",
            "invalid value \"16\" for server_max_window_bits",
        ),
        (
            DeflateConfig::default(),
            "permessage-deflate; server_max_window_bits=010",
            "invalid value \"010\" for server_max_window_bits",
        ),
        (
            DeflateConfig::default(),
            "permessage-deflate; client_max_window_bits",
            "client_max_window_bits needs a value from 8 to 15",
        ),
        (
            limited,
            "permessage-deflate; server_max_window_bits=11",
            "server_max_window_bits=11 is above the offered 10",
        ),
        (
            limited,
            "permessage-deflate; client_max_window_bits=13",
            "client_max_window_bits=13 is above the offered 12",
        ),
        (
            DeflateConfig::default(),
            "permessage-deflate, permessage-deflate",
            "accepted more than once",
        ),
    ] {
        let error = answer(&config, text).unwrap_err();
        assert!(error.to_string().contains(expected), "{text}: {error}");
    }
}

#[test]
fn the_server_picks_the_first_acceptable_offer() {
    let server = DeflateConfig::default();
    let pick = |offers: &str| {
        server
            .accept_offers(&Extension::parse_list(offers))
            .map(|(answer, ext)| (answer, ext.negotiated()))
    };
    let (answer, n) = pick("permessage-deflate").unwrap();
    assert_eq!(answer, "permessage-deflate");
    assert_eq!(
        (n.server_max_window_bits, n.client_max_window_bits),
        (15, 15)
    );
    // A bad first offer is skipped; the next one is taken.
    let (answer, n) = pick(
        "permessage-deflate; bogus, permessage-deflate; server_max_window_bits=10; server_no_context_takeover",
    )
    .unwrap();
    assert_eq!(
        answer,
        "permessage-deflate; server_no_context_takeover; server_max_window_bits=10"
    );
    assert!(n.server_no_context_takeover);
    // The client's own limit is kept; a server limit is asked only when offered.
    let (answer, n) = pick("permessage-deflate; client_max_window_bits=9").unwrap();
    assert_eq!(answer, "permessage-deflate");
    assert_eq!(n.client_max_window_bits, 9);
    let limiting = DeflateConfig::default().client_max_window_bits(Some(10));
    let (answer, _) = limiting
        .accept_offers(&Extension::parse_list(
            "permessage-deflate; client_max_window_bits",
        ))
        .unwrap();
    assert_eq!(answer, "permessage-deflate; client_max_window_bits=10");
    let (answer, _) = limiting
        .accept_offers(&Extension::parse_list("permessage-deflate"))
        .unwrap();
    assert_eq!(answer, "permessage-deflate");
    // Nothing acceptable: declined.
    assert!(pick("permessage-deflate; server_max_window_bits").is_none());
    assert!(pick("x-webkit-deflate-frame").is_none());
    // What the client offers by default, the server accepts, and the client accepts the
    // answer.
    let client = DeflateConfig::default();
    let (answer, _) = pick(&client.offer()).unwrap();
    assert!(
        client
            .accept_response(&Extension::parse_list(&answer))
            .unwrap()
            .is_some()
    );
}

/// A client and a server session with deflate negotiated from `client` and `server`.
fn pair(
    client: DeflateConfig,
    server: DeflateConfig,
    limits: Limits,
) -> (Session<impl FnMut() -> [u8; 4]>, Session) {
    let (answer, server_side) = server
        .accept_offers(&Extension::parse_list(&client.offer()))
        .unwrap();
    let client_side = client
        .accept_response(&Extension::parse_list(&answer))
        .unwrap()
        .unwrap();
    let mut c = Session::client(Config::default().limits(limits), || [9, 8, 7, 6]);
    let mut s = Session::server(Config::default().limits(limits));
    c.set_extension(Box::new(client_side));
    s.set_extension(Box::new(server_side));
    (c, s)
}

fn wire<K: ws_frame::MaskKeySource>(from: &mut Session<K>) -> Vec<u8> {
    let out = from.pending_output().to_vec();
    from.consume_output(out.len());
    out
}

#[test]
fn round_trips_at_every_window_size_with_and_without_context_takeover() {
    let sizes = [0usize, 1, 31, 32, 1000, 70_000, 1 << 20, 8 << 20];
    for bits in 8..=15u8 {
        for no_context in [false, true] {
            let client = DeflateConfig::default()
                .client_max_window_bits(Some(bits))
                .server_max_window_bits(Some(bits))
                .client_no_context_takeover(no_context)
                .server_no_context_takeover(no_context);
            let (mut c, mut s) = pair(client, DeflateConfig::default(), Limits::default());
            for (i, &size) in sizes.iter().enumerate() {
                // Repetitive but not constant, so windows and back-references matter.
                let text: String = (0..size)
                    .map(|j| char::from(b'a' + ((j * 7 + i) % 23) as u8))
                    .collect();
                c.send_text(&text).unwrap();
                let bytes = wire(&mut c);
                if bits >= 9 && size >= 1000 {
                    assert!(bytes.len() < size, "bits {bits}: {size} not compressed");
                }
                s.receive_data(&bytes);
                match s.next_event().unwrap() {
                    Some(Event::Text(got)) => assert!(got == text, "bits {bits} size {size}"),
                    other => panic!("bits {bits} size {size}: {other:?}"),
                }
                // And back, as binary.
                let data = text.into_bytes();
                s.send_binary(&data).unwrap();
                c.receive_data(&wire(&mut s));
                match c.next_event().unwrap() {
                    Some(Event::Binary(got)) => assert!(got == data.as_slice(), "bits {bits} back"),
                    other => panic!("bits {bits} back: {other:?}"),
                }
            }
        }
    }
}

/// A compressed message as the peer would send it in several frames, a ping after each:
/// deflate with a sync flush, tail cut, RSV1 on the first frame only. Returns the bytes and
/// the number of frames.
fn fragmented_compressed(text: &[u8], pieces: usize) -> (Vec<u8>, usize) {
    let mut deflater =
        flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    deflater.write_all(text).unwrap();
    deflater.flush().unwrap();
    let mut body = deflater.get_ref().clone();
    assert!(body.ends_with(&[0, 0, 0xff, 0xff]));
    body.truncate(body.len() - 4);
    let mut out = Vec::new();
    let chunk = body.len().div_ceil(pieces).max(1);
    let parts: Vec<&[u8]> = body.chunks(chunk).collect();
    for (i, part) in parts.iter().enumerate() {
        let opcode = if i == 0 {
            OpCode::Text
        } else {
            OpCode::Continuation
        };
        let header = FrameHeader {
            rsv1: i == 0,
            ..FrameHeader::new(i + 1 == parts.len(), opcode, None, 0)
        };
        encode_frame(&mut out, header, part).unwrap();
        encode_frame(
            &mut out,
            FrameHeader::new(true, OpCode::Ping, None, 0),
            b"in between",
        )
        .unwrap();
    }
    (out, parts.len())
}

#[test]
fn fragmented_compressed_messages_with_control_frames_in_between() {
    let (mut c, _) = pair(
        DeflateConfig::default(),
        DeflateConfig::default(),
        Limits::default(),
    );
    let text = "fragmented and compressed ".repeat(500);
    let (bytes, frames) = fragmented_compressed(text.as_bytes(), 5);
    assert!(frames >= 3, "{frames}");
    c.receive_data(&bytes);
    let mut pings = 0;
    loop {
        match c.next_event().unwrap() {
            Some(Event::Ping(b"in between")) => pings += 1,
            Some(Event::Text(got)) => {
                assert!(got == text);
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    // Control frames between the fragments arrive as they come; the last one follows the
    // message.
    assert_eq!(pings, frames - 1);
}

#[test]
fn rsv1_on_a_continuation_or_control_frame_is_a_protocol_error() {
    for (opcode, first) in [
        (OpCode::Ping, None),
        (OpCode::Continuation, Some(OpCode::Text)),
    ] {
        let (mut c, _) = pair(
            DeflateConfig::default(),
            DeflateConfig::default(),
            Limits::default(),
        );
        let mut bytes = Vec::new();
        if let Some(first) = first {
            encode_frame(&mut bytes, FrameHeader::new(false, first, None, 0), b"a").unwrap();
        }
        let header = FrameHeader {
            rsv1: true,
            ..FrameHeader::new(true, opcode, None, 0)
        };
        encode_frame(&mut bytes, header, b"b").unwrap();
        c.receive_data(&bytes);
        let error = loop {
            match c.next_event() {
                Ok(Some(_)) => {}
                Ok(None) => panic!("accepted"),
                Err(e) => break e,
            }
        };
        assert_eq!(error, Error::ReservedBits(4));
        assert_eq!(error.close_code(), Some(CloseCode::PROTOCOL_ERROR));
    }
}

#[test]
fn invalid_utf8_inside_a_compressed_message_is_1007() {
    let (mut c, _) = pair(
        DeflateConfig::default(),
        DeflateConfig::default(),
        Limits::default(),
    );
    let mut bad = b"valid text, then ".repeat(100);
    bad.extend_from_slice(&[0xff, 0xfe]);
    c.receive_data(&fragmented_compressed(&bad, 1).0);
    let error = loop {
        match c.next_event() {
            Ok(Some(Event::Ping(_))) => {}
            Ok(other) => panic!("{other:?}"),
            Err(e) => break e,
        }
    };
    assert!(matches!(error, Error::InvalidUtf8 { .. }), "{error:?}");
    assert_eq!(error.close_code(), Some(CloseCode::INVALID_PAYLOAD));
}

#[test]
fn a_decompression_bomb_stops_at_the_limit_with_bounded_memory() {
    let limit: u64 = 1 << 20;
    let (mut c, _) = pair(
        DeflateConfig::default(),
        DeflateConfig::default(),
        Limits::default().max_message_size(limit),
    );
    // 1 GiB of zeros deflates to about a megabyte; a peer sends 64 KiB of it.
    let mut deflater = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..64 {
        deflater.write_all(&zeros).unwrap();
    }
    let body = deflater.finish().unwrap();
    assert!(body.len() < 128 << 10, "{}", body.len());
    let header = FrameHeader {
        rsv1: true,
        ..FrameHeader::new(true, OpCode::Binary, None, 0)
    };
    let mut frame = Vec::new();
    encode_frame(&mut frame, header, &body).unwrap();
    drop(zeros);
    let before = live();
    PEAK.with(|peak| peak.set(before));
    c.receive_data(&frame);
    let error = c.next_event().unwrap_err();
    let peak = usize::try_from(PEAK.with(Cell::get) - before).unwrap();
    assert!(
        matches!(
            error,
            Error::MessageTooLarge {
                limit: 1_048_576,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(error.close_code(), Some(CloseCode::MESSAGE_TOO_BIG));
    eprintln!(
        "bomb of {} bytes inflating to 64 MiB: peak {} bytes over the limit of {limit}",
        body.len(),
        peak
    );
    // The message buffer never grows past the limit + 1; besides it, the session's input
    // buffer (which grows to hold the 64 KiB frame) and zlib's state.
    assert!(peak < (limit as usize) + (512 << 10), "peak {peak}");
}

proptest! {
    #[test]
    fn compress_then_inflate_is_the_identity(
        messages in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..3000), 1..8),
        split in 1usize..64,
        no_context in any::<bool>(),
    ) {
        let config = DeflateConfig::default()
            .client_no_context_takeover(no_context)
            .threshold(0);
        let (mut c, mut s) = pair(config, DeflateConfig::default(), Limits::default());
        for message in &messages {
            c.send_binary(message).unwrap();
        }
        let bytes = wire(&mut c);
        let mut got = Vec::new();
        for piece in bytes.chunks(split) {
            s.receive_data(piece);
            while let Some(event) = s.next_event().unwrap() {
                match event {
                    Event::Binary(data) => got.push(data.to_vec()),
                    other => panic!("{other:?}"),
                }
            }
        }
        prop_assert_eq!(got, messages);
    }
}
