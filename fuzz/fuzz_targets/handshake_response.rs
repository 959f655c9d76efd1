//! Any bytes as the server's handshake response: no panic; a complete result consumes no more
//! than was given, and the first half of the input gives "need more" or the same result.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ws_handshake::{ClientRequest, HttpLimits, parse_response};

fuzz_target!(|data: &[u8]| {
    let request = ClientRequest::new("example.com", 80, false, "/a/b", *b"the sample nonce")
        .subprotocols(["chat"])
        .extensions(["permessage-deflate"]);
    let limits = HttpLimits::default()
        .max_header_bytes(4096)
        .max_headers(16)
        .max_body_bytes(256);
    let whole = parse_response(data, &request, &limits);
    if let Ok(Some((_, used))) = &whole {
        assert!(*used <= data.len());
    }
    let half = parse_response(&data[..data.len() / 2], &request, &limits);
    match (&half, &whole) {
        (Ok(None), _) => {}
        (Ok(Some(a)), Ok(Some(b))) => assert_eq!(a, b),
        (Err(a), Err(b)) => assert_eq!(a, b),
        _ => panic!("a prefix disagrees with the whole: {half:?} vs {whole:?}"),
    }
});
