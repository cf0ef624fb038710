//! WebSocket messages a client sends to an AI app, inspected frame by frame when the policy
//! asks for a DLP scan: text messages are reassembled (bounded), scanned, and forwarded
//! unchanged when clean; a message that matches closes both sides with 1008 (policy
//! violation) instead of reaching the app. Server-to-client traffic is never touched.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Largest text message reassembled for scanning; a longer one is refused (1009).
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
}

/// Copies client frames to `upstream`, scanning text messages with `scan` (which returns a
/// description when the message must not pass).
pub async fn relay_client_frames<R, W, F>(
    mut client: R,
    mut upstream: W,
    scan: F,
) -> io::Result<FrameOutcome>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
    F: Fn(&str) -> Option<String>,
{
    let mut message: Vec<u8> = Vec::new();
    let mut held: Vec<u8> = Vec::new();
    let mut in_text = false;
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
        if len > MAX_MESSAGE as u64
            || (held.len() as u64).saturating_add(len) > 2 * MAX_MESSAGE as u64
        {
            return Ok(FrameOutcome::TooLarge);
        }
        let mut mask = [0u8; 4];
        if masked {
            client.read_exact(&mut mask).await?;
            header.extend_from_slice(&mask);
        }
        let mut payload = vec![0u8; len as usize];
        client.read_exact(&mut payload).await?;
        let is_text_data = opcode == 1 || (opcode == 0 && in_text);
        if is_text_data {
            in_text = !fin;
            message.extend(payload.iter().enumerate().map(|(i, b)| {
                if masked {
                    b ^ mask[i % 4]
                } else {
                    *b
                }
            }));
            // Fragments are held back until the whole message has been scanned.
            held.extend_from_slice(&header);
            held.extend_from_slice(&payload);
            if !fin {
                continue;
            }
            let text = String::from_utf8_lossy(&message).into_owned();
            message.clear();
            if let Some(reason) = scan(&text) {
                return Ok(FrameOutcome::Blocked(reason));
            }
            upstream.write_all(&held).await?;
            held.clear();
            continue;
        }
        upstream.write_all(&header).await?;
        upstream.write_all(&payload).await?;
        if opcode == 8 {
            return Ok(FrameOutcome::Closed);
        }
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
        let outcome = relay_client_frames(&input[..], &mut out, |t| {
            t.contains("secret KEY").then(|| "keyword".to_string())
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

    #[tokio::test]
    async fn oversized_and_truncated_frames_do_not_panic() {
        let huge = [0x81u8, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        let mut out = Vec::new();
        let outcome = relay_client_frames(&huge[..], &mut out, |_| None)
            .await
            .unwrap();
        assert_eq!(outcome, FrameOutcome::TooLarge);
        let cut = [0x81u8, 0x85, 1, 2];
        assert!(relay_client_frames(&cut[..], &mut out, |_| None)
            .await
            .is_err());
    }
}
