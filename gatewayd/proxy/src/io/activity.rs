//! Idleness counted in requests, not bytes: a client connection that has had no request in
//! flight for `timeouts.idle` is closed, even when the client keeps it "alive" with HTTP/2
//! PINGs or TCP keep-alives that [`super::IdleTimeout`] would count as activity.
//!
//! A request is in flight from the moment its head arrives until its response body ends or
//! is dropped ([`HoldBody`] carries the [`InFlight`] guard), so long responses — event
//! streams, large downloads — are never cut by this timer.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::time::Instant;

/// Requests in flight on one connection, and when the last one finished.
pub struct Activity {
    state: Mutex<State>,
}

struct State {
    in_flight: usize,
    /// Requests begun on the connection so far.
    begun: u64,
    quiet_since: Instant,
}

/// One request in flight; finishing (dropping) it restarts the idle clock when it was the last.
pub struct InFlight(Arc<Activity>);

impl Activity {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State {
                in_flight: 0,
                begun: 0,
                quiet_since: Instant::now(),
            }),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is two plain fields: a panic elsewhere cannot leave it torn.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Marks a request as started.
    pub fn begin(self: &Arc<Self>) -> InFlight {
        let mut state = self.state();
        state.in_flight += 1;
        state.begun += 1;
        drop(state);
        InFlight(self.clone())
    }

    /// Since when no request has been in flight (`None` while one is).
    pub fn quiet_since(&self) -> Option<Instant> {
        let state = self.state();
        (state.in_flight == 0).then_some(state.quiet_since)
    }

    /// How many requests have begun on the connection.
    pub fn begun(&self) -> u64 {
        self.state().begun
    }

    /// Resolves once no request has been in flight for `idle`.
    pub async fn idle_for(&self, idle: Duration) {
        loop {
            let due = {
                let state = self.state();
                (state.in_flight == 0).then_some(state.quiet_since + idle)
            };
            match due {
                Some(due) if due <= Instant::now() => return,
                Some(due) => tokio::time::sleep_until(due).await,
                // Busy: look again later; a finishing request moves `quiet_since` forward.
                None => tokio::time::sleep(idle).await,
            }
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut state = self.0.state();
        state.in_flight = state.in_flight.saturating_sub(1);
        state.quiet_since = Instant::now();
    }
}

pin_project_lite::pin_project! {
    /// A body that keeps `held` alive until it ends or is dropped.
    pub struct HoldBody<B, T> {
        #[pin]
        inner: B,
        held: Option<T>,
    }
}

impl<B, T> HoldBody<B, T> {
    pub fn new(inner: B, held: T) -> Self {
        Self {
            inner,
            held: Some(held),
        }
    }
}

impl<B: Body<Data = Bytes>, T> Body for HoldBody<B, T> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(cx);
        if matches!(polled, Poll::Ready(None) | Poll::Ready(Some(Err(_)))) {
            this.held.take();
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn idle_counts_from_the_last_request_not_from_bytes() {
        let activity = Activity::new();
        let request = activity.begin();
        let idle = Duration::from_secs(5);
        let waiting = tokio::time::timeout(Duration::from_secs(60), activity.idle_for(idle));
        tokio::pin!(waiting);
        // In flight for 20 s: never idle.
        assert!(
            tokio::time::timeout(Duration::from_secs(20), &mut waiting)
                .await
                .is_err(),
            "a request in flight is not idle"
        );
        drop(request);
        let started = Instant::now();
        waiting.await.expect("idle after the request ended");
        assert!(Instant::now() - started >= idle);
    }
}
