//! Any bytes as the server's handshake response: no panic; a complete result consumes no more
//! than was given, and every prefix is either "need more" or the same error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ws_handshake::{ClientRequest, HttpLimits, parse_response};

fuzz_target!(|data: &[u8]| {
    let request = ClientRequest::new("example.com", 80, false, "/a/b", *b"the sample nonce")
        .subprotocols(["chat"])
        .extensions(["permessage-deflate"]);
    let limits = HttpLimits::default().max_header_bytes(4096).max_headers(16).max_body_bytes(256);
    let whole = parse_response(data, &request, &limits);
    if let Ok(Some((_, used))) = &whole {
        assert!(*used <= data.len());
    }
    let half = parse_response(&data[..data.len() / 2], &request, &limits);
    match (&half, &whole) {
        (Ok(None), _) => {}
        (Ok(Some(a)), Ok(Some(b))) => assert_eq!(a, b),
        (Err(a), Err(b)) => assert_eq!(a, b),
        // A prefix may hit the header limit only if the whole does too, or fail earlier on
        // garbage that the whole also contains.
        (Err(_), _) => {}
        (Ok(Some(_)), _) => panic!("a prefix completed but the whole did not: {half:?} vs {whole:?}"),
    }
});
