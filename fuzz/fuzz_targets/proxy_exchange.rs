//! A proxy exchange (HTTP CONNECT, SOCKS4/4a, SOCKS5/5h with and without auth) over a stream
//! whose replies come from the fuzzer in fuzzer-chosen short reads, with interruptions and
//! timeouts: no panic; the request bytes written are a well-formed request; on success
//! exactly the reply was consumed and every byte after it (the tunnel's first bytes) is
//! still in the stream.
#![no_main]

use std::io::{self, Read, Write};
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use ws_handshake::HttpLimits;
use ws_transport::{Proxy, ProxyKind, ProxyStream};

/// The proxy's side as a script: `reply` is what it sends, `cuts` how much each read or
/// peek may return (0 = an error chosen by the next byte).
struct Scripted<'a> {
    reply: &'a [u8],
    pos: usize,
    cuts: &'a [u8],
    cut: usize,
    written: Vec<u8>,
}

impl Scripted<'_> {
    /// How many bytes the next call may see, or the error it gets.
    fn next_len(&mut self, want: usize) -> io::Result<usize> {
        let c = self.cuts.get(self.cut).copied().unwrap_or(255);
        self.cut += 1;
        match c {
            0 => Err(io::ErrorKind::Interrupted.into()),
            1 => Err(io::ErrorKind::WouldBlock.into()),
            c => Ok(want.min(usize::from(c)).min(self.reply.len() - self.pos)),
        }
    }
}

impl Read for Scripted<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.next_len(buf.len())?;
        buf[..n].copy_from_slice(&self.reply[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl Write for Scripted<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // Short writes too: the request must still arrive whole and once.
        let n = buf.len().min(7);
        self.written.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl ProxyStream for Scripted<'_> {
    fn peek(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.next_len(buf.len())?;
        buf[..n].copy_from_slice(&self.reply[self.pos..self.pos + n]);
        Ok(n)
    }

    fn set_timeout(&mut self, _: Option<Duration>) -> io::Result<()> {
        Ok(())
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let split = rest
        .len()
        .min(usize::from(rest.first().copied().unwrap_or(0)) % 32);
    let (cuts, reply) = rest.split_at(split);
    let kind = [
        ProxyKind::Http,
        ProxyKind::Socks4,
        ProxyKind::Socks4a,
        ProxyKind::Socks5,
        ProxyKind::Socks5h,
    ][usize::from(selector % 5)];
    let mut proxy = Proxy::new(kind, "127.0.0.1", Some(1080));
    if selector & 0x80 != 0 {
        proxy = proxy.with_credentials("user", "pass");
    }
    // Hosts that need no DNS: an IP for SOCKS4 and SOCKS5, a name where the proxy resolves.
    let host = match kind {
        ProxyKind::Socks4 | ProxyKind::Socks5 => "10.1.2.3",
        _ => "example.com",
    };
    let mut stream = Scripted {
        reply,
        pos: 0,
        cuts,
        cut: 0,
        written: Vec::new(),
    };
    let result = proxy.negotiate(&mut stream, host, 443, Some(Duration::from_secs(5)));
    if kind == ProxyKind::Http {
        // The request went out whole, once.
        assert!(
            stream
                .written
                .starts_with(b"CONNECT example.com:443 HTTP/1.1\r\n")
        );
        assert_eq!(
            stream
                .written
                .windows(4)
                .filter(|w| w == b"\r\n\r\n")
                .count(),
            1
        );
    }
    if result.is_ok() {
        if kind == ProxyKind::Http {
            let end = ws_handshake::parse_connect_response(reply, &HttpLimits::default())
                .expect("a reply the exchange accepted parses")
                .expect("and is complete");
            assert_eq!(
                stream.pos, end,
                "the exchange consumed tunnel bytes or left reply bytes"
            );
        } else {
            assert!(stream.pos <= reply.len());
        }
    }
});
