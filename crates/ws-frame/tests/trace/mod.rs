//! What a client `Session` reports for a byte stream, as comparable text: the record that
//! holds the receive fast path to the general path, shared by the property test
//! (`tests/properties.rs`) and the fuzz target `session_fast_path` (which includes this file).

use ws_frame::{Config, Event, Session};

/// How [`trace`] feeds the session.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Feed {
    /// `receive_data` with pieces of this many bytes (0: all at once).
    Copied(usize),
    /// Pieces of this many bytes (0: all at once), each read into `input_buffer` as far as
    /// the room offered goes and the rest copied in.
    Read(usize),
}

/// Everything a client session with `config` reports for `wire`, fed as `feed` says, as
/// comparable text, up to the first error: each event with the owned copy of each message,
/// then the error or the end of the stream with the output queued.
pub(crate) fn trace(config: Config, wire: &[u8], feed: Feed) -> Vec<String> {
    let (Feed::Copied(piece) | Feed::Read(piece)) = feed;
    let mut session = Session::client(config, || [1, 2, 3, 4]);
    let mut trace = Vec::new();
    let pieces: Vec<&[u8]> = if piece == 0 {
        vec![wire]
    } else {
        wire.chunks(piece).collect()
    };
    for mut part in pieces {
        if let Feed::Read(_) = feed {
            let room = session.input_buffer();
            let n = room.len().min(part.len());
            room[..n].copy_from_slice(&part[..n]);
            session.commit_input(n);
            part = &part[n..];
        }
        if !part.is_empty() {
            session.receive_data(part);
        }
        if drain(&mut session, &mut trace) {
            return trace;
        }
    }
    // The stream may end inside a frame: that is an error only once all before it is out.
    session.receive_eof();
    if !drain(&mut session, &mut trace) {
        trace.push(format!("output {:?}", session.pending_output()));
    }
    trace
}

/// Records every event `session` has ready into `trace`; `true` after an error.
fn drain(session: &mut Session<impl FnMut() -> [u8; 4]>, trace: &mut Vec<String>) -> bool {
    loop {
        match session.next_event() {
            Ok(Some(event)) => {
                let text = format!("{event:?}");
                let owned = match event {
                    Event::Text(_) => format!("take_text {:?}", session.take_text()),
                    Event::Binary(_) => format!("take {:?}", session.take_message()),
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
