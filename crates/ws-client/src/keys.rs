//! Mask keys from a per-connection CSPRNG, and key nonces from the operating system's random
//! source.

use rand_chacha::ChaCha12Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use ws_frame::MaskKeySource;

use crate::config::MaskFn;

/// Mask keys from ChaCha12 seeded from the OS once per connection: unpredictable to anyone
/// who does not know the seed (RFC 6455 §10.3), and a few nanoseconds per key where asking
/// the OS for each block of keys took about 30 % of the CPU of a batched 16-byte send.
/// ChaCha12 is `rand`'s standard generator; its keystream is produced 256 bytes at a time.
pub(crate) struct RandomKeys {
    rng: ChaCha12Rng,
}

impl RandomKeys {
    pub(crate) fn new() -> Self {
        let mut seed = [0; 32];
        fill_random(&mut seed);
        Self {
            rng: ChaCha12Rng::from_seed(seed),
        }
    }
}

/// Fills `buf` from the OS. The OS source failing is not something a client can work around;
/// the fallback mixes the clock and a counter so masking still varies (RFC 6455 §10.3 asks for
/// unpredictability from the application, which this keeps against a page script).
pub(crate) fn fill_random(buf: &mut [u8]) {
    if getrandom::fill(buf).is_err() {
        log::warn!("the OS random source failed; mask keys fall back to a clock-based mix");
        let mut x = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x9e37_79b9_7f4a_7c15, |d| d.as_nanos() as u64);
        for b in buf {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
    }
}

impl MaskKeySource for RandomKeys {
    #[inline]
    fn next_key(&mut self) -> [u8; 4] {
        self.rng.next_u32().to_ne_bytes()
    }
}

/// The session's key source: random, or the caller's function. One per connection, stored
/// inline in the session so drawing a key follows no pointer.
#[allow(
    clippy::large_enum_variant,
    reason = "one per connection, never moved on the hot path"
)]
pub(crate) enum Keys {
    Random(RandomKeys),
    Custom(MaskFn),
}

impl MaskKeySource for Keys {
    #[inline]
    fn next_key(&mut self) -> [u8; 4] {
        match self {
            Self::Random(r) => r.next_key(),
            Self::Custom(f) => {
                let mut f = f.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                f()
            }
        }
    }
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Random(_) => "Keys::Random",
            Self::Custom(_) => "Keys::Custom",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_vary_within_and_across_connections() {
        let mut a = RandomKeys::new();
        let mut b = RandomKeys::new();
        let from_a: Vec<[u8; 4]> = (0..1000).map(|_| a.next_key()).collect();
        let from_b: Vec<[u8; 4]> = (0..1000).map(|_| b.next_key()).collect();
        // Two seeds from the OS give two different streams.
        assert_ne!(from_a, from_b);
        // Within a stream, 1000 keys of 32 bits are all but certainly distinct.
        let mut unique = from_a.clone();
        unique.sort_unstable();
        unique.dedup();
        assert!(unique.len() >= 999, "{} distinct of 1000", unique.len());
    }
}
