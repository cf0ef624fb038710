//! Client→app WebSocket frames, inspected when the policy asks for a DLP scan.

use proxy::inspect::websocket::{relay_client_frames, FrameOutcome};

/// The word the drivers' scanner refuses.
pub const REFUSED: &str = "secret";

/// Relays `data` as client frames with a scanner that refuses [`REFUSED`]. Nothing is invented
/// (the app gets at most the input), and what reached the app is clean: relayed again, it
/// passes whole and unchanged.
pub fn websocket_frames(data: &[u8]) -> Option<FrameOutcome> {
    let (outcome, forwarded) = relay(data);
    assert!(forwarded.len() <= data.len());
    let (again, reforwarded) = relay(&forwarded);
    assert!(
        matches!(again, Some(FrameOutcome::Closed)),
        "what the app got relays to {again:?}"
    );
    assert_eq!(
        reforwarded, forwarded,
        "the forwarded frames change when relayed again"
    );
    outcome
}

fn relay(input: &[u8]) -> (Option<FrameOutcome>, Vec<u8>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    let mut forwarded = Vec::new();
    let scan = |message: &[u8], _data: bool| {
        assert!(message.len() <= 2 * proxy::inspect::websocket::MAX_MESSAGE * 3);
        message
            .windows(REFUSED.len())
            .any(|w| w == REFUSED.as_bytes())
            .then(|| "keyword".to_string())
    };
    let outcome = runtime
        .block_on(relay_client_frames(input, &mut forwarded, scan))
        .ok();
    (outcome, forwarded)
}
