//! The receive fast path against the general path. Any byte stream goes into two client
//! sessions: one with the fast path turned off (`Config::receive_fast_path(false)`: every
//! frame through the decoder and the assembler), fed a byte at a time; one with it on, fed in
//! fuzzer-chosen pieces, copied in or read into its buffer. Both must report the same events,
//! the same owned messages, the same error and the same output.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ws_frame::{Config, Event, Limits, Session};

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
    let general = trace(config.receive_fast_path(false), input, 1, false);
    let step = usize::from(control >> 4) * 7 + 1;
    let fast = trace(config, input, step, control & 8 != 0);
    assert_eq!(general, fast, "the fast path differs from the general path");
});

/// Everything `config`'s client session reports for `input`, fed in pieces of `step` bytes
/// (read into its buffer as far as the room offered goes when `read`), as comparable text,
/// up to the first error.
fn trace(config: Config, input: &[u8], step: usize, read: bool) -> Vec<String> {
    let mut session = Session::client(config, || [1, 2, 3, 4]);
    let mut trace = Vec::new();
    for mut piece in input.chunks(step) {
        if read {
            let room = session.input_buffer();
            let n = room.len().min(piece.len());
            room[..n].copy_from_slice(&piece[..n]);
            session.commit_input(n);
            piece = &piece[n..];
        }
        if !piece.is_empty() {
            session.receive_data(piece);
        }
        if drain(&mut session, &mut trace) {
            return trace;
        }
    }
    session.receive_eof();
    if !drain(&mut session, &mut trace) {
        trace.push(format!("output {:?}", session.pending_output()));
    }
    trace
}

/// Records every event `session` has ready, with the owned copy of each message; `true`
/// after an error (recorded with the output it queued).
fn drain(session: &mut Session<impl FnMut() -> [u8; 4]>, trace: &mut Vec<String>) -> bool {
    loop {
        match session.next_event() {
            Ok(Some(event)) => {
                let text = format!("{event:?}");
                let owned = match event {
                    Event::Text(_) => format!("{:?}", session.take_text()),
                    Event::Binary(_) => format!("{:?}", session.take_message()),
                    _ => String::new(),
                };
                trace.push(text);
                trace.push(owned);
            }
            Ok(None) => return false,
            Err(error) => {
                trace.push(format!("error {error:?}"));
                trace.push(format!("output {:?}", session.pending_output()));
                return true;
            }
        }
    }
}
