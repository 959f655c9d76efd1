//! Mask keys and key nonces from the operating system's random source.

use ws_frame::MaskKeySource;

use crate::config::MaskFn;

/// Keys drawn from the OS in blocks of 64, so a small message costs no system call.
pub(crate) struct RandomKeys {
    block: [u8; 256],
    used: usize,
}

impl RandomKeys {
    pub(crate) fn new() -> Self {
        Self {
            block: [0; 256],
            used: 256,
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
    fn next_key(&mut self) -> [u8; 4] {
        if self.used == self.block.len() {
            fill_random(&mut self.block);
            self.used = 0;
        }
        let mut key = [0; 4];
        key.copy_from_slice(&self.block[self.used..self.used + 4]);
        self.used += 4;
        key
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
