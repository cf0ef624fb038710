//! Greedy generation with timing, for bench/inference.sh:
//! `generate MODEL.gguf PROMPT N_NEW THREADS` prints one JSON line with the prompt and new
//! token counts, prefill and decode tokens per second, and the text generated.
//! The prompt is tokenized with special tokens parsed (a chat-formatted prompt works as is).

use std::time::Instant;

use inference::gguf::Gguf;
use inference::model::Model;
use inference::sample::argmax;
use inference::tokenizer::Tokenizer;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, model, prompt, n_new, threads] = args.as_slice() else {
        return Err("usage: generate MODEL.gguf PROMPT N_NEW THREADS".into());
    };
    let (n_new, threads): (usize, usize) = (n_new.parse()?, threads.parse()?);
    let model = Model::load(Gguf::open(std::path::Path::new(model))?, threads)?;
    let tok = Tokenizer::from_gguf(model.gguf())?;
    let ids = tok.encode(prompt, true);
    if ids.is_empty() {
        return Err("the prompt has no tokens".into());
    }
    let mut session = model.session(ids.len() + n_new)?;
    let start = Instant::now();
    let mut logits = Vec::new();
    for &t in &ids {
        logits = session.step(t)?.to_vec();
    }
    let prefill = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let mut out = Vec::with_capacity(n_new);
    for _ in 0..n_new {
        let next = argmax(&logits);
        out.push(next);
        logits = session.step(next)?.to_vec();
    }
    let decode = start.elapsed().as_secs_f64();
    println!(
        "{{\"prompt_tokens\":{},\"new_tokens\":{},\"prefill_tps\":{:.2},\"decode_tps\":{:.2},\"text\":{:?}}}",
        ids.len(),
        n_new,
        ids.len() as f64 / prefill,
        n_new as f64 / decode,
        tok.decode(&out, false)
    );
    Ok(())
}
