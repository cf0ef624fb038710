//! WebSocket messages a client sends to an AI app, inspected frame by frame when the policy
//! asks for a DLP scan: text and binary messages are reassembled (bounded), scanned, and
//! forwarded unchanged when clean; control frames (ping, pong, close) are scanned too, since
//! their payloads reach the app. A message that matches closes both sides with 1008 (policy
//! violation) instead of reaching the app. Server-to-client traffic is never touched.
//!
//! Only what can be scanned is relayed: a frame with reserved bits set (the gateway removes
//! `permessage-deflate` from the handshake when it scans, so compressed bytes are never
//! mistaken for text), a continuation with no message to continue, a reserved opcode, an
//! unmasked or fragmented control frame all close the connection with 1002 (protocol error).

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Largest message reassembled for scanning; a longer one is refused (1009).
pub const MAX_MESSAGE: usize = 1024 * 1024;

/// Why the client→app direction ended.
#[derive(Debug, PartialEq, Eq)]
pub enum FrameOutcome {
    /// The client closed or the connection ended normally.
    Closed,
    /// A message matched the scanner; its description (detectors) is given.
    Blocked(String),
    /// A message exceeded [`MAX_MESSAGE`].
    TooLarge,
    /// The client broke RFC 6455 in a way that could hide data from the scanner.
    Protocol(&'static str),
}

/// Copies client frames to `upstream`, scanning every message and control payload with
/// `scan` (which returns a description when the bytes must not pass; its flag is true for a
/// data message, false for a control payload).
pub async fn relay_client_frames<R, W, F>(
    mut client: R,
    mut upstream: W,
    scan: F,
) -> io::Result<FrameOutcome>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
    F: Fn(&[u8], bool) -> Option<String>,
{
    let mut message: Vec<u8> = Vec::new();
    let mut held: Vec<u8> = Vec::new();
    let mut in_message = false;
    loop {
        let mut head = [0u8; 2];
        match client.read_exact(&mut head).await {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(FrameOutcome::Closed),
            Err(e) => return Err(e),
        }
        let fin = head[0] & 0x80 != 0;
        let opcode = head[0] & 0x0f;
        let masked = head[1] & 0x80 != 0;
        let control = opcode >= 8;
        if let Some(violation) = violation(head[0], masked, in_message) {
            return Ok(FrameOutcome::Protocol(violation));
        }
        let mut header = head.to_vec();
        let len = match head[1] & 0x7f {
            126 => {
                let mut ext = [0u8; 2];
                client.read_exact(&mut ext).await?;
                header.extend_from_slice(&ext);
                u64::from(u16::from_be_bytes(ext))
            }
            127 => {
                let mut ext = [0u8; 8];
                client.read_exact(&mut ext).await?;
                header.extend_from_slice(&ext);
                u64::from_be_bytes(ext)
            }
            n => u64::from(n),
        };
        if control && len > 125 {
            return Ok(FrameOutcome::Protocol(
                "a control frame longer than 125 bytes",
            ));
        }
        if len > MAX_MESSAGE as u64
            || (held.len() as u64).saturating_add(len) > 2 * MAX_MESSAGE as u64
        {
            return Ok(FrameOutcome::TooLarge);
        }
        let mut mask = [0u8; 4];
        client.read_exact(&mut mask).await?;
        header.extend_from_slice(&mask);
        let mut payload = vec![0u8; len as usize];
        client.read_exact(&mut payload).await?;
        let unmasked = payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]);
        if control {
            let plain: Vec<u8> = unmasked.collect();
            // A close frame's first two bytes are its code; the reason follows.
            let text = if opcode == 8 {
                plain.get(2..).unwrap_or_default()
            } else {
                &plain[..]
            };
            if let Some(reason) = scan(text, false) {
                return Ok(FrameOutcome::Blocked(reason));
            }
            upstream.write_all(&header).await?;
            upstream.write_all(&payload).await?;
            if opcode == 8 {
                return Ok(FrameOutcome::Closed);
            }
            continue;
        }
        if message.len().saturating_add(payload.len()) > MAX_MESSAGE {
            return Ok(FrameOutcome::TooLarge);
        }
        message.extend(unmasked);
        // Fragments are held back until the whole message has been scanned.
        held.extend_from_slice(&header);
        held.extend_from_slice(&payload);
        in_message = !fin;
        if !fin {
            continue;
        }
        if let Some(reason) = scan(&message, true) {
            return Ok(FrameOutcome::Blocked(reason));
        }
        message.clear();
        upstream.write_all(&held).await?;
        held.clear();
    }
}

/// Why a frame whose first byte is `first` cannot be relayed under inspection, if it cannot.
fn violation(first: u8, masked: bool, in_message: bool) -> Option<&'static str> {
    let fin = first & 0x80 != 0;
    let opcode = first & 0x0f;
    if first & 0x70 != 0 {
        return Some("reserved bits set that were not negotiated");
    }
    if !masked {
        return Some("an unmasked client frame");
    }
    match opcode {
        0 if !in_message => Some("a continuation frame with no message to continue"),
        1 | 2 if in_message => Some("a new message before the last one ended"),
        0..=2 => None,
        8..=10 if !fin => Some("a fragmented control frame"),
        8..=10 => None,
        _ => Some("a reserved opcode"),
    }
}

/// A close frame with `code` as a server sends it (unmasked).
pub fn server_close(code: u16) -> Vec<u8> {
    let [a, b] = code.to_be_bytes();
    vec![0x88, 0x02, a, b]
}

/// A close frame with `code` as a client sends it (masked, as RFC 6455 requires).
pub fn client_close(code: u16) -> Vec<u8> {
    let mask: [u8; 4] = rand::random();
    let [a, b] = code.to_be_bytes();
    vec![
        0x88,
        0x82,
        mask[0],
        mask[1],
        mask[2],
        mask[3],
        a ^ mask[0],
        b ^ mask[1],
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(opcode: u8, fin: bool, text: &[u8]) -> Vec<u8> {
        let mask = [1u8, 2, 3, 4];
        let mut out = vec![
            (if fin { 0x80 } else { 0 }) | opcode,
            0x80 | text.len() as u8,
        ];
        out.extend_from_slice(&mask);
        out.extend(text.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        out
    }

    #[tokio::test]
    async fn clean_messages_pass_and_a_matching_one_stops() {
        let mut input = frame(1, true, b"hello");
        input.extend(frame(1, false, b"secret "));
        input.extend(frame(0, true, b"KEY"));
        input.extend(frame(1, true, b"never sent"));
        let mut out = Vec::new();
        let outcome = relay_client_frames(&input[..], &mut out, |t, _| {
            String::from_utf8_lossy(t)
                .contains("secret KEY")
                .then(|| "keyword".to_string())
        })
        .await
        .unwrap();
        assert_eq!(outcome, FrameOutcome::Blocked("keyword".into()));
        assert_eq!(
            out,
            frame(1, true, b"hello"),
            "only the clean message went upstream"
        );
    }

    fn card(t: &[u8], _data: bool) -> Option<String> {
        String::from_utf8_lossy(t)
            .contains("4539")
            .then(|| "card".to_string())
    }

    #[tokio::test]
    async fn binary_and_control_payloads_are_scanned() {
        for input in [
            frame(2, true, b"card 4539"),
            frame(9, true, b"card 4539"),
            frame(10, true, b"card 4539"),
            frame(8, true, b"\x03\xe8card 4539"),
        ] {
            let mut out = Vec::new();
            let outcome = relay_client_frames(&input[..], &mut out, card)
                .await
                .unwrap();
            assert_eq!(outcome, FrameOutcome::Blocked("card".into()), "{input:?}");
            assert!(out.is_empty());
        }
        let mut out = Vec::new();
        let outcome = relay_client_frames(&frame(9, true, b"ping")[..], &mut out, card)
            .await
            .unwrap();
        assert_eq!(outcome, FrameOutcome::Closed);
        assert_eq!(out, frame(9, true, b"ping"), "a clean ping passes");
    }

    #[tokio::test]
    async fn frames_that_could_hide_data_close_the_connection() {
        let mut compressed = frame(1, true, b"x");
        compressed[0] |= 0x40;
        let mut unmasked = frame(1, true, b"x");
        unmasked[1] &= 0x7f;
        let mut two_starts = frame(1, false, b"a");
        two_starts.extend(frame(2, true, b"b"));
        for input in [
            compressed,
            unmasked,
            frame(0, true, b"card 4539"),
            two_starts,
            frame(3, true, b"x"),
            frame(9, false, b"x"),
        ] {
            let mut out = Vec::new();
            let outcome = relay_client_frames(&input[..], &mut out, card)
                .await
                .unwrap();
            assert!(matches!(outcome, FrameOutcome::Protocol(_)), "{input:?}");
            assert!(out.is_empty(), "nothing reached the app");
        }
    }

    #[tokio::test]
    async fn oversized_and_truncated_frames_do_not_panic() {
        let huge = [0x81u8, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        let mut out = Vec::new();
        let outcome = relay_client_frames(&huge[..], &mut out, |_, _| None)
            .await
            .unwrap();
        assert_eq!(outcome, FrameOutcome::TooLarge);
        let cut = [0x81u8, 0x85, 1, 2];
        assert!(relay_client_frames(&cut[..], &mut out, |_, _| None)
            .await
            .is_err());
    }
}
