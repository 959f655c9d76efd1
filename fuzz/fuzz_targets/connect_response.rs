//! Any bytes as a proxy's reply to CONNECT: no panic; a tunnel never opens on more bytes
//! than were given; and the parser agrees with itself on prefixes (what the proxy exchange's
//! peek-then-consume arithmetic relies on): a prefix shorter than the reply's end is "need
//! more" (or the same error), and any longer prefix gives the same end.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ws_handshake::{HttpLimits, parse_connect_response};

fuzz_target!(|data: &[u8]| {
    let limits = HttpLimits::default().max_header_bytes(4096).max_headers(16);
    let whole = parse_connect_response(data, &limits);
    if let Ok(Some(used)) = whole {
        assert!(used <= data.len());
    }
    // Every prefix of short inputs; a spread of them for long ones.
    let step = (data.len() / 64).max(1);
    for k in (0..data.len())
        .step_by(step)
        .chain([data.len().saturating_sub(1)])
    {
        let part = parse_connect_response(&data[..k], &limits);
        match (&whole, &part) {
            (_, Ok(None)) => {}
            (Ok(Some(end)), Ok(Some(at))) => {
                assert_eq!(end, at, "prefix of {k} bytes ends the reply elsewhere")
            }
            (Err(e), Err(p)) => assert_eq!(e, p, "prefix of {k} bytes fails differently"),
            (whole, part) => panic!("prefix of {k} bytes: {part:?}, whole input: {whole:?}"),
        }
    }
});
