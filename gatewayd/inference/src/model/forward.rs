//! Loading a model and running it: [`Model`] holds the file and checked weight views,
//! [`Session`] one conversation's KV cache and scratch buffers.
//!
//! Tokens go through one at a time (a prompt is a loop of single-token steps); the cache
//! grows with the conversation up to the session's context length and refuses more.

use super::config::{Config, RopeScaling};
use super::ops;
use super::weights::{vector, vector_optional, Matrix};
use crate::gguf::Gguf;
use crate::quant::{quantize_q8_0, Q8_0Vec};
use crate::{Error, Result};

struct Layer {
    attn_norm: Vec<f32>,
    wq: Matrix,
    wk: Matrix,
    wv: Matrix,
    wo: Matrix,
    bq: Option<Vec<f32>>,
    bk: Option<Vec<f32>>,
    bv: Option<Vec<f32>>,
    bo: Option<Vec<f32>>,
    ffn_norm: Vec<f32>,
    gate: Matrix,
    up: Matrix,
    down: Matrix,
}

/// A loaded model (immutable; sessions borrow it).
pub struct Model {
    pub config: Config,
    pub vocab_size: usize,
    gguf: Gguf,
    embd: Matrix,
    layers: Vec<Layer>,
    out_norm: Vec<f32>,
    output: Matrix,
    rope_factors: Option<Vec<f32>>,
    threads: usize,
}

impl Model {
    /// Checks the metadata and every tensor's shape; `threads` for the matrix products.
    pub fn load(gguf: Gguf, threads: usize) -> Result<Self> {
        let c = Config::from_gguf(&gguf)?;
        let g = &gguf;
        let embd_t = g
            .tensor("token_embd.weight")
            .ok_or_else(|| Error::Missing("tensor token_embd.weight".into()))?;
        let vocab_size = embd_t.dims.get(1).copied().unwrap_or(0) as usize;
        if vocab_size == 0 {
            return Err(Error::Unsupported(
                "token_embd.weight has no vocabulary dimension".into(),
            ));
        }
        let (e, q_dim, kv_dim) = (c.n_embd, c.n_head * c.head_dim, c.n_head_kv * c.head_dim);
        let embd = Matrix::load(g, "token_embd.weight", e, vocab_size)?;
        let mut layers = Vec::with_capacity(c.n_layer);
        for i in 0..c.n_layer {
            let n = |s: &str| format!("blk.{i}.{s}");
            layers.push(Layer {
                attn_norm: vector(g, &n("attn_norm.weight"), e)?,
                wq: Matrix::load(g, &n("attn_q.weight"), e, q_dim)?,
                wk: Matrix::load(g, &n("attn_k.weight"), e, kv_dim)?,
                wv: Matrix::load(g, &n("attn_v.weight"), e, kv_dim)?,
                wo: Matrix::load(g, &n("attn_output.weight"), q_dim, e)?,
                bq: vector_optional(g, &n("attn_q.bias"), q_dim)?,
                bk: vector_optional(g, &n("attn_k.bias"), kv_dim)?,
                bv: vector_optional(g, &n("attn_v.bias"), kv_dim)?,
                bo: vector_optional(g, &n("attn_output.bias"), e)?,
                ffn_norm: vector(g, &n("ffn_norm.weight"), e)?,
                gate: Matrix::load(g, &n("ffn_gate.weight"), e, c.n_ff)?,
                up: Matrix::load(g, &n("ffn_up.weight"), e, c.n_ff)?,
                down: Matrix::load(g, &n("ffn_down.weight"), c.n_ff, e)?,
            });
            if g.tensor(&n("ffn_gate_inp.weight")).is_some() {
                return Err(Error::Unsupported("mixture-of-experts layers".into()));
            }
        }
        let output = match Matrix::load_optional(g, "output.weight", e, vocab_size)? {
            Some(m) => m,
            None => embd.clone(),
        };
        Ok(Self {
            vocab_size,
            embd,
            layers,
            out_norm: vector(g, "output_norm.weight", e)?,
            output,
            rope_factors: vector_optional(g, "rope_freqs.weight", c.rope_dims / 2)?,
            threads: threads.max(1),
            config: c,
            gguf,
        })
    }

    /// The file the model was loaded from (metadata for the tokenizer).
    pub fn gguf(&self) -> &Gguf {
        &self.gguf
    }

    /// A new conversation holding at most `n_ctx` tokens (at most the training context).
    pub fn session(&self, n_ctx: usize) -> Result<Session<'_>> {
        if n_ctx == 0 || n_ctx > self.config.n_ctx_train {
            return Err(Error::Invalid(format!(
                "context of {n_ctx} tokens (1 to {} for this model)",
                self.config.n_ctx_train
            )));
        }
        let c = &self.config;
        Ok(Session {
            model: self,
            n_ctx,
            pos: 0,
            keys: vec![Vec::new(); c.n_layer],
            values: vec![Vec::new(); c.n_layer],
            x: vec![0.0; c.n_embd],
            h: vec![0.0; c.n_embd],
            q: vec![0.0; c.n_head * c.head_dim],
            k: vec![0.0; c.n_head_kv * c.head_dim],
            v: vec![0.0; c.n_head_kv * c.head_dim],
            att: vec![0.0; c.n_head * c.head_dim],
            gate: vec![0.0; c.n_ff],
            up: vec![0.0; c.n_ff],
            scores: Vec::new(),
            cos: Vec::new(),
            sin: Vec::new(),
            xq: Q8_0Vec::default(),
            logits: vec![0.0; self.vocab_size],
        })
    }
}

/// One conversation: the KV cache and the buffers a step needs.
pub struct Session<'m> {
    model: &'m Model,
    n_ctx: usize,
    pos: usize,
    keys: Vec<Vec<f32>>,
    values: Vec<Vec<f32>>,
    x: Vec<f32>,
    h: Vec<f32>,
    q: Vec<f32>,
    k: Vec<f32>,
    v: Vec<f32>,
    att: Vec<f32>,
    gate: Vec<f32>,
    up: Vec<f32>,
    scores: Vec<f32>,
    cos: Vec<f32>,
    sin: Vec<f32>,
    xq: Q8_0Vec,
    logits: Vec<f32>,
}

fn add(x: &mut [f32], b: Option<&Vec<f32>>) {
    if let Some(b) = b {
        x.iter_mut().zip(b).for_each(|(x, b)| *x += b);
    }
}

impl Session<'_> {
    /// Tokens in the cache so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Runs one token at the next position; returns the logits for the token after it.
    pub fn step(&mut self, token: u32) -> Result<&[f32]> {
        let m = self.model;
        let c = &m.config;
        if token as usize >= m.vocab_size {
            return Err(Error::Invalid(format!(
                "token {token} is past the vocabulary of {}",
                m.vocab_size
            )));
        }
        if self.pos >= self.n_ctx {
            return Err(Error::Invalid(format!(
                "the context of {} tokens is full",
                self.n_ctx
            )));
        }
        let file = m.gguf.bytes();
        let t = m.threads;
        let (hd, kv_dim) = (c.head_dim, c.n_head_kv * c.head_dim);
        let group = c.n_head / c.n_head_kv;
        let scale = match c.rope_scaling {
            RopeScaling::None => 1.0,
            RopeScaling::Linear { factor } => 1.0 / factor,
        };
        ops::rope_table(
            self.pos,
            c.rope_dims,
            c.rope_base,
            scale,
            m.rope_factors.as_deref(),
            &mut self.cos,
            &mut self.sin,
        );
        m.embd.row_f32(file, token as usize, &mut self.x);

        for (li, l) in m.layers.iter().enumerate() {
            ops::rms_norm(&self.x, &l.attn_norm, c.rms_eps, &mut self.h);
            quantize_q8_0(&self.h, &mut self.xq);
            l.wq.matvec(file, &self.h, &self.xq, &mut self.q, t);
            l.wk.matvec(file, &self.h, &self.xq, &mut self.k, t);
            l.wv.matvec(file, &self.h, &self.xq, &mut self.v, t);
            add(&mut self.q, l.bq.as_ref());
            add(&mut self.k, l.bk.as_ref());
            add(&mut self.v, l.bv.as_ref());
            for head in self
                .q
                .chunks_exact_mut(hd)
                .chain(self.k.chunks_exact_mut(hd))
            {
                ops::rope(c.arch, &mut head[..c.rope_dims], &self.cos, &self.sin);
            }
            self.keys[li].extend_from_slice(&self.k);
            self.values[li].extend_from_slice(&self.v);
            let len = self.pos + 1;
            for (h, out) in self.att.chunks_exact_mut(hd).enumerate() {
                let q = &self.q[h * hd..(h + 1) * hd];
                let off = (h / group) * hd;
                ops::attend(
                    q,
                    &self.keys[li],
                    &self.values[li],
                    len,
                    kv_dim,
                    off,
                    &mut self.scores,
                    out,
                );
            }
            quantize_q8_0(&self.att, &mut self.xq);
            l.wo.matvec(file, &self.att, &self.xq, &mut self.h, t);
            add(&mut self.h, l.bo.as_ref());
            self.x.iter_mut().zip(&self.h).for_each(|(x, h)| *x += h);

            ops::rms_norm(&self.x, &l.ffn_norm, c.rms_eps, &mut self.h);
            quantize_q8_0(&self.h, &mut self.xq);
            l.gate.matvec(file, &self.h, &self.xq, &mut self.gate, t);
            l.up.matvec(file, &self.h, &self.xq, &mut self.up, t);
            ops::swiglu(&mut self.gate, &self.up);
            quantize_q8_0(&self.gate, &mut self.xq);
            l.down.matvec(file, &self.gate, &self.xq, &mut self.h, t);
            self.x.iter_mut().zip(&self.h).for_each(|(x, h)| *x += h);
        }
        ops::rms_norm(&self.x, &m.out_norm, c.rms_eps, &mut self.h);
        quantize_q8_0(&self.h, &mut self.xq);
        m.output
            .matvec(file, &self.h, &self.xq, &mut self.logits, t);
        self.pos += 1;
        Ok(&self.logits)
    }
}
