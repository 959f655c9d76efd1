//! # wsdump: the command-line WebSocket client
//!
//! A drop-in for Python websocket-client's `wsdump`: the same flags and the same output byte
//! for byte, plus what Python's lacks (TLS options, SOCKS proxies, clear errors instead of
//! tracebacks). The binary is the product; this library holds the pieces whose exact output
//! scripts depend on, so they are tested on their own.
//!
//! ```text
//!  stdin lines ──► Sender (text frames, or binary with --binary) ──► server
//!  stdout ◄── format_frame ◄── Receiver thread (each frame, pings answered, close ends it)
//! ```
//!
//! # Example
//!
//! ```
//! use wsdump::{Frame, Output, format_frame, python_bytes_repr};
//!
//! assert_eq!(python_bytes_repr(b"\x00a'\n"), r#"b"\x00a'\n""#);
//! let output = Output { verbose: 1, timings: None };
//! assert_eq!(format_frame(&Frame::Text("hello".into()), &output), Some("text: hello".into()));
//! assert_eq!(format_frame(&Frame::Close, &output), Some("close: ".into()));
//! ```

use std::io::Read;

/// A frame as wsdump shows it (Python's `recv_frame` result).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// A text frame (lossily decoded when a fragment splits a character).
    Text(String),
    /// A binary frame.
    Binary(Vec<u8>),
    /// A continuation frame of a fragmented message.
    Continuation(Vec<u8>),
    /// A ping (already answered).
    Ping(Vec<u8>),
    /// A pong.
    Pong(Vec<u8>),
    /// The peer's close frame, or the end of the connection.
    Close,
}

impl Frame {
    /// Python's `ABNF.OPCODE_MAP` name.
    #[must_use]
    pub fn opcode_name(&self) -> &'static str {
        match self {
            Self::Text(_) => "text",
            Self::Binary(_) => "binary",
            Self::Continuation(_) => "cont",
            Self::Ping(_) => "ping",
            Self::Pong(_) => "pong",
            Self::Close => "close",
        }
    }
}

/// How frames are shown.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Output {
    /// `-v`: 0 shows the data, 1 and more prefix it with the opcode name.
    pub verbose: u8,
    /// `--timings`: seconds since start, put before each line.
    pub timings: Option<f64>,
}

/// The line wsdump prints for a frame (without the interactive mode's decoration), or `None`
/// when nothing is printed (a close without `-v`).
#[must_use]
pub fn format_frame(frame: &Frame, output: &Output) -> Option<String> {
    let data = match frame {
        Frame::Text(text) => text.clone(),
        Frame::Close => String::new(),
        Frame::Binary(bytes)
        | Frame::Continuation(bytes)
        | Frame::Ping(bytes)
        | Frame::Pong(bytes) => show_bytes(bytes),
    };
    let line = if output.verbose > 0 {
        format!("{}: {data}", frame.opcode_name())
    } else if *frame == Frame::Close {
        return None;
    } else {
        data
    };
    Some(match output.timings {
        Some(seconds) => format!("{}: {line}", python_float(seconds)),
        None => line,
    })
}

/// Bytes as Python's wsdump shows them: `[gzip] TEXT` for a gzip stream of UTF-8 text,
/// `[zlib] TEXT` for raw deflate of UTF-8 text, else Python's `repr`.
#[must_use]
pub fn show_bytes(bytes: &[u8]) -> String {
    if bytes.len() > 2 && bytes.starts_with(b"\x1f\x8b") {
        if let Some(text) = gunzip(bytes) {
            return format!("[gzip] {text}");
        }
    } else if let Some(text) = inflate_raw(bytes) {
        return format!("[zlib] {text}");
    }
    python_bytes_repr(bytes)
}

/// The most a compressed message may inflate to before it is shown as bytes instead: a
/// small message must not make wsdump allocate without bound.
const INFLATE_LIMIT: u64 = 16 << 20;

/// The UTF-8 text of a complete raw deflate stream, if it is one (Python's
/// `zlib.decompress(data, -zlib.MAX_WBITS)`, which refuses a truncated stream).
fn inflate_raw(bytes: &[u8]) -> Option<String> {
    let mut inflater = flate2::Decompress::new(false);
    let mut out = Vec::new();
    loop {
        out.reserve(bytes.len().clamp(64, 1 << 20));
        let (before_in, before_out) = (inflater.total_in(), inflater.total_out());
        let rest = bytes.get(usize::try_from(before_in).ok()?..)?;
        let status = inflater
            .decompress_vec(rest, &mut out, flate2::FlushDecompress::Finish)
            .ok()?;
        if status == flate2::Status::StreamEnd {
            return String::from_utf8(out).ok();
        }
        let stuck = inflater.total_in() == before_in && inflater.total_out() == before_out;
        if stuck || inflater.total_out() > INFLATE_LIMIT {
            return None;
        }
    }
}

/// The UTF-8 text of a (possibly multi-member) gzip stream, if it is one, up to the same
/// limit.
fn gunzip(bytes: &[u8]) -> Option<String> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .take(INFLATE_LIMIT + 1)
        .read_to_end(&mut out)
        .ok()?;
    if out.len() as u64 > INFLATE_LIMIT {
        return None;
    }
    String::from_utf8(out).ok()
}

/// Python's `repr` of a `bytes` value: `b'...'`, or `b"..."` when the bytes hold a `'` and no
/// `"`; printable ASCII as itself, `\\`, `\t`, `\n`, `\r`, the quote in use escaped, every
/// other byte as `\xhh`.
#[must_use]
pub fn python_bytes_repr(bytes: &[u8]) -> String {
    let quote = if bytes.contains(&b'\'') && !bytes.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(bytes.len() + 3);
    out.push('b');
    out.push(quote);
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b if char::from(b) == quote => {
                out.push('\\');
                out.push(quote);
            }
            0x20..=0x7e => out.push(char::from(b)),
            other => out.push_str(&format!("\\x{other:02x}")),
        }
    }
    out.push(quote);
    out
}

/// A float as Python's `str` shows it: the shortest form that reads back, with `.0` on whole
/// numbers and an exponent below 1e-4 or from 1e16.
#[must_use]
pub fn python_float(value: f64) -> String {
    let magnitude = value.abs();
    if value != 0.0 && !(1e-4..1e16).contains(&magnitude) {
        // Python: mantissa then `e-05` / `e+16`.
        let shown = format!("{value:e}");
        let (mantissa, exponent) = shown.split_once('e').unwrap_or((&shown, "0"));
        let exponent: i32 = exponent.parse().unwrap_or(0);
        let sign = if exponent < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exponent.abs());
    }
    let shown = format!("{value}");
    if shown.contains('.') || shown.contains("inf") || shown.contains("NaN") {
        shown
    } else {
        format!("{shown}.0")
    }
}

/// The line the interactive mode writes for a received message: clear the line, move to the
/// next, `< MSG` in blue, then a fresh prompt (byte for byte as Python's wsdump).
#[must_use]
pub fn interactive_line(message: &str) -> String {
    format!("\x1b[2K\x1b[E\x1b[34m< {message}\x1b[39m\n> ")
}

/// Python's `-v` value: a number, or a run of `v`s (`-vv` is 2), as wsdump's `VAction`.
///
/// # Errors
/// Never fails: anything that is not a number counts its `v`s plus one.
pub fn parse_verbose(value: &str) -> Result<u8, String> {
    Ok(match value.parse::<u8>() {
        Ok(n) => n,
        Err(_) => u8::try_from(value.matches('v').count() + 1).unwrap_or(u8::MAX),
    })
}

/// Python's `--headers`: comma-separated `Name: value` lines, each trimmed.
#[must_use]
pub fn header_lines(headers: &str) -> Vec<String> {
    headers.split(',').map(|h| h.trim().to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_repr_matches_python_for_every_byte() {
        let table = include_str!("../tests/data/bytes_repr.txt");
        let mut rows = 0;
        for line in table.lines() {
            let (byte, expected) = line.split_once(' ').expect("byte then repr");
            let byte: u8 = byte.parse().expect("a byte");
            assert_eq!(python_bytes_repr(&[byte]), expected, "byte {byte}");
            rows += 1;
        }
        assert_eq!(rows, 256);
        for line in include_str!("../tests/data/quotes_repr.txt").lines() {
            let (hex, expected) = line.split_once(' ').expect("hex then repr");
            let bytes: Vec<u8> = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
                .collect();
            assert_eq!(python_bytes_repr(&bytes), expected, "{hex}");
        }
    }

    #[test]
    fn floats_read_as_python_prints_them() {
        assert_eq!(python_float(1.0), "1.0");
        assert_eq!(python_float(0.25), "0.25");
        assert_eq!(python_float(1.234_567_891_2), "1.2345678912");
        assert_eq!(python_float(0.000_05), "5e-05");
        assert_eq!(python_float(0.0), "0.0");
        assert_eq!(python_float(12.5), "12.5");
    }

    #[test]
    fn compressed_text_is_shown_decompressed() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"hello gzip").expect("in memory");
        let gz = gz.finish().expect("in memory");
        assert_eq!(show_bytes(&gz), "[gzip] hello gzip");
        let mut raw =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        raw.write_all(b"hello zlib").expect("in memory");
        let raw = raw.finish().expect("in memory");
        assert_eq!(show_bytes(&raw), "[zlib] hello zlib");
        // Truncated, or not text: shown as bytes.
        assert_eq!(
            show_bytes(&raw[..raw.len() - 2]),
            python_bytes_repr(&raw[..raw.len() - 2])
        );
        assert_eq!(show_bytes(b"\x00\x01"), "b'\\x00\\x01'");
        assert_eq!(show_bytes(b""), "b''");
    }

    #[test]
    fn verbose_values_as_python_counts_them() {
        assert_eq!(parse_verbose("2"), Ok(2));
        assert_eq!(parse_verbose("v"), Ok(2));
        assert_eq!(parse_verbose("vv"), Ok(3));
        assert_eq!(header_lines("A: 1, B: 2"), ["A: 1", "B: 2"]);
    }

    #[test]
    fn frames_print_as_python_prints_them() {
        let plain = Output {
            verbose: 0,
            timings: None,
        };
        let verbose = Output {
            verbose: 1,
            timings: Some(1.5),
        };
        assert_eq!(
            format_frame(&Frame::Binary(vec![0, 65]), &plain).as_deref(),
            Some("b'\\x00A'")
        );
        assert_eq!(format_frame(&Frame::Close, &plain), None);
        assert_eq!(
            format_frame(&Frame::Ping(b"hi".to_vec()), &verbose).as_deref(),
            Some("1.5: ping: b'hi'")
        );
        assert_eq!(
            interactive_line("hi"),
            "\u{1b}[2K\u{1b}[E\u{1b}[34m< hi\u{1b}[39m\n> "
        );
    }
}
