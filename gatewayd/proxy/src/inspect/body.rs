//! Buffering a request body for inspection, never beyond `max_body_bytes`, never longer
//! than `body_timeout`, and never without the gateway-wide budget (`max_buffered_bytes`)
//! covering what is kept.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body::Body;
use http_body_util::BodyExt;

use super::budget::BudgetHold;

/// Why a body could not be inspected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unscannable {
    #[error("the body is larger than the inspection limit of {limit} bytes")]
    TooLarge { limit: usize },
    #[error("the body did not arrive within {0:?}")]
    Timeout(Duration),
    #[error("the body could not be read: {0}")]
    Unreadable(String),
    /// The gateway-wide inspection budget stayed in use for the whole wait.
    #[error("the gateway's inspection memory was in use by other requests")]
    Budget,
}

/// The outcome of buffering: the whole body, or why not — with what was read and the rest of
/// the body, so a caller allowed to forward an unscanned body still can.
pub enum Collected<B> {
    Whole(Bytes),
    Partial {
        reason: Unscannable,
        read: Bytes,
        rest: Option<B>,
    },
}

/// Reads the whole body, stopping once it passes `limit` bytes or `timeout` passes, or when
/// `hold` cannot grow to cover what was read. A declared length is covered before the first
/// byte is read, so that bodies waiting for budget wait before they take memory (charged by
/// bytes received, forty bodies each holding a part starve one another); what one owner can
/// reserve so is bounded by its share of the budget.
pub async fn collect_bounded<B>(
    mut body: B,
    limit: usize,
    timeout: Duration,
    hold: &mut BudgetHold,
) -> Collected<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    let deadline = tokio::time::Instant::now() + timeout;
    let mut buf = BytesMut::new();
    let declared = body
        .size_hint()
        .exact()
        .and_then(|n| usize::try_from(n).ok());
    if let Some(declared) = declared {
        if hold
            .cover(declared.min(limit.saturating_add(1)))
            .await
            .is_err()
        {
            return Collected::Partial {
                reason: Unscannable::Budget,
                read: buf.freeze(),
                rest: Some(body),
            };
        }
    }
    loop {
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => {
                return Collected::Partial {
                    reason: Unscannable::Timeout(timeout),
                    read: buf.freeze(),
                    rest: Some(body),
                }
            }
            Ok(None) => return Collected::Whole(buf.freeze()),
            Ok(Some(Err(e))) => {
                return Collected::Partial {
                    reason: Unscannable::Unreadable(e.to_string()),
                    read: buf.freeze(),
                    rest: None,
                }
            }
            Ok(Some(Ok(frame))) => frame,
        };
        if let Some(data) = frame.data_ref() {
            let kept = buf.len().saturating_add(data.len());
            if hold.cover(kept).await.is_err() {
                buf.extend_from_slice(data);
                return Collected::Partial {
                    reason: Unscannable::Budget,
                    read: buf.freeze(),
                    rest: Some(body),
                };
            }
            buf.extend_from_slice(data);
            if buf.len() > limit {
                return Collected::Partial {
                    reason: Unscannable::TooLarge { limit },
                    read: buf.freeze(),
                    rest: Some(body),
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::Full;

    #[tokio::test]
    async fn stops_at_the_limit() {
        let body = Full::new(Bytes::from(vec![0u8; 100]));
        match collect_bounded(
            body,
            10,
            Duration::from_secs(1),
            &mut BudgetHold::unlimited(),
        )
        .await
        {
            Collected::Partial { reason, read, .. } => {
                assert_eq!(reason, Unscannable::TooLarge { limit: 10 });
                assert_eq!(read.len(), 100, "what was read is kept for forwarding");
            }
            Collected::Whole(_) => panic!("over the limit"),
        }
        let body = Full::new(Bytes::from_static(b"hello"));
        match collect_bounded(
            body,
            10,
            Duration::from_secs(1),
            &mut BudgetHold::unlimited(),
        )
        .await
        {
            Collected::Whole(bytes) => assert_eq!(bytes, Bytes::from_static(b"hello")),
            Collected::Partial { .. } => panic!("under the limit"),
        }
    }
}
