//! What the tests against llama.cpp share: running the reference scripts in Python (which must
//! import numpy, gguf and llama_cpp — a missing module fails with the command that installs
//! it, never skips), the strings the tokenizers are compared on, and the comparisons.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // each test binary uses a part

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

pub fn python() -> String {
    std::env::var("WARDEN_INFERENCE_PYTHON").unwrap_or_else(|_| "python3".into())
}

pub fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name)
}

pub fn run_python(args: &[&str]) -> Vec<u8> {
    let py = python();
    let check = Command::new(&py)
        .args(["-c", "import numpy, gguf, llama_cpp"])
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run {py}: {e}; set WARDEN_INFERENCE_PYTHON or install python3")
        });
    assert!(
        check.status.success(),
        "{py} cannot import numpy, gguf and llama_cpp: install them with \
         `{py} -m pip install numpy gguf llama-cpp-python==0.3.36` (scripts/test.sh does)\n{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let out = Command::new(&py).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{py} {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

pub fn ids(v: &Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_u64().unwrap() as u32)
        .collect()
}

/// A few hundred strings: hand-picked hard cases plus combinations of pieces.
pub fn tokenizer_strings() -> Vec<String> {
    let mut v: Vec<String> = [
        "",
        " ",
        "  ",
        "\n",
        "\n\n\n",
        "\t\tx",
        "a  b",
        "a \n b",
        "  leading",
        "trailing  ",
        "Hello world",
        "hello gateway!",
        "It's we're they've I'm you'll it'd 'S 'T",
        "1234567890",
        "3.14159",
        " 42 ",
        "x=1+2*3",
        "v1.2.3-rc4",
        "2026-12-07T14:45:00Z",
        "def main():\n    return 42\n",
        "for (int i = 0; i < 10; i++) { printf(\"%d\\n\", i); }",
        "import numpy as np; x = np.zeros((3, 4))",
        "fn f<'a>(x: &'a str) -> &'a str { x }",
        "Ça va? Über naïve café",
        "日本語のテキスト",
        "中文 文本",
        "Привет, мир",
        "مرحبا بالعالم",
        "emoji 😀🎉 mixed 👍🏽",
        "ｆｕｌｌｗｉｄｔｈ",
        "Ⅻ roman ② circled ¾ fraction",
        "a\u{0301}e\u{0308}",
        "\u{00a0}nbsp\u{2003}emspace",
        "zero\u{200b}width",
        "<|im_start|>user\nhi<|im_end|>\n",
        "<|endoftext|>",
        "a<|im_end|>b<|im_start|>",
        "<|im_start|",
        "!!!???...,,,",
        "$$$ %%% ^^^",
        "quick brown fox jumps over the lazy dog",
        "The The the THE",
        "\r\n\r\n",
        "x\u{0}y",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let pieces = [
        "the", " the", "The", "  ", "\n", "12", "3", "é", "日本", "'s", "'ll", "!", "(", "{\n",
        "    ", "gateway", "😀", "0x1F", "_", "-", "ab12cd",
    ];
    for i in 0..pieces.len() {
        for j in 0..pieces.len() {
            if (i * 7 + j * 3) % 2 == 0 {
                v.push(format!(
                    "{}{}{}",
                    pieces[i],
                    pieces[j],
                    pieces[(i + j) % pieces.len()]
                ));
            }
        }
    }
    v
}

pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let (mut ab, mut aa, mut bb) = (0f64, 0f64, 0f64);
    for (x, y) in a.iter().zip(b) {
        ab += *x as f64 * *y as f64;
        aa += *x as f64 * *x as f64;
        bb += *y as f64 * *y as f64;
    }
    ab / (aa.sqrt() * bb.sqrt())
}

/// Logit gap between llama.cpp's best and second-best token above which this engine must pick
/// the same token. The two engines' logits differ by up to about 0.8 on this model (llama.cpp
/// rounds activations to 8 bits for K-quants and to 16 bits for F16/BF16 weights, this engine
/// keeps them in f32); below this gap the two are in a near-tie that rounding decides, and a
/// random-weight model, with its flat distributions, has many.
pub const DECIDED_MARGIN: f32 = 1.0;

pub fn top2_margin(logits: &[f32]) -> f32 {
    let mut s = logits.to_vec();
    s.sort_by(|a, b| b.total_cmp(a));
    s[0] - s[1]
}
