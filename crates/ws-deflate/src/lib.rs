//! # ws-deflate: permessage-deflate (RFC 7692) for ws-frame
//!
//! Compression of WebSocket messages, as browsers, python-websockets and node's `ws`
//! negotiate it by default: the negotiation for both roles (the client's offer and the check
//! of the server's answer, and the server's choice among a client's offers), and
//! [`PerMessageDeflate`], the [`ws_frame::Extension`] a session uses once it is negotiated.
//!
//! ```text
//!  client: DeflateConfig::offer() ─► Sec-WebSocket-Extensions ─► server: DeflateConfig::accept_offers
//!          DeflateConfig::accept_response(101's answer) ◄──────── answer ◄──┘
//!                   │                                                      │
//!                   ▼                                                      ▼
//!       Session::set_extension(PerMessageDeflate)         Session::set_extension(PerMessageDeflate)
//!       inbound: inflate each chunk as it arrives ─► UTF-8 check and size limit on what comes out
//!       outbound: deflate whole messages at or above the threshold, RSV1 set, 00 00 ff ff cut
//! ```
//!
//! Inflating streams: each arriving chunk is inflated at once, so a text message fails at its
//! first invalid byte even while it arrives, and the output never grows past the session's
//! `max_message_size` (a decompression bomb stops there with 1009, having allocated no more).
//! Compression keeps its state across messages (context takeover) unless
//! `*_no_context_takeover` was negotiated, and reuses its buffers: no allocation per message
//! once warm.
//!
//! **Window bits 8.** zlib cannot compress with a 256-byte window (it would use 512, which
//! breaks the agreement). When 8 is negotiated for this side's window, the extension accepts
//! it and sends every message uncompressed, which RFC 7692 allows (§6: compressing a message
//! is the sender's choice) and which keeps the promise trivially; inflating with a window of 8
//! uses 9, which decodes everything a 256-byte window can produce.
//!
//! # Example
//!
//! Both ends of a connection through memory, negotiated and compressing:
//!
//! ```
//! use ws_deflate::DeflateConfig;
//! use ws_frame::{Config, Event, Session};
//! use ws_handshake::Extension;
//!
//! let config = DeflateConfig::default();
//! let offer = config.offer();
//! assert_eq!(offer, "permessage-deflate; client_max_window_bits");
//! // The server picks from the client's offers and answers.
//! let (answer, server_side) = config
//!     .accept_offers(&Extension::parse_list(&offer))
//!     .expect("an acceptable offer");
//! assert_eq!(answer, "permessage-deflate");
//! // The client checks the answer.
//! let client_side = config.accept_response(&Extension::parse_list(&answer))?.expect("deflate");
//!
//! let mut client = Session::client(Config::default(), || [1, 2, 3, 4]);
//! let mut server = Session::server(Config::default());
//! client.set_extension(Box::new(client_side));
//! server.set_extension(Box::new(server_side));
//! let text = "a compressible message, a compressible message, a compressible message";
//! client.send_text(text)?;
//! assert!(client.pending_output().len() < text.len()); // compressed on the wire
//! server.receive_data(client.pending_output());
//! assert_eq!(server.next_event()?, Some(Event::Text(text)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]

use std::fmt;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use ws_frame::{Extension, ExtensionError, Role};
use ws_handshake::Extension as Offer;

/// The extension's token.
pub const NAME: &str = "permessage-deflate";

/// The tail every compressed message ends with, removed by the sender and added back by the
/// receiver (RFC 7692 §7.2.1, §7.2.2).
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// What this endpoint offers, asks for and accepts, and how it compresses.
///
/// Defaults: offer `client_max_window_bits` (so a server may limit the client's window),
/// ask for nothing else, compress messages of 32 bytes and more at zlib's default level.
///
/// ```
/// use ws_deflate::DeflateConfig;
/// let config = DeflateConfig::default()
///     .server_no_context_takeover(true)
///     .server_max_window_bits(Some(10))
///     .threshold(64);
/// assert_eq!(
///     config.offer(),
///     "permessage-deflate; client_max_window_bits; server_max_window_bits=10; server_no_context_takeover"
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeflateConfig {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    client_max_window_bits: Option<u8>,
    threshold: usize,
    level: u32,
}

impl Default for DeflateConfig {
    fn default() -> Self {
        Self {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: None,
            client_max_window_bits: None,
            threshold: 32,
            level: 6,
        }
    }
}

/// Why an answer to the offer was refused: the handshake fails with this.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NegotiationError {
    /// The answer accepted permessage-deflate more than once.
    Repeated,
    /// A parameter this extension does not define.
    UnknownParameter(String),
    /// A parameter given twice.
    DuplicateParameter(String),
    /// A parameter with a value it must not have, without one it needs, or out of range.
    InvalidValue {
        /// The parameter.
        name: String,
        /// The value as sent (`None`: none).
        value: Option<String>,
    },
    /// A window larger than the offer allowed.
    AboveOffer {
        /// The parameter.
        name: String,
        /// The value in the answer.
        value: u8,
        /// The most the offer allowed.
        offered: u8,
    },
}

impl fmt::Display for NegotiationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Repeated => f.write_str("permessage-deflate accepted more than once"),
            Self::UnknownParameter(name) => {
                write!(f, "permessage-deflate: unknown parameter {name:?}")
            }
            Self::DuplicateParameter(name) => {
                write!(f, "permessage-deflate: parameter {name:?} given twice")
            }
            Self::InvalidValue { name, value: None } => {
                write!(f, "permessage-deflate: {name} needs a value from 8 to 15")
            }
            Self::InvalidValue {
                name,
                value: Some(value),
            } => write!(f, "permessage-deflate: invalid value {value:?} for {name}"),
            Self::AboveOffer {
                name,
                value,
                offered,
            } => write!(
                f,
                "permessage-deflate: {name}={value} is above the offered {offered}"
            ),
        }
    }
}

impl std::error::Error for NegotiationError {}

/// The parameters both ends agreed on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Negotiated {
    /// The server resets its compressor after each message.
    pub server_no_context_takeover: bool,
    /// The client resets its compressor after each message.
    pub client_no_context_takeover: bool,
    /// The server's compression window, 8–15 (15 when not limited).
    pub server_max_window_bits: u8,
    /// The client's compression window, 8–15 (15 when not limited).
    pub client_max_window_bits: u8,
}

/// The parameters of one offer or answer, each known name at most once.
#[derive(Default)]
struct Params {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    /// `Some(None)`: the parameter without a value.
    server_max_window_bits: Option<Option<u8>>,
    client_max_window_bits: Option<Option<u8>>,
}

/// A window-bits value, 8 to 15 (RFC 7692 §7.1.2: decimal digits, no leading zero).
fn window_bits(name: &str, value: Option<&str>) -> Result<Option<u8>, NegotiationError> {
    let Some(value) = value else { return Ok(None) };
    let invalid = || NegotiationError::InvalidValue {
        name: name.to_string(),
        value: Some(value.to_string()),
    };
    if value.starts_with('0') || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    match value.parse::<u8>() {
        Ok(bits @ 8..=15) => Ok(Some(bits)),
        _ => Err(invalid()),
    }
}

impl Params {
    fn parse(offer: &Offer) -> Result<Self, NegotiationError> {
        let mut params = Self::default();
        let mut seen: Vec<&str> = Vec::new();
        for (name, value) in &offer.params {
            let name = name.as_str();
            if seen.iter().any(|s| s.eq_ignore_ascii_case(name)) {
                return Err(NegotiationError::DuplicateParameter(name.to_string()));
            }
            seen.push(name);
            let no_value = |flag: &mut bool| match value {
                None => {
                    *flag = true;
                    Ok(())
                }
                Some(v) => Err(NegotiationError::InvalidValue {
                    name: name.to_string(),
                    value: Some(v.clone()),
                }),
            };
            match name.to_ascii_lowercase().as_str() {
                "server_no_context_takeover" => no_value(&mut params.server_no_context_takeover)?,
                "client_no_context_takeover" => no_value(&mut params.client_no_context_takeover)?,
                "server_max_window_bits" => {
                    params.server_max_window_bits = Some(window_bits(name, value.as_deref())?);
                }
                "client_max_window_bits" => {
                    params.client_max_window_bits = Some(window_bits(name, value.as_deref())?);
                }
                _ => return Err(NegotiationError::UnknownParameter(name.to_string())),
            }
        }
        Ok(params)
    }
}

impl DeflateConfig {
    /// Asks the server to reset its compressor after each message (client), or does so
    /// unasked (server). Default `false`.
    #[must_use]
    pub const fn server_no_context_takeover(mut self, on: bool) -> Self {
        self.server_no_context_takeover = on;
        self
    }

    /// Resets this client's compressor after each message and says so in the offer (client),
    /// or asks the client to (server). Default `false`.
    #[must_use]
    pub const fn client_no_context_takeover(mut self, on: bool) -> Self {
        self.client_no_context_takeover = on;
        self
    }

    /// The largest window the server may compress with, 8–15 (client: asked for in the
    /// offer; server: the most it uses). Default `None`: 15.
    #[must_use]
    pub const fn server_max_window_bits(mut self, bits: Option<u8>) -> Self {
        self.server_max_window_bits = bits;
        self
    }

    /// The largest window the client compresses with, 8–15 (client: offered as a limit on
    /// itself; server: asked of the client when it offered the parameter). Default `None`:
    /// 15, with the parameter offered without a value so a server may lower it.
    #[must_use]
    pub const fn client_max_window_bits(mut self, bits: Option<u8>) -> Self {
        self.client_max_window_bits = bits;
        self
    }

    /// Messages shorter than this are sent uncompressed. Default 32 bytes.
    #[must_use]
    pub const fn threshold(mut self, bytes: usize) -> Self {
        self.threshold = bytes;
        self
    }

    /// The zlib compression level, 0 (none) to 9 (smallest). Default 6.
    #[must_use]
    pub const fn level(mut self, level: u32) -> Self {
        self.level = if level > 9 { 9 } else { level };
        self
    }

    /// The client's `Sec-WebSocket-Extensions` value.
    #[must_use]
    pub fn offer(&self) -> String {
        let mut offer = NAME.to_string();
        match self.client_max_window_bits {
            Some(bits) => offer.push_str(&format!("; client_max_window_bits={bits}")),
            None => offer.push_str("; client_max_window_bits"),
        }
        if let Some(bits) = self.server_max_window_bits {
            offer.push_str(&format!("; server_max_window_bits={bits}"));
        }
        if self.server_no_context_takeover {
            offer.push_str("; server_no_context_takeover");
        }
        if self.client_no_context_takeover {
            offer.push_str("; client_no_context_takeover");
        }
        offer
    }

    /// Checks a server's answer to [`offer`](Self::offer) (the extensions of its 101) and
    /// returns the client's side of the extension, or `None` when the server declined
    /// (answered without permessage-deflate).
    ///
    /// # Errors
    /// [`NegotiationError`] naming what breaks RFC 7692 §7: an unknown or repeated
    /// parameter, a bad value, a window above the offer; the handshake fails with it. (The
    /// offer always includes `client_max_window_bits`, so the server may always answer it.)
    pub fn accept_response(
        &self,
        answer: &[Offer],
    ) -> Result<Option<PerMessageDeflate>, NegotiationError> {
        let mut ours = answer.iter().filter(|e| e.name.eq_ignore_ascii_case(NAME));
        let Some(answer) = ours.next() else {
            return Ok(None);
        };
        if ours.next().is_some() {
            return Err(NegotiationError::Repeated);
        }
        let params = Params::parse(answer)?;
        let server_bits = match params.server_max_window_bits {
            None => self.server_max_window_bits.unwrap_or(15),
            Some(None) => {
                return Err(NegotiationError::InvalidValue {
                    name: "server_max_window_bits".into(),
                    value: None,
                });
            }
            Some(Some(bits)) => match self.server_max_window_bits {
                Some(offered) if bits > offered => {
                    return Err(NegotiationError::AboveOffer {
                        name: "server_max_window_bits".into(),
                        value: bits,
                        offered,
                    });
                }
                _ => bits,
            },
        };
        // The offer always has client_max_window_bits (with or without a value).
        let client_bits = match params.client_max_window_bits {
            None => self.client_max_window_bits.unwrap_or(15),
            Some(None) => {
                return Err(NegotiationError::InvalidValue {
                    name: "client_max_window_bits".into(),
                    value: None,
                });
            }
            Some(Some(bits)) => match self.client_max_window_bits {
                Some(offered) if bits > offered => {
                    return Err(NegotiationError::AboveOffer {
                        name: "client_max_window_bits".into(),
                        value: bits,
                        offered,
                    });
                }
                _ => bits,
            },
        };
        let negotiated = Negotiated {
            server_no_context_takeover: params.server_no_context_takeover,
            client_no_context_takeover: params.client_no_context_takeover
                || self.client_no_context_takeover,
            server_max_window_bits: server_bits,
            client_max_window_bits: client_bits,
        };
        Ok(Some(PerMessageDeflate::new(negotiated, Role::Client, self)))
    }

    /// Server side: picks the first of a client's offers (the extensions of its upgrade
    /// request) that it can accept, and returns the answer for the 101's
    /// `Sec-WebSocket-Extensions` and the server's side of the extension; `None` declines
    /// them all (an offer with a bad parameter is skipped, as RFC 7692 §5.1 allows).
    #[must_use]
    pub fn accept_offers(&self, offers: &[Offer]) -> Option<(String, PerMessageDeflate)> {
        offers
            .iter()
            .filter(|e| e.name.eq_ignore_ascii_case(NAME))
            .find_map(|offer| self.accept_offer(offer))
    }

    fn accept_offer(&self, offer: &Offer) -> Option<(String, PerMessageDeflate)> {
        let params = Params::parse(offer).ok()?;
        let mut answer = NAME.to_string();
        let server_no_context_takeover =
            params.server_no_context_takeover || self.server_no_context_takeover;
        if server_no_context_takeover {
            answer.push_str("; server_no_context_takeover");
        }
        let client_no_context_takeover =
            params.client_no_context_takeover || self.client_no_context_takeover;
        if client_no_context_takeover {
            answer.push_str("; client_no_context_takeover");
        }
        // The server's window: the client's request, capped by ours; said when limited.
        let requested = match params.server_max_window_bits {
            Some(None) => return None,
            Some(Some(bits)) => Some(bits),
            None => None,
        };
        let server_bits = match (requested, self.server_max_window_bits) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if let Some(bits) = server_bits {
            answer.push_str(&format!("; server_max_window_bits={bits}"));
        }
        // The client's window: asked of it only when it offered the parameter.
        let client_bits = match (params.client_max_window_bits, self.client_max_window_bits) {
            (Some(offered), Some(ours)) => {
                let bits = offered.map_or(ours, |o| o.min(ours));
                answer.push_str(&format!("; client_max_window_bits={bits}"));
                bits
            }
            (Some(Some(offered)), None) => offered,
            _ => 15,
        };
        let negotiated = Negotiated {
            server_no_context_takeover,
            client_no_context_takeover,
            server_max_window_bits: server_bits.unwrap_or(15),
            client_max_window_bits: client_bits,
        };
        Some((
            answer,
            PerMessageDeflate::new(negotiated, Role::Server, self),
        ))
    }
}

/// permessage-deflate as a [`ws_frame::Extension`], for one side of one connection: made by
/// [`DeflateConfig::accept_response`] (client) or [`DeflateConfig::accept_offers`] (server).
pub struct PerMessageDeflate {
    negotiated: Negotiated,
    /// `None` when this side's window is 8, which zlib cannot compress with: every message
    /// then goes out uncompressed.
    compress: Option<Compress>,
    decompress: Decompress,
    /// Reset the compressor after each message (this side's no_context_takeover).
    reset_compress: bool,
    /// Reset the decompressor after each message (the peer's no_context_takeover).
    reset_decompress: bool,
    threshold: usize,
}

impl fmt::Debug for PerMessageDeflate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PerMessageDeflate")
            .field("negotiated", &self.negotiated)
            .field("compressing", &self.compress.is_some())
            .field("threshold", &self.threshold)
            .finish_non_exhaustive()
    }
}

/// The first step of output space for an inflated message; later steps double it.
const STEP: usize = 32 * 1024;

impl PerMessageDeflate {
    /// The extension for `role` with the `negotiated` parameters and `config`'s threshold and
    /// level.
    #[must_use]
    pub fn new(negotiated: Negotiated, role: Role, config: &DeflateConfig) -> Self {
        let (own_bits, peer_bits, own_reset, peer_reset) = match role {
            Role::Client => (
                negotiated.client_max_window_bits,
                negotiated.server_max_window_bits,
                negotiated.client_no_context_takeover,
                negotiated.server_no_context_takeover,
            ),
            Role::Server => (
                negotiated.server_max_window_bits,
                negotiated.client_max_window_bits,
                negotiated.server_no_context_takeover,
                negotiated.client_no_context_takeover,
            ),
        };
        let compress = (own_bits >= 9).then(|| {
            Compress::new_with_window_bits(Compression::new(config.level), false, own_bits)
        });
        Self {
            negotiated,
            compress,
            // A larger window decodes everything a smaller one produces.
            decompress: Decompress::new_with_window_bits(false, peer_bits.max(9)),
            reset_compress: own_reset,
            reset_decompress: peer_reset,
            threshold: config.threshold,
        }
    }

    /// The parameters both ends agreed on.
    #[must_use]
    pub fn negotiated(&self) -> Negotiated {
        self.negotiated
    }

    /// Inflates `input` into `out`, never letting `out` grow past `limit` bytes.
    fn inflate(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), ExtensionError> {
        let mut consumed = 0;
        loop {
            if out.len() > limit {
                return Err(ExtensionError::TooLarge);
            }
            if out.len() == out.capacity() {
                // Grow by doubling (amortized, and a large buffer grows in place where the
                // allocator can), but never past the limit + 1: the byte past the limit is
                // how going over it is seen.
                let grow = out.len().max(STEP).min(limit + 1 - out.len());
                if grow == 0 {
                    return Err(ExtensionError::TooLarge);
                }
                out.reserve_exact(grow);
            }
            let (before_in, before_out) = (self.decompress.total_in(), self.decompress.total_out());
            let status = self
                .decompress
                .decompress_vec(&input[consumed..], out, FlushDecompress::Sync)
                .map_err(|_| ExtensionError::InvalidData)?;
            let read = usize::try_from(self.decompress.total_in() - before_in)
                .map_err(|_| ExtensionError::InvalidData)?;
            consumed += read;
            if status == Status::StreamEnd {
                // A final block: that stream is over; what follows starts a new one.
                self.decompress.reset(false);
            }
            let wrote = self.decompress.total_out() - before_out;
            if out.len() > limit {
                return Err(ExtensionError::TooLarge);
            }
            if consumed == input.len() && out.len() < out.capacity() {
                return Ok(());
            }
            if read == 0 && wrote == 0 && status != Status::StreamEnd && out.len() < out.capacity()
            {
                // No progress with room to write: the rest of the input is not deflate.
                return Err(ExtensionError::InvalidData);
            }
        }
    }
}

impl Extension for PerMessageDeflate {
    fn rsv_bits(&self) -> u8 {
        4
    }

    fn decode(
        &mut self,
        input: &[u8],
        end: bool,
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), ExtensionError> {
        self.inflate(input, out, limit)?;
        if end {
            self.inflate(&TAIL, out, limit)?;
            if self.reset_decompress {
                self.decompress.reset(false);
            }
        }
        Ok(())
    }

    fn encode(&mut self, payload: &[u8], out: &mut Vec<u8>) -> Option<u8> {
        if payload.len() < self.threshold {
            return None;
        }
        let compress = self.compress.as_mut()?;
        out.clear();
        let mut consumed = 0;
        loop {
            if out.len() == out.capacity() {
                out.reserve((payload.len() / 2).max(64));
            }
            let before = compress.total_in();
            // Only encoding into a `Vec` that has room: zlib cannot fail here.
            if compress
                .compress_vec(&payload[consumed..], out, FlushCompress::Sync)
                .is_err()
            {
                return None;
            }
            consumed += usize::try_from(compress.total_in() - before).unwrap_or(0);
            if consumed == payload.len() && out.len() < out.capacity() {
                break;
            }
        }
        if out.ends_with(&TAIL) {
            out.truncate(out.len() - TAIL.len());
        }
        if out.is_empty() {
            // zlib writes nothing for an empty message right after a flush; the receiver
            // appends the tail to whatever comes, so an empty stored block's header byte is
            // sent (RFC 7692 §7.2.3.6), which the tail completes.
            out.push(0x00);
        }
        if self.reset_compress {
            compress.reset();
        }
        Some(4)
    }
}
