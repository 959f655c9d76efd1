//! The hook for negotiated extensions that rewrite message payloads (RFC 6455 §9):
//! permessage-deflate (RFC 7692, the `ws-deflate` crate) is the one in use.

use alloc::vec::Vec;

/// Why an extension could not decode a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExtensionError {
    /// The payload is not valid for the extension (corrupt compressed data): the connection is
    /// failed with 1007.
    InvalidData,
    /// Decoding would produce more than the limit given: the message is too big (1009). Nothing
    /// past the limit was produced.
    TooLarge,
}

/// A negotiated extension that transforms the payload of whole data messages, as
/// permessage-deflate compresses them. A [`Session`](crate::Session) with one
/// ([`Session::set_extension`](crate::Session::set_extension)) accepts the extension's RSV
/// bits on the first frame of a data message (never on control or continuation frames, which
/// stay a protocol error, 1002), passes each arriving chunk of such a message through
/// [`decode`](Self::decode) before the UTF-8 check and the message size limit, and offers
/// every outgoing whole message to [`encode`](Self::encode).
pub trait Extension: core::fmt::Debug {
    /// The RSV bits the extension uses (`4` for RSV1).
    fn rsv_bits(&self) -> u8;

    /// Decodes the next chunk of an inbound message whose first frame had the extension's
    /// bits, appending the result to `out`. `end` is `true` with the message's last chunk.
    /// At most `limit` bytes may be appended over the whole message (`out` holds what was
    /// appended before); producing more is [`ExtensionError::TooLarge`], detected before the
    /// excess is allocated.
    ///
    /// # Errors
    /// [`ExtensionError`].
    fn decode(
        &mut self,
        input: &[u8],
        end: bool,
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), ExtensionError>;

    /// Encodes an outbound message into `out` (which it clears first) and returns the RSV
    /// bits to set on its first frame, or `None` to send the message as it is (too small to
    /// be worth it, say).
    fn encode(&mut self, payload: &[u8], out: &mut Vec<u8>) -> Option<u8>;
}
