//! Any bytes into a `Decoder` of either role, split at fuzzer-chosen points: no panic, chunks
//! stay inside the buffer and add up to each frame's length, and the outcome (frames and
//! error) is the same as when the bytes arrive whole.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ws_frame::{Decoder, Error, Limits, Role};

/// Frames (opcode bits, payload) and the error that stopped decoding, if any.
fn run(
    role: Role,
    accept_masked: bool,
    input: &[u8],
    splits: &[usize],
) -> (Vec<(u8, Vec<u8>)>, Option<Error>) {
    let limits = Limits::default().max_frame_size(1 << 16);
    let mut decoder = Decoder::new(role, limits).accept_masked_frames(accept_masked);
    let (mut buf, mut frames, mut current) = (Vec::new(), Vec::new(), Vec::new());
    let mut last = 0;
    for cut in splits.iter().copied().chain([input.len()]) {
        buf.extend_from_slice(&input[last..cut]);
        last = cut;
        loop {
            let chunk = match decoder.decode(&mut buf) {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break,
                Err(e) => return (frames, Some(e)),
            };
            assert!(chunk.payload.end <= buf.len() && chunk.consumed == chunk.payload.end);
            assert_eq!(chunk.offset, current.len() as u64);
            current.extend_from_slice(chunk.data(&buf));
            if chunk.is_last {
                assert_eq!(current.len() as u64, chunk.header.payload_len);
                frames.push((chunk.header.opcode.bits(), std::mem::take(&mut current)));
            }
            buf.drain(..chunk.consumed);
        }
    }
    (frames, None)
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, input)) = data.split_first() else {
        return;
    };
    let role = if control & 1 == 0 {
        Role::Client
    } else {
        Role::Server
    };
    let accept_masked = control & 2 != 0;
    // Split points derived from the control byte, spread over the input.
    let step = usize::from(control >> 2) + 1;
    let splits: Vec<usize> = (step..input.len()).step_by(step).collect();
    let whole = run(role, accept_masked, input, &[]);
    let split = run(role, accept_masked, input, &splits);
    assert_eq!(whole, split);
});
