//! Parsing the TLS ClientHello a client sends after CONNECT, without consuming it: the SNI and
//! ALPN decide whether the tunnel is intercepted, passed through untouched, or blocked.
//!
//! This reads bytes straight from the network: it never panics, never allocates beyond the
//! fields it returns, and reports malformed input as such. Records may fragment the handshake
//! message; fragments are reassembled up to [`MAX_CLIENT_HELLO`] bytes.

/// Largest ClientHello handshake message accepted (post-quantum key shares make real ones
/// around 2 KB; TLS allows 16 MB, which no client sends).
pub const MAX_CLIENT_HELLO: usize = 64 * 1024;

const RECORD_HANDSHAKE: u8 = 0x16;
const HANDSHAKE_CLIENT_HELLO: u8 = 0x01;
const EXT_SERVER_NAME: u16 = 0;
const EXT_ALPN: u16 = 16;

/// What a ClientHello asked for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientHelloInfo {
    /// The host_name from the server_name extension, as sent.
    pub server_name: Option<String>,
    /// ALPN protocol names offered, in the client's order.
    pub alpn: Vec<Vec<u8>>,
}

/// The outcome of looking at the first bytes of a tunnel.
#[derive(Debug, PartialEq, Eq)]
pub enum Peeked {
    /// More bytes are needed to decide.
    NeedMore,
    /// A complete, well-formed ClientHello.
    ClientHello(ClientHelloInfo),
    /// The bytes do not start a TLS handshake.
    NotTls,
    /// A TLS handshake that is malformed or too large.
    Malformed(&'static str),
}

/// Examines the bytes read so far from a tunnel.
pub fn peek(buf: &[u8]) -> Peeked {
    match buf.first() {
        None => return Peeked::NeedMore,
        Some(&RECORD_HANDSHAKE) => {}
        Some(_) => return Peeked::NotTls,
    }
    let mut message = Vec::new();
    let mut rest = buf;
    loop {
        if rest.len() < 5 {
            return Peeked::NeedMore;
        }
        if rest[0] != RECORD_HANDSHAKE {
            return Peeked::Malformed("handshake interrupted by another record type");
        }
        if rest[1] != 0x03 {
            return Peeked::Malformed("unknown record version");
        }
        let len = usize::from(u16::from_be_bytes([rest[3], rest[4]]));
        if len == 0 {
            return Peeked::Malformed("empty handshake record");
        }
        let Some(fragment) = rest.get(5..5 + len) else {
            return Peeked::NeedMore;
        };
        message.extend_from_slice(fragment);
        rest = &rest[5 + len..];
        if message.len() >= 4 {
            if message[0] != HANDSHAKE_CLIENT_HELLO {
                return Peeked::Malformed("first handshake message is not a ClientHello");
            }
            let body_len = u32::from_be_bytes([0, message[1], message[2], message[3]]) as usize;
            if body_len > MAX_CLIENT_HELLO {
                return Peeked::Malformed("ClientHello too large");
            }
            if message.len() >= 4 + body_len {
                return match parse_body(&message[4..4 + body_len]) {
                    Some(info) => Peeked::ClientHello(info),
                    None => Peeked::Malformed("malformed ClientHello"),
                };
            }
        }
        if message.len() > MAX_CLIENT_HELLO {
            return Peeked::Malformed("ClientHello too large");
        }
    }
}

/// A cursor over network bytes where every read is bounds-checked.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, tail) = (self.0.get(..n)?, self.0.get(n..)?);
        self.0 = tail;
        Some(head)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }
    fn vec8(&mut self) -> Option<&'a [u8]> {
        let n = self.u8()?;
        self.take(usize::from(n))
    }
    fn vec16(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()?;
        self.take(usize::from(n))
    }
}

fn parse_body(body: &[u8]) -> Option<ClientHelloInfo> {
    let mut r = Reader(body);
    r.take(2)?; // legacy_version
    r.take(32)?; // random
    r.vec8()?; // legacy_session_id
    r.vec16()?; // cipher_suites
    r.vec8()?; // legacy_compression_methods
    let mut info = ClientHelloInfo::default();
    if r.0.is_empty() {
        return Some(info); // no extensions at all (old clients)
    }
    let mut extensions = Reader(r.vec16()?);
    while !extensions.0.is_empty() {
        let kind = extensions.u16()?;
        let data = extensions.vec16()?;
        match kind {
            EXT_SERVER_NAME => info.server_name = parse_server_name(data)?,
            EXT_ALPN => info.alpn = parse_alpn(data)?,
            _ => {}
        }
    }
    Some(info)
}

fn parse_server_name(data: &[u8]) -> Option<Option<String>> {
    let mut list = Reader(Reader(data).vec16()?);
    while !list.0.is_empty() {
        let name_type = list.u8()?;
        let name = list.vec16()?;
        if name_type == 0 {
            let valid = !name.is_empty()
                && name.len() <= 253
                && name
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
            if !valid {
                return None;
            }
            return Some(Some(String::from_utf8_lossy(name).into_owned()));
        }
    }
    Some(None)
}

fn parse_alpn(data: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut list = Reader(Reader(data).vec16()?);
    let mut protocols = Vec::new();
    while !list.0.is_empty() {
        let proto = list.vec8()?;
        if proto.is_empty() {
            return None;
        }
        protocols.push(proto.to_vec());
    }
    Some(protocols)
}

#[cfg(test)]
mod tests;
