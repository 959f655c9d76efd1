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
