//! Any bytes as a proxy's reply to CONNECT: no panic, and a tunnel never opens on more bytes
//! than were given.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ws_handshake::{HttpLimits, parse_connect_response};

fuzz_target!(|data: &[u8]| {
    let limits = HttpLimits::default().max_header_bytes(4096).max_headers(16);
    if let Ok(Some(used)) = parse_connect_response(data, &limits) {
        assert!(used <= data.len());
    }
});
