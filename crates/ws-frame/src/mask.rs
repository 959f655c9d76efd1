//! Payload masking (RFC 6455 §5.3), word at a time, in safe code.

/// XORs `buf` with the 4-byte masking `key`, as if `buf` started `offset` bytes into the payload.
///
/// Masking is its own inverse, so the same call unmasks. The `offset` makes the operation
/// resumable: masking a payload in pieces, each with the offset of its first byte, gives the
/// same result as masking it whole. Only `offset % 4` matters.
///
/// The bulk of the buffer is processed 32 bytes at a time as four `u64` words, which the
/// compiler turns into vector instructions, the rest 8 bytes at a time, and the last 0–7 bytes
/// one by one; no `unsafe` is needed for that.
///
/// ```
/// use ws_frame::apply_mask;
/// let key = [0x37, 0xfa, 0x21, 0x3d];
/// let mut data = *b"Hello";
/// apply_mask(&mut data, key, 0);
/// assert_eq!(data, [0x7f, 0x9f, 0x4d, 0x51, 0x58]); // RFC 6455 §5.7
/// // Unmask in two pieces: the second starts at payload offset 2.
/// let (a, b) = data.split_at_mut(2);
/// apply_mask(a, key, 0);
/// apply_mask(b, key, 2);
/// assert_eq!(&data, b"Hello");
/// ```
#[inline]
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], offset: usize) {
    let key = rotate_key(key, offset);
    let key_word = key_word(key);
    // Blocks and words are multiples of 4 bytes, so the key phase never changes between them.
    let mut blocks = buf.chunks_exact_mut(BLOCK);
    for block in &mut blocks {
        xor_words(block, key_word);
    }
    let mut words = blocks.into_remainder().chunks_exact_mut(8);
    for word in &mut words {
        xor_words(word, key_word);
    }
    apply_mask_bytes(words.into_remainder(), key, 0);
}

/// The bytes masked at a time as four `u64` words, which the compiler turns into vector
/// instructions (it unrolls the loop over them to 64 bytes).
pub(crate) const BLOCK: usize = 32;

/// `key` twice over, to XOR 8 payload bytes at a time that start at key phase 0.
pub(crate) const fn key_word(key: [u8; 4]) -> u64 {
    u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ])
}

/// XORs every 8-byte word of `bytes` (a multiple of 8 long) with `key_word`.
#[inline(always)]
fn xor_words(bytes: &mut [u8], key_word: u64) {
    for word in bytes.chunks_exact_mut(8) {
        let mut value = [0u8; 8];
        value.copy_from_slice(word);
        word.copy_from_slice(&(u64::from_ne_bytes(value) ^ key_word).to_ne_bytes());
    }
}

/// The byte-at-a-time reference: `buf[i] ^= key[(offset + i) % 4]`.
///
/// Kept public as the specification [`apply_mask`] is tested and benchmarked against.
#[inline]
pub fn apply_mask_bytes(buf: &mut [u8], key: [u8; 4], offset: usize) {
    for (i, byte) in buf.iter_mut().enumerate() {
        *byte ^= key[(offset + i) & 3];
    }
}

/// The key as seen from payload offset `offset`: byte `i` of the result masks byte
/// `offset + i` of the payload.
#[inline]
const fn rotate_key(key: [u8; 4], offset: usize) -> [u8; 4] {
    let o = offset & 3;
    [key[o], key[(o + 1) & 3], key[(o + 2) & 3], key[(o + 3) & 3]]
}
