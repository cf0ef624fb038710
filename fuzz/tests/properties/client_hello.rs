//! ClientHellos made by a real TLS client (rustls), with random names and ALPN lists, split
//! over records at random points, and damaged.

use std::sync::Arc;

use proptest::prelude::*;
use proxy::intercept::client_hello::Peeked;
use warden_fuzz::client_hello::client_hello;

use crate::mutate::damaged_from;

/// The first flight of a rustls client connecting to `name` offering `alpn`.
fn hello(name: &str, alpn: &[Vec<u8>]) -> Vec<u8> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    config.alpn_protocols = alpn.to_vec();
    let server = rustls_pki_types::ServerName::try_from(name.to_string()).unwrap();
    let mut conn = rustls::ClientConnection::new(Arc::new(config), server).unwrap();
    let mut out = Vec::new();
    conn.write_tls(&mut out).unwrap();
    out
}

fn dns_name() -> impl Strategy<Value = String> {
    prop::collection::vec("[a-z0-9]([a-z0-9-]{0,14}[a-z0-9])?", 1..5)
        .prop_map(|labels| format!("{}.test", labels.join(".")))
}

fn alpn() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(1u8..=255, 1..12), 0..4)
}

/// The handshake message of `flight` (one record) re-split into records at `cuts`.
fn fragmented(flight: &[u8], cuts: &[usize]) -> Vec<u8> {
    let message = &flight[5..];
    let mut points: Vec<usize> = cuts.iter().map(|c| c % message.len()).collect();
    points.push(0);
    points.push(message.len());
    points.sort_unstable();
    points.dedup();
    let mut out = Vec::new();
    for pair in points.windows(2) {
        let piece = &message[pair[0]..pair[1]];
        out.extend_from_slice(&[0x16, 0x03, 0x01]);
        out.extend_from_slice(&(piece.len() as u16).to_be_bytes());
        out.extend_from_slice(piece);
    }
    out
}

proptest! {
    #![proptest_config(crate::config(48))]

    #[test]
    fn a_real_hello_names_what_the_client_asked_for_in_any_fragmentation(
        name in dns_name(),
        alpn in alpn(),
        cuts in prop::collection::vec(any::<usize>(), 0..6),
    ) {
        let flight = hello(&name, &alpn);
        for bytes in [flight.clone(), fragmented(&flight, &cuts)] {
            let Peeked::ClientHello(info) = client_hello(&bytes) else {
                panic!("{name} {alpn:?}: {:?}", client_hello(&bytes));
            };
            prop_assert_eq!(info.server_name.as_deref(), Some(name.as_str()));
            prop_assert_eq!(&info.alpn, &alpn);
        }
    }
}

proptest! {
    #![proptest_config(crate::config(384))]

    #[test]
    fn a_damaged_hello_is_refused_or_read_never_a_panic(
        bytes in damaged_from(
            (dns_name(), alpn(), prop::collection::vec(any::<usize>(), 0..3))
                .prop_map(|(name, alpn, cuts)| fragmented(&hello(&name, &alpn), &cuts)),
        ),
    ) {
        client_hello(&bytes);
        for end in [1, 5, 9, bytes.len() / 2] {
            client_hello(&bytes[..end.min(bytes.len())]);
        }
    }
}
