//! What Python's `enableTrace(True)` prints, through the `log` facade: the request and
//! response headers at `debug`, each message sent and received at `trace`. The values of
//! `Authorization`, `Proxy-Authorization`, `Cookie` and `Set-Cookie` are replaced by `***`.

use log::Level;
use ws_frame::OpCode;

use crate::MessageRef;

const SECRET_HEADERS: [&str; 4] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
];

/// The head of an HTTP message with secret header values replaced.
pub(crate) fn redact(head: &[u8]) -> String {
    let text = String::from_utf8_lossy(head);
    let mut out = String::with_capacity(text.len());
    for line in text.split("\r\n").filter(|l| !l.is_empty()) {
        match line.split_once(':') {
            Some((name, _))
                if SECRET_HEADERS
                    .iter()
                    .any(|s| name.trim().eq_ignore_ascii_case(s)) =>
            {
                out.push_str(name);
                out.push_str(": ***");
            }
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

pub(crate) fn request(bytes: &[u8]) {
    if log::log_enabled!(Level::Debug) {
        log::debug!(
            "--- request header ---\n{}-----------------------",
            redact(bytes)
        );
    }
}

pub(crate) fn response(bytes: &[u8]) {
    if log::log_enabled!(Level::Debug) {
        log::debug!(
            "--- response header ---\n{}-----------------------",
            redact(bytes)
        );
    }
}

/// At most this many payload bytes are shown per message.
const PREVIEW: usize = 128;

fn preview(opcode: OpCode, data: &[u8]) -> String {
    let shown = &data[..data.len().min(PREVIEW)];
    let more = if data.len() > PREVIEW { "..." } else { "" };
    match opcode {
        OpCode::Text => format!("{:?}{more}", String::from_utf8_lossy(shown)),
        _ => format!("{shown:02x?}{more}"),
    }
}

pub(crate) fn sent_bytes(opcode: OpCode, data: &[u8]) {
    if log::log_enabled!(Level::Trace) {
        log::trace!(
            "++Sent {} ({} bytes): {}",
            opcode.name(),
            data.len(),
            preview(opcode, data)
        );
    }
}

/// Logs a received message or frame. The caller checks that trace logging is on first, so
/// the receive hot path does not even build the [`MessageRef`] otherwise.
pub(crate) fn received(message: MessageRef<'_>) {
    let data = message.as_bytes();
    let detail = match message {
        MessageRef::Close(Some(c)) => format!("code {}", c.code.0),
        _ => String::new(),
    };
    log::trace!(
        "++Rcv {} ({} bytes) {detail}: {}",
        message.opcode().name(),
        data.len(),
        preview(message.opcode(), data)
    );
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_are_redacted() {
        let head = b"GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Basic dTpw\r\ncookie: a=b\r\nProxy-Authorization: x\r\nSet-Cookie: s=1\r\n\r\n";
        let shown = super::redact(head);
        assert_eq!(
            shown,
            "GET / HTTP/1.1\nHost: h\nAuthorization: ***\ncookie: ***\nProxy-Authorization: ***\nSet-Cookie: ***\n"
        );
    }
}
