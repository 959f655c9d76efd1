//! Any bytes into `FrameHeader::decode`: no panic; a decoded header re-encodes minimally and
//! decodes to itself; a prefix of a complete header is `Partial`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ws_frame::{FrameHeader, MAX_HEADER_LEN, Status};

fuzz_target!(|data: &[u8]| {
    let Ok(Status::Complete((header, consumed))) = FrameHeader::decode(data) else {
        return;
    };
    assert!((2..=MAX_HEADER_LEN).contains(&consumed) && consumed <= data.len());
    for prefix in 0..consumed {
        assert_eq!(FrameHeader::decode(&data[..prefix]), Ok(Status::Partial));
    }
    let mut out = [0u8; MAX_HEADER_LEN];
    let n = header.encode(&mut out).expect("a decoded header encodes");
    assert!(n <= consumed, "encoding is minimal");
    assert_eq!(
        FrameHeader::decode(&out[..n]),
        Ok(Status::Complete((header, n)))
    );
});
