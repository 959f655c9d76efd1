//! The receive fast path against the general path. Any byte stream goes into two client
//! sessions: one with the fast path turned off (`Config::receive_fast_path(false)`: every
//! frame through the decoder and the assembler), fed a byte at a time; one with it on, fed in
//! fuzzer-chosen pieces, copied in or read into its buffer. Both must report the same events,
//! the same owned messages, the same error and the same output.
#![no_main]

#[path = "../../crates/ws-frame/tests/trace/mod.rs"]
mod trace;

use libfuzzer_sys::fuzz_target;
use trace::{Feed, trace};
use ws_frame::{Config, Limits};

fuzz_target!(|data: &[u8]| {
    let Some((&control, input)) = data.split_first() else {
        return;
    };
    let limits = Limits::default()
        .max_frame_size(if control & 1 == 0 { 1 << 12 } else { 40 })
        .max_message_size(if control & 2 == 0 { 1 << 14 } else { 100 });
    let config = Config::default()
        .limits(limits)
        .skip_utf8_validation(control & 4 != 0)
        .read_buffer_size(256);
    let general = trace(config.receive_fast_path(false), input, Feed::Copied(1));
    let step = usize::from(control >> 4) * 7 + 1;
    let feed = if control & 8 == 0 {
        Feed::Copied(step)
    } else {
        Feed::Read(step)
    };
    let fast = trace(config, input, feed);
    assert_eq!(general, fast, "the fast path differs from the general path");
});
