//! MaxMind DB data-section encoding for the few types a City record and the metadata use.
//!
//! Test support only: it writes what the format allows, not every shortcut real writers
//! take, and it never reads anything back.

/// A value to write into a data or metadata section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    Str(String),
    U16(u16),
    U32(u32),
    U64(u64),
    Map(Vec<(String, Value)>),
    Array(Vec<Value>),
    /// Offset of a value already written to the same section.
    Pointer(usize),
}

const T_POINTER: u8 = 1;
const T_STRING: u8 = 2;
const T_U16: u8 = 5;
const T_U32: u8 = 6;
const T_MAP: u8 = 7;
const T_U64: u8 = 9;
const T_ARRAY: u8 = 11;

impl Value {
    pub(crate) fn str(s: &str) -> Self {
        Self::Str(s.to_owned())
    }

    pub(crate) fn map<const N: usize>(entries: [(&str, Value); N]) -> Self {
        Self::Map(
            entries
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
        )
    }

    /// Appends the encoded value to `out`.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Self::Str(s) => {
                header(out, T_STRING, s.len());
                out.extend_from_slice(s.as_bytes());
            }
            Self::U16(n) => uint(out, T_U16, u64::from(*n)),
            Self::U32(n) => uint(out, T_U32, u64::from(*n)),
            Self::U64(n) => uint(out, T_U64, *n),
            Self::Map(entries) => {
                header(out, T_MAP, entries.len());
                for (key, value) in entries {
                    Self::Str(key.clone()).encode(out);
                    value.encode(out);
                }
            }
            Self::Array(items) => {
                header(out, T_ARRAY, items.len());
                for item in items {
                    item.encode(out);
                }
            }
            Self::Pointer(offset) => pointer(out, *offset),
        }
    }
}

/// Control byte (with the extended-type byte for types above 7) and the size.
fn header(out: &mut Vec<u8>, ty: u8, size: usize) {
    let (bits, extra): (u8, Vec<u8>) = match size {
        0..=28 => (size as u8, Vec::new()),
        29..=284 => (29, vec![(size - 29) as u8]),
        285..=65_820 => (30, ((size - 285) as u16).to_be_bytes().to_vec()),
        _ => (31, ((size - 65_821) as u32).to_be_bytes()[1..].to_vec()),
    };
    if ty <= 7 {
        out.push((ty << 5) | bits);
    } else {
        out.push(bits);
        out.push(ty - 7);
    }
    out.extend_from_slice(&extra);
}

/// Unsigned integers use as few big-endian bytes as the value needs.
fn uint(out: &mut Vec<u8>, ty: u8, n: u64) {
    let bytes = n.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count();
    header(out, ty, bytes.len() - skip);
    out.extend_from_slice(&bytes[skip..]);
}

/// Pointers: 1 to 4 bytes, the shorter forms biased as the format specifies.
fn pointer(out: &mut Vec<u8>, offset: usize) {
    let ctrl = T_POINTER << 5;
    let o = offset as u64;
    if o < 2048 {
        out.push(ctrl | ((o >> 8) as u8 & 0x7));
        out.push(o as u8);
    } else if o < 526_336 {
        let v = o - 2048;
        out.push(ctrl | (1 << 3) | ((v >> 16) as u8 & 0x7));
        out.extend_from_slice(&(v as u16).to_be_bytes());
    } else if o < 134_744_064 {
        let v = o - 526_336;
        out.push(ctrl | (2 << 3) | ((v >> 24) as u8 & 0x7));
        out.extend_from_slice(&(v as u32).to_be_bytes()[1..]);
    } else {
        out.push(ctrl | (3 << 3));
        out.extend_from_slice(&(o as u32).to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(v: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        v.encode(&mut out);
        out
    }

    #[test]
    fn encodes_like_the_spec_examples() {
        assert_eq!(bytes(&Value::str("en")), b"\x42en");
        assert_eq!(bytes(&Value::U16(0)), b"\xa0");
        assert_eq!(bytes(&Value::U32(0x0102)), b"\xc2\x01\x02");
        assert_eq!(bytes(&Value::U64(1)), b"\x01\x02\x01");
        assert_eq!(bytes(&Value::Array(vec![])), b"\x00\x04");
        assert_eq!(&bytes(&Value::str(&"x".repeat(30)))[..2], b"\x5d\x01");
        assert_eq!(&bytes(&Value::str(&"x".repeat(300)))[..3], b"\x5e\x00\x0f");
        assert_eq!(bytes(&Value::Pointer(0x102)), b"\x21\x02");
        assert_eq!(bytes(&Value::Pointer(2048)), b"\x28\x00\x00");
        assert_eq!(bytes(&Value::Pointer(526_336)), b"\x30\x00\x00\x00");
        assert_eq!(
            bytes(&Value::Pointer(200_000_000)),
            [&[0x38_u8][..], &200_000_000_u32.to_be_bytes()].concat()
        );
    }
}
