//! Any bytes as a client's upgrade request at a server: no panic; an accepted request yields a
//! 101 response that a client with the same key validates; a refused one yields a response.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ws_handshake::{HttpLimits, parse_request, reject_response};

fuzz_target!(|data: &[u8]| {
    let limits = HttpLimits::default().max_header_bytes(4096).max_headers(16);
    match parse_request(data, &limits) {
        Ok(Some((request, used))) => {
            assert!(used <= data.len());
            let reply = request.accept(None, None).expect("no subprotocol always works");
            assert!(reply.starts_with(b"HTTP/1.1 101 "));
            let protocol = request.subprotocols.first().cloned();
            // Offered values came from the peer: CR/LF cannot be in them (httparse refuses),
            // so accepting one must succeed too.
            if let Some(protocol) = protocol {
                request.accept(Some(&protocol), None).expect("an offered subprotocol is accepted");
            }
        }
        Ok(None) => {}
        Err(error) => assert!(reject_response(&error).starts_with(b"HTTP/1.1 4")),
    }
});
