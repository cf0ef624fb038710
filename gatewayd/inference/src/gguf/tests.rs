//! The reader against files built here: every value type, every truncation, absurd counts.

use super::*;

/// A little GGUF writer for tests.
#[derive(Default)]
pub(crate) struct Builder {
    kv: Vec<u8>,
    n_kv: u64,
    infos: Vec<u8>,
    n_tensors: u64,
    data: Vec<u8>,
}

fn s(out: &mut Vec<u8>, v: &str) {
    out.extend_from_slice(&(v.len() as u64).to_le_bytes());
    out.extend_from_slice(v.as_bytes());
}

impl Builder {
    pub(crate) fn kv_raw(&mut self, key: &str, ty: u32, value: &[u8]) -> &mut Self {
        s(&mut self.kv, key);
        self.kv.extend_from_slice(&ty.to_le_bytes());
        self.kv.extend_from_slice(value);
        self.n_kv += 1;
        self
    }

    pub(crate) fn tensor(&mut self, name: &str, dims: &[u64], ty: u32, data: &[u8]) -> &mut Self {
        while !self.data.len().is_multiple_of(32) {
            self.data.push(0);
        }
        s(&mut self.infos, name);
        self.infos
            .extend_from_slice(&(dims.len() as u32).to_le_bytes());
        for d in dims {
            self.infos.extend_from_slice(&d.to_le_bytes());
        }
        self.infos.extend_from_slice(&ty.to_le_bytes());
        self.infos
            .extend_from_slice(&(self.data.len() as u64).to_le_bytes());
        self.data.extend_from_slice(data);
        self.n_tensors += 1;
        self
    }

    pub(crate) fn build(&self) -> Vec<u8> {
        let mut out = b"GGUF".to_vec();
        out.extend_from_slice(&3u32.to_le_bytes());
        out.extend_from_slice(&self.n_tensors.to_le_bytes());
        out.extend_from_slice(&self.n_kv.to_le_bytes());
        out.extend_from_slice(&self.kv);
        out.extend_from_slice(&self.infos);
        while !out.len().is_multiple_of(32) {
            out.push(0);
        }
        out.extend_from_slice(&self.data);
        out
    }
}

fn str_bytes(v: &str) -> Vec<u8> {
    let mut out = Vec::new();
    s(&mut out, v);
    out
}

fn sample_file() -> Vec<u8> {
    let mut b = Builder::default();
    b.kv_raw("general.architecture", 8, &str_bytes("llama"))
        .kv_raw("u8", 0, &[7])
        .kv_raw("i8", 1, &[0xff])
        .kv_raw("u16", 2, &300u16.to_le_bytes())
        .kv_raw("i16", 3, &(-300i16).to_le_bytes())
        .kv_raw("u32", 4, &70000u32.to_le_bytes())
        .kv_raw("i32", 5, &(-70000i32).to_le_bytes())
        .kv_raw("f32", 6, &1.5f32.to_le_bytes())
        .kv_raw("bool", 7, &[1])
        .kv_raw("u64", 10, &(1u64 << 40).to_le_bytes())
        .kv_raw("i64", 11, &(-5i64).to_le_bytes())
        .kv_raw("f64", 12, &0.25f64.to_le_bytes());
    let mut arr = 8u32.to_le_bytes().to_vec();
    arr.extend_from_slice(&2u64.to_le_bytes());
    arr.extend(str_bytes("a"));
    arr.extend(str_bytes("bc"));
    b.kv_raw("strings", 9, &arr);
    let mut nested = 9u32.to_le_bytes().to_vec();
    nested.extend_from_slice(&1u64.to_le_bytes());
    nested.extend_from_slice(&4u32.to_le_bytes());
    nested.extend_from_slice(&2u64.to_le_bytes());
    nested.extend_from_slice(&1u32.to_le_bytes());
    nested.extend_from_slice(&2u32.to_le_bytes());
    b.kv_raw("nested", 9, &nested);
    let f: Vec<u8> = [1.0f32, 2.0, 3.0, 4.0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    b.tensor("a", &[2, 2], 0, &f);
    let q8: Vec<u8> = (0..34u8).collect();
    b.tensor("b", &[32], 8, &q8);
    b.build()
}

#[test]
fn reads_every_value_type_and_tensor() {
    let g = Gguf::parse(sample_file()).unwrap();
    assert_eq!(g.version, 3);
    assert_eq!(
        g.get("general.architecture").and_then(Value::as_str),
        Some("llama")
    );
    assert_eq!(g.get("u8"), Some(&Value::U8(7)));
    assert_eq!(g.get("i8"), Some(&Value::I8(-1)));
    assert_eq!(g.get("u16"), Some(&Value::U16(300)));
    assert_eq!(g.get("i16"), Some(&Value::I16(-300)));
    assert_eq!(g.get("u32"), Some(&Value::U32(70000)));
    assert_eq!(g.get("i32"), Some(&Value::I32(-70000)));
    assert_eq!(g.get("f32"), Some(&Value::F32(1.5)));
    assert_eq!(g.get("bool"), Some(&Value::Bool(true)));
    assert_eq!(g.get("u64"), Some(&Value::U64(1 << 40)));
    assert_eq!(g.get("i64"), Some(&Value::I64(-5)));
    assert_eq!(g.get("f64"), Some(&Value::F64(0.25)));
    assert_eq!(
        g.get("strings"),
        Some(&Value::Array(Array::String(vec!["a".into(), "bc".into()])))
    );
    assert_eq!(
        g.get("nested"),
        Some(&Value::Array(Array::Array(vec![Array::U32(vec![1, 2])])))
    );
    let a = g.tensor("a").unwrap();
    assert_eq!(
        (a.dims.as_slice(), a.ty, a.bytes),
        (&[2u64, 2][..], GgmlType::F32, 16)
    );
    assert_eq!(&g.data(a)[4..8], &2.0f32.to_le_bytes());
    let b = g.tensor("b").unwrap();
    assert_eq!(b.offset, 32);
    assert_eq!(g.data(b), &(0..34u8).collect::<Vec<_>>()[..]);
}

#[test]
fn every_truncation_is_an_error() {
    let full = sample_file();
    for len in 0..full.len() {
        let err = Gguf::parse(full[..len].to_vec()).expect_err("a truncated file must not parse");
        assert!(matches!(err, Error::Malformed { .. }), "len {len}: {err}");
    }
}

#[test]
fn every_single_byte_corruption_is_handled() {
    // Flipping any byte must give a file that parses or an error, never a panic.
    let full = sample_file();
    for i in 0..full.len() {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut f = full.clone();
            f[i] ^= flip;
            let _ = Gguf::parse(f);
        }
    }
}

fn header(n_tensors: u64, n_kv: u64) -> Vec<u8> {
    let mut out = b"GGUF".to_vec();
    out.extend_from_slice(&3u32.to_le_bytes());
    out.extend_from_slice(&n_tensors.to_le_bytes());
    out.extend_from_slice(&n_kv.to_le_bytes());
    out
}

#[test]
fn absurd_counts_and_lengths_are_refused_without_allocating() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("tensor count", header(u64::MAX, 0)),
        ("metadata count", header(0, 1 << 60)),
        ("string length", {
            let mut f = header(0, 1);
            f.extend_from_slice(&u64::MAX.to_le_bytes());
            f
        }),
        ("array length", {
            let mut f = header(0, 1);
            f.extend(str_bytes("k"));
            f.extend_from_slice(&9u32.to_le_bytes());
            f.extend_from_slice(&12u32.to_le_bytes());
            f.extend_from_slice(&(1u64 << 62).to_le_bytes());
            f.extend_from_slice(&[0; 64]);
            f
        }),
    ];
    for (what, f) in cases {
        let err = Gguf::parse(f).expect_err(what);
        assert!(err.to_string().contains("left"), "{what}: {err}");
    }
}

#[test]
fn bad_shapes_types_versions_and_offsets_are_refused() {
    let mut b = Builder::default();
    b.tensor("t", &[1 << 20, 1 << 20], 0, &[]);
    assert!(Gguf::parse(b.build())
        .unwrap_err()
        .to_string()
        .contains("file ends before"));

    let mut b = Builder::default();
    b.tensor("t", &[u64::MAX, 3], 0, &[]);
    assert!(Gguf::parse(b.build())
        .unwrap_err()
        .to_string()
        .contains("overflows"));

    let mut b = Builder::default();
    b.tensor("t", &[33], 2, &[0; 40]);
    assert!(Gguf::parse(b.build())
        .unwrap_err()
        .to_string()
        .contains("whole number"));

    let mut b = Builder::default();
    b.tensor("t", &[32], 11, &[0; 110]);
    let err = Gguf::parse(b.build()).unwrap_err().to_string();
    assert!(err.contains("Q3_K") && err.contains("\"t\""), "{err}");

    let mut b = Builder::default();
    b.tensor("t", &[1, 1, 1, 1, 1], 0, &[0; 4]);
    assert!(Gguf::parse(b.build())
        .unwrap_err()
        .to_string()
        .contains("5 dimensions"));

    let mut b = Builder::default();
    b.kv_raw("general.alignment", 4, &3u32.to_le_bytes());
    assert!(Gguf::parse(b.build())
        .unwrap_err()
        .to_string()
        .contains("power-of-two"));

    let mut b = Builder::default();
    b.kv_raw("k", 4, &[0; 4]).kv_raw("k", 4, &[0; 4]);
    assert!(Gguf::parse(b.build())
        .unwrap_err()
        .to_string()
        .contains("twice"));

    let mut f = sample_file();
    f[4] = 1;
    assert!(Gguf::parse(f)
        .unwrap_err()
        .to_string()
        .contains("version 1"));
    assert!(Gguf::parse(b"GGML\x03\0\0\0".to_vec())
        .unwrap_err()
        .to_string()
        .contains("magic"));

    // Deeply nested arrays stop at the depth limit.
    let mut f = header(0, 1);
    f.extend(str_bytes("deep"));
    f.extend_from_slice(&9u32.to_le_bytes());
    for _ in 0..10 {
        f.extend_from_slice(&9u32.to_le_bytes());
        f.extend_from_slice(&1u64.to_le_bytes());
    }
    f.extend_from_slice(&[0; 64]);
    assert!(Gguf::parse(f).unwrap_err().to_string().contains("nested"));
}
