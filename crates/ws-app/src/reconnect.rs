//! What happens after a connection ends or fails to open: nothing, a fixed delay (Python's
//! `reconnect=N`), or exponential backoff with full jitter.

use std::time::Duration;

/// Whether and when [`WebSocketApp::run_forever`](crate::WebSocketApp::run_forever)
/// reconnects after the server closed, the connection dropped, or a connect attempt failed.
/// A close asked for with [`AppHandle::close`](crate::AppHandle::close) never reconnects.
///
/// ```
/// use std::time::Duration;
/// use ws_app::{Backoff, Reconnect};
/// let python = Reconnect::Fixed(Duration::from_secs(5));   // run_forever(reconnect=5)
/// let better = Reconnect::Backoff(Backoff::default());    // 1 s doubling to 60 s, full jitter
/// assert_eq!(Reconnect::default(), Reconnect::Never);     // as Python's default
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[non_exhaustive]
pub enum Reconnect {
    /// `run_forever` returns when the connection ends (Python's default).
    #[default]
    Never,
    /// Wait this long, then reconnect, every time (Python's `reconnect=N`).
    Fixed(Duration),
    /// Exponential backoff with full jitter.
    Backoff(Backoff),
}

/// Exponential backoff with full jitter: before attempt `n` (counting from 0) the app waits a
/// uniformly random time between zero and `min(max, initial × multiplier^n)`, so many clients
/// cut off at once do not all return at once. A connection that stayed open for `reset_after`
/// starts the count again.
///
/// ```
/// use std::time::Duration;
/// use ws_app::Backoff;
/// let backoff = Backoff::default();
/// // The ceiling doubles from 1 s and stops at 60 s; the delay is a random fraction of it.
/// assert_eq!(backoff.ceiling(0), Duration::from_secs(1));
/// assert_eq!(backoff.ceiling(3), Duration::from_secs(8));
/// assert_eq!(backoff.ceiling(30), Duration::from_secs(60));
/// assert_eq!(backoff.delay(3, 0.5), Duration::from_secs(4));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backoff {
    /// The ceiling of the first delay. Default 1 s.
    pub initial: Duration,
    /// The largest ceiling. Default 60 s.
    pub max: Duration,
    /// How much the ceiling grows per attempt. Default 2.
    pub multiplier: f64,
    /// A connection that stayed open this long resets the attempt count. Default 30 s.
    pub reset_after: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(60),
            multiplier: 2.0,
            reset_after: Duration::from_secs(30),
        }
    }
}

impl Backoff {
    /// The most the app waits before attempt `attempt` (0 for the first reconnect).
    #[must_use]
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let grown =
            self.initial.as_secs_f64() * self.multiplier.max(1.0).powi(attempt.min(1000) as i32);
        let max = self.max.as_secs_f64();
        Duration::from_secs_f64(grown.min(max).max(0.0))
    }

    /// The wait before attempt `attempt` for a random draw `unit` in `[0, 1)`: full jitter,
    /// `unit × ceiling(attempt)`.
    #[must_use]
    pub fn delay(&self, attempt: u32, unit: f64) -> Duration {
        self.ceiling(attempt).mul_f64(unit.clamp(0.0, 1.0))
    }
}

impl Reconnect {
    /// The wait before reconnect attempt `attempt`, given a random draw in `[0, 1)`; `None`
    /// when the app does not reconnect.
    #[must_use]
    pub fn delay(&self, attempt: u32, unit: f64) -> Option<Duration> {
        match self {
            Self::Never => None,
            Self::Fixed(delay) => Some(*delay),
            Self::Backoff(backoff) => Some(backoff.delay(attempt, unit)),
        }
    }

    /// Whether a connection that stayed open for `open_for` resets the attempt count.
    pub(crate) fn resets_after(&self, open_for: Duration) -> bool {
        match self {
            Self::Backoff(backoff) => open_for >= backoff.reset_after,
            Self::Never | Self::Fixed(_) => true,
        }
    }
}

/// A random draw in `[0, 1)` from the operating system (for jitter; no need for a CSPRNG, but
/// it is there). The clock is the fallback when the OS source fails.
pub(crate) fn unit_random() -> f64 {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        bytes = u64::from(nanos)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .to_le_bytes();
    }
    // 53 random bits, the precision of an f64 in [0, 1).
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_jitter_stays_under_a_growing_capped_ceiling() {
        let backoff = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(5),
            multiplier: 3.0,
            reset_after: Duration::from_secs(10),
        };
        let mut previous = Duration::ZERO;
        for attempt in 0..40 {
            let ceiling = backoff.ceiling(attempt);
            assert!(ceiling >= previous && ceiling <= Duration::from_secs(5));
            previous = ceiling;
            for unit in [0.0, 0.25, 0.999_999] {
                assert!(backoff.delay(attempt, unit) <= ceiling);
            }
            assert_eq!(backoff.delay(attempt, 0.0), Duration::ZERO);
        }
        assert_eq!(backoff.ceiling(1), Duration::from_millis(300));
        assert_eq!(backoff.ceiling(u32::MAX), Duration::from_secs(5));
    }

    #[test]
    fn the_policy_decides_the_wait_and_the_reset() {
        assert_eq!(Reconnect::Never.delay(0, 0.5), None);
        let fixed = Reconnect::Fixed(Duration::from_secs(5));
        assert_eq!(fixed.delay(7, 0.1), Some(Duration::from_secs(5)));
        let backoff = Reconnect::Backoff(Backoff::default());
        assert_eq!(backoff.delay(1, 0.5), Some(Duration::from_secs(1)));
        assert!(!backoff.resets_after(Duration::from_secs(29)));
        assert!(backoff.resets_after(Duration::from_secs(30)));
    }

    #[test]
    fn random_draws_are_in_the_unit_interval() {
        for _ in 0..1000 {
            let u = unit_random();
            assert!((0.0..1.0).contains(&u));
        }
    }
}
