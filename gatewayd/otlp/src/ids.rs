//! W3C trace context ids: 16-byte trace ids and 8-byte span ids, random and never all zero,
//! written as lowercase hex (the OTLP JSON encoding), and the sampling decision taken once
//! per trace from its id so that every span of a trace shares it.

/// A new random trace id (never zero: W3C calls an all-zero id invalid).
pub(crate) fn trace_id() -> u128 {
    loop {
        let id: u128 = rand::random();
        if id != 0 {
            return id;
        }
    }
}

/// A new random span id (never zero).
pub(crate) fn span_id() -> u64 {
    loop {
        let id: u64 = rand::random();
        if id != 0 {
            return id;
        }
    }
}

/// Whether a trace is exported at `ratio`: its id's low 56 bits (the part W3C level 2 calls
/// random) below `ratio` of their range, as OpenTelemetry's `TraceIdRatioBased` sampler does.
pub(crate) fn sampled(trace_id: u128, ratio: f64) -> bool {
    if ratio >= 1.0 {
        return true;
    }
    if ratio <= 0.0 {
        return false;
    }
    const RANGE: f64 = (1u64 << 56) as f64;
    let random = (trace_id & ((1u128 << 56) - 1)) as f64;
    random < ratio * RANGE
}

pub(crate) fn trace_hex(id: u128) -> String {
    format!("{id:032x}")
}

pub(crate) fn span_hex(id: u64) -> String {
    format!("{id:016x}")
}
