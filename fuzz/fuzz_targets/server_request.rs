//! Any bytes as a client's upgrade request at a server: no panic; an accepted request yields a
//! 101 response that the client's own `parse_response` accepts for the same key and
//! subprotocol offer; a refused one yields a 4xx response.
#![no_main]

use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use ws_handshake::{
    ClientRequest, HttpLimits, Outcome, parse_request, parse_response, reject_response,
};

fuzz_target!(|data: &[u8]| {
    let limits = HttpLimits::default().max_header_bytes(4096).max_headers(16);
    match parse_request(data, &limits) {
        Ok(Some((request, used))) => {
            assert!(used <= data.len());
            let nonce: [u8; 16] = base64::engine::general_purpose::STANDARD
                .decode(&request.key)
                .expect("an accepted key is base64")
                .try_into()
                .expect("of 16 bytes");
            // Offered values came from the peer: CR/LF cannot be in them (httparse refuses),
            // so accepting one must succeed too.
            let protocol = request.subprotocols.first().cloned();
            let reply = request
                .accept(protocol.as_deref(), None)
                .expect("an offered subprotocol is accepted");
            assert!(reply.starts_with(b"HTTP/1.1 101 "));
            let client = ClientRequest::new("example.com", 80, false, "/", nonce)
                .subprotocols(request.subprotocols.iter().cloned());
            let (outcome, n) = parse_response(&reply, &client, &HttpLimits::default())
                .expect("the client validates the server's 101")
                .expect("and it is complete");
            assert_eq!(n, reply.len());
            match outcome {
                Outcome::Accepted(accepted) => {
                    assert_eq!(
                        accepted.subprotocol.as_deref(),
                        protocol.as_deref().map(str::trim)
                    )
                }
                other => panic!("a 101 read as {other:?}"),
            }
        }
        Ok(None) => {}
        Err(error) => assert!(reject_response(&error).starts_with(b"HTTP/1.1 4")),
    }
});
