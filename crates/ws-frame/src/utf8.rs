//! Incremental UTF-8 validation for text messages that arrive in pieces (RFC 6455 §8.1).

use crate::error::Error;

/// Validates a byte stream as UTF-8 piece by piece, failing on the first byte that cannot be
/// part of valid UTF-8, however the stream is split.
///
/// A code point cut by a chunk boundary is carried to the next [`feed`](Self::feed); a prefix
/// that can never become valid (such as `E0 80`) fails at once, not when the rest arrives. This
/// is what lets a connection fail a text message in the middle of a frame that is still
/// arriving (Autobahn cases 6.4.3 and 6.4.4). [`finish`](Self::finish) rejects a stream that
/// ends inside a sequence. The bulk of each chunk is checked with `simdutf8`.
///
/// ```
/// use ws_frame::{Error, Utf8Validator};
/// let euro = "€".as_bytes(); // E2 82 AC
/// let mut v = Utf8Validator::new();
/// v.feed(&euro[..1])?;
/// v.feed(&euro[1..])?;
/// v.finish()?;
///
/// v.feed(&euro[..2])?;
/// assert_eq!(v.finish(), Err(Error::TruncatedUtf8 { offset: 0 }));
///
/// assert_eq!(v.feed(b"ok\xe0\x80"), Err(Error::InvalidUtf8 { offset: 2 }));
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Utf8Validator {
    /// The bytes of an incomplete code point at the end of the input so far.
    partial: [u8; 4],
    partial_len: u8,
    /// Bytes accepted since the last reset, including `partial`.
    offset: u64,
}

impl Utf8Validator {
    /// A validator at the start of a stream.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            partial: [0; 4],
            partial_len: 0,
            offset: 0,
        }
    }

    /// Forgets everything fed so far.
    pub fn reset(&mut self) {
        *self = Self::new();
    }

    /// Bytes accepted since the last reset.
    #[must_use]
    pub const fn offset(&self) -> u64 {
        self.offset
    }

    /// `true` when the input so far ends on a code point boundary.
    #[must_use]
    pub const fn is_on_boundary(&self) -> bool {
        self.partial_len == 0
    }

    /// Validates the next piece of the stream.
    ///
    /// On error the offset counts bytes from the last reset to the start of the invalid
    /// sequence, and the validator must be reset before it is used again.
    pub fn feed(&mut self, mut input: &[u8]) -> Result<(), Error> {
        if self.partial_len > 0 {
            input = self.complete_partial(input)?;
            if self.partial_len > 0 {
                return Ok(());
            }
        }
        let split = incomplete_tail_start(input);
        let (body, tail) = input.split_at(split);
        if simdutf8::basic::from_utf8(body).is_err() {
            // Only on failure: the slower `compat` variant says where.
            let at = first_error(body);
            return Err(Error::InvalidUtf8 {
                offset: self.offset + at as u64,
            });
        }
        self.offset += body.len() as u64;
        if !tail.is_empty() {
            if let Err(e) = simdutf8::compat::from_utf8(tail) {
                if e.error_len().is_some() {
                    return Err(Error::InvalidUtf8 {
                        offset: self.offset + e.valid_up_to() as u64,
                    });
                }
            }
            self.partial[..tail.len()].copy_from_slice(tail);
            self.partial_len = tail.len() as u8;
            self.offset += tail.len() as u64;
        }
        Ok(())
    }

    /// Ends the stream: an error if it stopped inside a code point. Resets the validator either
    /// way.
    pub fn finish(&mut self) -> Result<(), Error> {
        let result = if self.partial_len > 0 {
            Err(Error::TruncatedUtf8 {
                offset: self.offset - u64::from(self.partial_len),
            })
        } else {
            Ok(())
        };
        self.reset();
        result
    }

    /// Adds bytes from `input` to the carried partial code point; returns the rest of `input`.
    fn complete_partial<'a>(&mut self, input: &'a [u8]) -> Result<&'a [u8], Error> {
        let have = usize::from(self.partial_len);
        let start = self.offset - have as u64;
        let need = sequence_len(self.partial[0]).saturating_sub(have);
        let take = need.min(input.len());
        self.partial[have..have + take].copy_from_slice(&input[..take]);
        let filled = have + take;
        match simdutf8::compat::from_utf8(&self.partial[..filled]) {
            Ok(_) => self.partial_len = 0,
            Err(e) if e.error_len().is_none() => self.partial_len = filled as u8,
            Err(_) => return Err(Error::InvalidUtf8 { offset: start }),
        }
        self.offset += take as u64;
        Ok(&input[take..])
    }
}

/// The length of the sequence a lead byte announces by its bit pattern (1 for ASCII and for
/// bytes that cannot lead; validation proper is simdutf8's job).
const fn sequence_len(lead: u8) -> usize {
    match lead {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        _ => 1,
    }
}

/// Where a possibly incomplete sequence at the end of `input` starts (`input.len()` when the
/// input ends on a boundary). Looks at the last three bytes at most.
fn incomplete_tail_start(input: &[u8]) -> usize {
    let len = input.len();
    let mut i = len;
    while i > 0 && len - i < 3 && input[i - 1] & 0xC0 == 0x80 {
        i -= 1;
    }
    match i.checked_sub(1) {
        Some(lead) if sequence_len(input[lead]) > len - lead => lead,
        _ => len,
    }
}

/// Offset of the first invalid sequence in `input`, which is known to be invalid.
fn first_error(input: &[u8]) -> usize {
    match simdutf8::compat::from_utf8(input) {
        Ok(_) => input.len(),
        Err(e) => e.valid_up_to(),
    }
}

/// The error for a complete message `data` that failed validation: invalid, or cut short at
/// the end.
#[cfg(feature = "alloc")]
pub(crate) fn utf8_error(data: &[u8]) -> Error {
    match simdutf8::compat::from_utf8(data) {
        Err(e) if e.error_len().is_none() => Error::TruncatedUtf8 {
            offset: e.valid_up_to() as u64,
        },
        Err(e) => Error::InvalidUtf8 {
            offset: e.valid_up_to() as u64,
        },
        Ok(_) => Error::InvalidUtf8 {
            offset: data.len() as u64,
        },
    }
}
