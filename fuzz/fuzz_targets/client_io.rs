//! The blocking client's send and receive loops over a stream that misbehaves where the
//! fuzzer says: short reads and writes, `WouldBlock`, timeouts, interruptions, resets, and
//! server frames of its choosing. Invariants: no panic; the bytes that reach the peer decode
//! as valid client frames (at most the last one cut short, where the stream broke or a send
//! ran out of time); the peer gets each message once, in order and unchanged; every send
//! reported as done is there, and none reported as not sent.
#![no_main]

use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use ws_client::{CloseCode, Config, Error, ProxyConfig, Stream};
use ws_frame::{Event, Session};

/// Fuzzer bytes read in order; zeros once they run out.
struct Tape<'a>(&'a [u8]);

impl Tape<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    fn done(&self) -> bool {
        self.0.is_empty()
    }
}

/// What the fake peer has seen and will send.
struct Wire {
    /// Each read's and write's fate, from the fuzzer.
    faults: Vec<u8>,
    fault: usize,
    /// The upgrade request, then (after the 101) every byte the client wrote.
    request: Vec<u8>,
    written: Vec<u8>,
    /// What reads return: the 101 response, then the server's frames.
    inbound: Vec<u8>,
    read_pos: usize,
    upgraded: bool,
    /// A reset was delivered: every later call fails.
    reset: bool,
}

impl Wire {
    fn fate(&mut self) -> u8 {
        let f = self.faults.get(self.fault).copied().unwrap_or(255);
        self.fault += 1;
        f
    }
}

#[derive(Clone)]
struct Fake(Arc<Mutex<Wire>>);

fn error(fate: u8) -> Option<io::Error> {
    Some(
        match fate % 16 {
            0 => io::ErrorKind::WouldBlock,
            1 => io::ErrorKind::TimedOut,
            2 => io::ErrorKind::Interrupted,
            3 => io::ErrorKind::ConnectionReset,
            _ => return None,
        }
        .into(),
    )
}

impl Read for Fake {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut w = self.0.lock().unwrap();
        if w.reset {
            return Err(io::ErrorKind::ConnectionReset.into());
        }
        let available = w.inbound.len() - w.read_pos;
        if !w.upgraded {
            let n = available.min(buf.len());
            buf[..n].copy_from_slice(&w.inbound[w.read_pos..w.read_pos + n]);
            w.read_pos += n;
            w.upgraded = w.read_pos == w.inbound.len() && n > 0;
            return Ok(n);
        }
        let fate = w.fate();
        if let Some(e) = error(fate) {
            w.reset |= e.kind() == io::ErrorKind::ConnectionReset;
            return Err(e);
        }
        let n = available
            .min(buf.len())
            .min(usize::from(fate / 16) * 64 + 1);
        buf[..n].copy_from_slice(&w.inbound[w.read_pos..w.read_pos + n]);
        w.read_pos += n;
        Ok(n)
    }
}

impl Write for Fake {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut w = self.0.lock().unwrap();
        if w.reset {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        if !w.upgraded {
            w.request.extend_from_slice(buf);
            if let Ok(Some((request, _))) =
                ws_handshake::parse_request(&w.request, &Default::default())
            {
                let mut response = request.accept(None, None).unwrap();
                std::mem::swap(&mut w.inbound, &mut response);
                // The server's frames follow the 101.
                w.inbound.extend_from_slice(&response);
            }
            return Ok(buf.len());
        }
        let fate = w.fate();
        if let Some(e) = error(fate) {
            w.reset |= e.kind() == io::ErrorKind::ConnectionReset;
            return Err(e);
        }
        let n = buf.len().min(usize::from(fate / 16) * 97 + 1);
        w.written.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Server frames from the tape: mostly well-formed (so the client gets far), sometimes raw.
fn server_frames(tape: &mut Tape<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..tape.byte() % 8 {
        let kind = tape.byte();
        let len = usize::from(tape.byte() % 40);
        let (first, payload): (u8, Vec<u8>) = match kind % 6 {
            0 => (0x81, vec![b'a'; len]),
            1 => (0x82, (0..len as u8).collect()),
            2 => (0x89, vec![b'p'; len]),
            3 => (0x8a, vec![b'q'; len]),
            4 => (0x01, vec![b'f'; len]), // a fragment, maybe never finished
            _ => {
                out.extend((0..len).map(|_| tape.byte()));
                continue;
            }
        };
        out.push(first);
        out.push(payload.len() as u8);
        out.extend_from_slice(&payload);
    }
    out
}

/// What a send reported about message `seq`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Fate {
    Sent,
    Owed,
    NotSent,
    Unknown,
}

fn fate_of(result: &Result<(), Error>) -> Fate {
    match result {
        Ok(()) => Fate::Sent,
        Err(Error::SendTimeout {
            partly_sent: true, ..
        }) => Fate::Owed,
        Err(Error::SendTimeout {
            partly_sent: false, ..
        }) => Fate::NotSent,
        // The stream broke: what went out before the break went out.
        Err(_) => Fate::Unknown,
    }
}

fuzz_target!(|data: &[u8]| {
    let mut tape = Tape(data);
    let faults: Vec<u8> = (0..tape.byte() % 64).map(|_| tape.byte()).collect();
    let inbound = server_frames(&mut tape);
    let wire = Arc::new(Mutex::new(Wire {
        faults,
        fault: 0,
        request: Vec::new(),
        written: Vec::new(),
        inbound,
        read_pos: 0,
        upgraded: false,
        reset: false,
    }));
    let config = Config::builder()
        .proxy(ProxyConfig::Direct)
        .timeout(Some(Duration::from_millis(50)))
        .mask_key(|| [0x11, 0x22, 0x33, 0x44])
        .build()
        .unwrap();
    let Ok(mut ws) = config.connect_over(
        "ws://fuzz.invalid/",
        Stream::from_custom(Fake(Arc::clone(&wire))),
    ) else {
        return;
    };
    let mut fates = Vec::new();
    while !tape.done() && fates.len() < 64 {
        let op = tape.byte();
        let seq = fates.len() as u32;
        let size = usize::from(tape.byte()) * (usize::from(op >> 4) + 1);
        let mut message = seq.to_be_bytes().to_vec();
        message.resize(4 + size, b'x');
        match op % 8 {
            0 | 1 => fates.push(fate_of(&ws.send_binary(&message))),
            2 => {
                let result = ws.queue_binary(&message).and_then(|()| ws.flush());
                fates.push(fate_of(&result));
            }
            3 => {
                let _ = ws.ping(b"hello");
            }
            4 | 5 => {
                let _ = ws.recv();
            }
            6 => {
                let _ = ws.flush();
            }
            _ => {
                let _ = ws.close_with_timeout(CloseCode::NORMAL, "bye", Duration::from_millis(20));
            }
        }
    }
    drop(ws);

    // The peer's view: every byte after the upgrade, decoded as a server would.
    let written = std::mem::take(&mut wire.lock().unwrap().written);
    let mut server = Session::server(ws_frame::Config::default());
    server.receive_data(&written);
    let mut seen = Vec::new();
    loop {
        match server.next_event() {
            Ok(Some(Event::Binary(data))) => {
                assert!(data.len() >= 4, "a message without its number");
                // Masked on the way out and unmasked here: every payload byte comes back.
                assert!(
                    data[4..].iter().all(|&b| b == b'x'),
                    "a payload changed on the way"
                );
                seen.push(u32::from_be_bytes([data[0], data[1], data[2], data[3]]));
            }
            Ok(Some(Event::Close { .. })) => break,
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(e) => panic!("the peer read an invalid stream: {e}"),
        }
    }
    // Each message once, in order; done ones there, not-sent ones absent.
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "repeated or reordered: {seen:?}"
    );
    for (seq, fate) in fates.iter().enumerate() {
        let present = seen.contains(&(seq as u32));
        match fate {
            Fate::NotSent => assert!(!present, "message {seq} was reported not sent"),
            Fate::Sent => assert!(present, "message {seq} was reported sent but never arrived"),
            Fate::Owed | Fate::Unknown => {}
        }
    }
});
