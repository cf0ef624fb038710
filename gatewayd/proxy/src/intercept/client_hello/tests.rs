use std::sync::Arc;

use super::*;

/// A ClientHello exactly as rustls (a real TLS client) writes it.
fn real_client_hello(server_name: &str, alpn: &[&[u8]]) -> Vec<u8> {
    let roots = rustls::RootCertStore::empty();
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let name = rustls_pki_types::ServerName::try_from(server_name.to_string()).unwrap();
    let mut conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let mut out = Vec::new();
    while conn.wants_write() {
        conn.write_tls(&mut out).unwrap();
    }
    out
}

/// Re-frames one record's handshake payload into records of at most `size` bytes.
fn fragment(record: &[u8], size: usize) -> Vec<u8> {
    let payload = &record[5..];
    let mut out = Vec::new();
    for chunk in payload.chunks(size) {
        out.extend_from_slice(&[0x16, 0x03, 0x01]);
        out.extend_from_slice(&(chunk.len() as u16).to_be_bytes());
        out.extend_from_slice(chunk);
    }
    out
}

#[test]
fn reads_sni_and_alpn_from_a_real_client_hello() {
    let hello = real_client_hello("chat.openai.com", &[b"h2", b"http/1.1"]);
    assert_eq!(
        peek(&hello),
        Peeked::ClientHello(ClientHelloInfo {
            server_name: Some("chat.openai.com".into()),
            alpn: vec![b"h2".to_vec(), b"http/1.1".to_vec()],
        })
    );
}

#[test]
fn ip_targets_send_no_sni() {
    let hello = real_client_hello("127.0.0.1", &[]);
    assert_eq!(
        peek(&hello),
        Peeked::ClientHello(ClientHelloInfo::default())
    );
}

#[test]
fn needs_more_until_the_last_byte() {
    let hello = real_client_hello("a.example", &[b"h2"]);
    for end in 0..hello.len() {
        assert_eq!(peek(&hello[..end]), Peeked::NeedMore, "at {end}");
    }
    assert!(matches!(peek(&hello), Peeked::ClientHello(_)));
}

#[test]
fn reassembles_fragmented_records() {
    let hello = real_client_hello("fragmented.example", &[b"http/1.1"]);
    let fragmented = fragment(&hello, 7);
    match peek(&fragmented) {
        Peeked::ClientHello(info) => {
            assert_eq!(info.server_name.as_deref(), Some("fragmented.example"))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn plain_http_is_not_tls() {
    assert_eq!(peek(b"GET / HTTP/1.1\r\n"), Peeked::NotTls);
    assert_eq!(peek(b"SSH-2.0-OpenSSH"), Peeked::NotTls);
}

#[test]
fn malformed_handshakes_are_reported() {
    assert!(matches!(
        peek(&[0x16, 0x03, 0x01, 0, 0]),
        Peeked::Malformed(_)
    ));
    assert!(matches!(
        peek(&[0x16, 0x03, 0x01, 0, 4, 0x02, 0, 0, 0]),
        Peeked::Malformed(_)
    ));
    // A declared length past the limit is refused before it is buffered.
    assert!(matches!(
        peek(&[0x16, 0x03, 0x01, 0, 4, 0x01, 0xff, 0xff, 0xff]),
        Peeked::Malformed(_)
    ));
}

#[test]
fn mutated_hellos_never_panic() {
    let hello = real_client_hello("mutation.example", &[b"h2", b"http/1.1"]);
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    for _ in 0..20_000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let mut bytes = hello.clone();
        let at = (state as usize) % bytes.len();
        bytes[at] = (state >> 32) as u8;
        let cut = ((state >> 16) as usize) % (bytes.len() + 1);
        let _ = peek(&bytes[..cut]);
        let _ = peek(&bytes);
    }
}
