//! The ClientHello parser that decides interception from a tunnel's first bytes.

use proxy::intercept::client_hello::{peek, Peeked};

/// Peeks at `data`; a parsed hello must name nothing longer than the input and must parse the
/// same when application bytes follow it (the peek never reads past the hello).
pub fn client_hello(data: &[u8]) -> Peeked {
    let peeked = peek(data);
    if let Peeked::ClientHello(info) = &peeked {
        let named = info.server_name.as_ref().map_or(0, String::len)
            + info.alpn.iter().map(Vec::len).sum::<usize>();
        assert!(named <= data.len(), "{info:?} from {} bytes", data.len());
        let mut longer = data.to_vec();
        longer.extend_from_slice(b"trailing application bytes");
        assert_eq!(peek(&longer), peeked);
    }
    peeked
}
