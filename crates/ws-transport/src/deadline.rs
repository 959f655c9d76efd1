//! Time limits for a whole operation (a write, a proxy exchange, a TLS handshake), not for
//! each system call in it: a peer that sends one byte a second cannot stretch them.

use std::io;
use std::time::{Duration, Instant};

use crate::error::ShowDuration;

/// A time limit for one operation.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Deadline {
    timeout: Option<Duration>,
    at: Option<Instant>,
}

impl Deadline {
    /// Starts counting the first time it is asked about, so an operation that never has to
    /// wait never reads the clock.
    pub(crate) const fn new(timeout: Option<Duration>) -> Self {
        Self { timeout, at: None }
    }

    /// Starts counting now.
    pub(crate) fn started(timeout: Option<Duration>) -> Self {
        Self {
            timeout,
            at: timeout.map(|t| Instant::now() + t),
        }
    }

    /// Counting from `start`, a moment already past.
    #[cfg(feature = "tls")]
    pub(crate) fn started_at(start: Instant, timeout: Option<Duration>) -> Self {
        Self {
            timeout,
            at: timeout.map(|t| start + t),
        }
    }

    /// Whichever of the two ends first (one without a limit never ends), counting from when
    /// each was started.
    pub(crate) fn sooner(self, other: Self) -> Self {
        match (self.at, other.at) {
            (Some(mine), Some(theirs)) if theirs < mine => other,
            (None, Some(_)) => other,
            _ => self,
        }
    }

    /// The limit as given.
    pub(crate) const fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// The time left (`None`: no limit), or a `TimedOut` error once it has run out.
    pub(crate) fn remaining(&mut self) -> io::Result<Option<Duration>> {
        let Some(timeout) = self.timeout else {
            return Ok(None);
        };
        let now = Instant::now();
        let at = *self.at.get_or_insert(now + timeout);
        match at.checked_duration_since(now) {
            Some(left) if !left.is_zero() => Ok(Some(left)),
            _ => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("timed out after {}", ShowDuration(timeout)),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sooner_is_the_deadline_that_ends_first() {
        let short = Deadline::started(Some(Duration::from_secs(1)));
        let long = Deadline::started(Some(Duration::from_secs(5)));
        let none = Deadline::started(None);
        for (a, b) in [(short, long), (long, short), (short, none), (none, short)] {
            assert_eq!(a.sooner(b).timeout(), Some(Duration::from_secs(1)));
        }
        assert_eq!(none.sooner(none).timeout(), None);
        // A limit started earlier can end first though it is longer.
        let early = Deadline::started(Some(Duration::from_millis(30)));
        std::thread::sleep(Duration::from_millis(25));
        let late = Deadline::started(Some(Duration::from_millis(20)));
        assert_eq!(
            early.sooner(late).timeout(),
            Some(Duration::from_millis(30))
        );
    }
}
