//! Events of coaching: a warning shown, a warning continued past, an access request filed.
//! The log lines of the last two are written where they happen (they name the request and
//! the app); these only count.

use super::InternalEvent;
use crate::telemetry::{CoachingStep, Metrics};

/// One coaching step happened.
pub struct Coached(pub CoachingStep);

impl InternalEvent for Coached {
    fn emit(self, metrics: &Metrics) {
        metrics.coaching.with(self.0).add(1);
    }
}
