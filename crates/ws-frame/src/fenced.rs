//! The crate's only `unsafe` code, fenced in one module. Each use does what safe code can only
//! do with a second pass over the bytes, and each has the benchmark that justifies it in
//! docs/performance.md and a safe reference it is tested against:
//! - [`validated`]: text that was already validated, handed out without validating it again
//!   ("Text validated once");
//! - [`extend_masked`]: a payload appended to the output already masked, in one pass
//!   ("Masked in one pass"); tested against [`apply_mask_bytes`](crate::apply_mask_bytes).
//!
//! The tests of this module also run under Miri: `cargo +nightly miri test -p ws-frame --lib
//! fenced`.

use alloc::vec::Vec;
use core::mem::MaybeUninit;

use crate::mask::{BLOCK, key_word};

/// Already-validated text, without a second pass over it.
///
/// A message that arrived in several chunks was validated piece by piece as it came (so it
/// could fail at its first bad byte); checking the assembled bytes again doubled the cost of
/// large text messages (see docs/performance.md, "Text validated once").
///
/// The invariant both functions rely on: `bytes` are valid UTF-8 because they were checked
/// and have not changed since, in one of three ways:
/// - accepted whole by a [`Utf8Validator`](crate::Utf8Validator) from its reset to a
///   successful `finish`: the [`MessageAssembler`](crate::MessageAssembler) feeds every byte
///   it appends to its buffer, in order, and reports a text message with
///   `needs_utf8_check == false` only after `finish` succeeded;
/// - a message that came in one chunk, checked by `simdutf8` in the session's `make_ready`
///   before it becomes the current event;
/// - a frame that waited whole in the session's buffer: its first part fed to the session's
///   own validator as it arrived, the rest and `finish` in `make_ready` (moving the buffer's
///   bytes to its front copies them unchanged).
///
/// The callers are the session's `event` (through `Receiver::event_of`) and `take_text`,
/// only for the current event, which any new input clears. Debug builds (tests and the fuzz
/// targets) re-check with `core::str::from_utf8`.
pub(crate) mod validated {
    use alloc::string::String;
    use alloc::vec::Vec;

    /// `bytes` as `&str`. See the module's invariant.
    #[allow(unsafe_code)]
    pub(crate) fn str(bytes: &[u8]) -> &str {
        debug_assert!(core::str::from_utf8(bytes).is_ok());
        // SAFETY: the module's invariant: `bytes` is valid UTF-8.
        unsafe { core::str::from_utf8_unchecked(bytes) }
    }

    /// `bytes` as a `String`, without copying. See the module's invariant.
    #[allow(unsafe_code)]
    pub(crate) fn string(bytes: Vec<u8>) -> String {
        debug_assert!(core::str::from_utf8(&bytes).is_ok());
        // SAFETY: the module's invariant: `bytes` is valid UTF-8.
        unsafe { String::from_utf8_unchecked(bytes) }
    }
}

/// Appends `payload` to `out` masked with `key` (RFC 6455 §5.3, from payload offset 0),
/// reading each byte once and writing it once.
///
/// Safe code has to copy first and mask the copy in place (two passes over the bytes), or
/// fill the new room with zeros before writing it. Writing the masked words straight into
/// the vector's spare capacity made encoding a masked frame (`encode/masked_frame`) 27.4 →
/// 17.1 ns for 1 KiB and 1.52 → 0.81 µs for 64 KiB on the AMD EPYC of docs/performance.md.
#[inline]
#[allow(unsafe_code)]
pub(crate) fn extend_masked(out: &mut Vec<u8>, payload: &[u8], key: [u8; 4]) {
    out.reserve(payload.len());
    let len = out.len() + payload.len();
    mask_into(&mut out.spare_capacity_mut()[..payload.len()], payload, key);
    // SAFETY: `reserve` made room for `payload.len()` more bytes, and `mask_into` wrote every
    // one of the `payload.len()` bytes of spare capacity after the old length (see there), so
    // the first `len` bytes are initialized.
    unsafe { out.set_len(len) }
}

/// Writes `src` masked with `key` into `dst`, every element of it: `dst` and `src` have the
/// same length, and the three loops below cover them to the end: blocks as
/// [`apply_mask`](crate::apply_mask) masks them, then the 8-byte words left, then the 0–7
/// bytes left. Word and block lengths are multiples of 4, so the key phase is 0 at the start
/// of each.
#[inline(always)]
fn mask_into(dst: &mut [MaybeUninit<u8>], src: &[u8], key: [u8; 4]) {
    assert_eq!(dst.len(), src.len(), "mask_into needs equal lengths");
    let key_word = key_word(key);
    let mut dst_blocks = dst.chunks_exact_mut(BLOCK);
    let mut src_blocks = src.chunks_exact(BLOCK);
    for (d, s) in (&mut dst_blocks).zip(&mut src_blocks) {
        mask_words_into(d, s, key_word);
    }
    let (dst, src) = (dst_blocks.into_remainder(), src_blocks.remainder());
    let words = src.len() & !7;
    let (dst_words, dst_bytes) = dst.split_at_mut(words);
    let (src_words, src_bytes) = src.split_at(words);
    mask_words_into(dst_words, src_words, key_word);
    for (i, (d, s)) in dst_bytes.iter_mut().zip(src_bytes).enumerate() {
        d.write(s ^ key[i & 3]);
    }
}

/// Writes each 8-byte word of `src` (a multiple of 8 long, as `dst`) XORed with `key_word`:
/// the out-of-place twin of `apply_mask`'s word loop.
#[inline(always)]
fn mask_words_into(dst: &mut [MaybeUninit<u8>], src: &[u8], key_word: u64) {
    for (d, s) in dst.chunks_exact_mut(8).zip(src.chunks_exact(8)) {
        let mut word = [0u8; 8];
        word.copy_from_slice(s);
        let masked = (u64::from_ne_bytes(word) ^ key_word).to_ne_bytes();
        d.copy_from_slice(&masked.map(MaybeUninit::new));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply_mask_bytes;
    use alloc::vec;

    /// The reference: copy, then mask byte by byte.
    fn reference(out: &[u8], payload: &[u8], key: [u8; 4]) -> Vec<u8> {
        let mut expected = out.to_vec();
        let start = expected.len();
        expected.extend_from_slice(payload);
        apply_mask_bytes(&mut expected[start..], key, 0);
        expected
    }

    #[test]
    fn every_length_and_start_matches_the_reference() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        // Under Miri a shorter sweep: still every tail length and several whole blocks.
        let (lengths, starts) = if cfg!(miri) { (80, 5) } else { (200, 9) };
        let payload: Vec<u8> = (0..lengths).map(|i: u32| (i * 7 + 3) as u8).collect();
        for before in 0..starts {
            for len in 0..payload.len() {
                // Spare capacity with old bytes in it: none may survive.
                let mut out = vec![0xAAu8; before + len + 40];
                out.truncate(before);
                extend_masked(&mut out, &payload[..len], key);
                assert_eq!(
                    out,
                    reference(&vec![0xAA; before], &payload[..len], key),
                    "{before} bytes before, {len} masked"
                );
            }
        }
    }

    #[test]
    fn validated_text_is_handed_out_unchanged() {
        let text = "héllo, wörld ✓";
        assert_eq!(validated::str(text.as_bytes()), text);
        assert_eq!(validated::string(text.as_bytes().to_vec()), text);
    }

    #[test]
    fn grows_the_vector_when_it_is_full() {
        let key = [1, 2, 3, 4];
        let payload = vec![0x5Au8; 1000];
        let mut out = Vec::new();
        for _ in 0..3 {
            extend_masked(&mut out, &payload, key);
        }
        let mut expected = Vec::new();
        for _ in 0..3 {
            expected = reference(&expected, &payload, key);
        }
        assert_eq!(out, expected);
    }

    #[test]
    fn unmasking_gives_the_payload_back() {
        let key = [0x9c, 0x00, 0xff, 0x41];
        let payload: Vec<u8> = (0..=255u8).cycle().take(4099).collect();
        let mut out = vec![0x81, 0x80];
        extend_masked(&mut out, &payload, key);
        crate::apply_mask(&mut out[2..], key, 0);
        assert_eq!(&out[2..], payload.as_slice());
    }
}
