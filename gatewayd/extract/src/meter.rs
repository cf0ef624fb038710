//! Metering of decompressed output. Every decoder's output passes through a [`Meter`] that
//! counts what it produced against what the decoder consumed (the expansion ratio) and against
//! one [`Budget`] shared by the whole extraction. Crossing either stops the stream at once with
//! an error, so a bomb never costs more than the limits, whatever its headers claim.

use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

use crate::limits::RATIO_GRACE_BYTES;

/// Which limit a stream crossed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trip {
    /// One stream expanded more than the ratio allows.
    Ratio,
    /// All streams together produced more than the extraction's budget.
    Total,
}

impl Trip {
    pub(crate) fn reason(self, ratio: u64) -> String {
        match self {
            Trip::Ratio => format!("decompression bomb: a stream expands more than {ratio}x"),
            Trip::Total => format!("decompression bomb: output over {ratio}x the input"),
        }
    }
}

/// Decompressed bytes allowed for the whole extraction, shared by every meter in it.
#[derive(Debug)]
pub(crate) struct Budget {
    limit: u64,
    used: Cell<u64>,
    tripped: Cell<Option<Trip>>,
}

impl Budget {
    pub(crate) fn new(limit: u64) -> Rc<Self> {
        Rc::new(Self {
            limit,
            used: Cell::new(0),
            tripped: Cell::new(None),
        })
    }

    /// The limit crossed, if any: once set it stays set and every meter refuses to read.
    pub(crate) fn tripped(&self) -> Option<Trip> {
        self.tripped.get()
    }

    fn trip(&self, trip: Trip) -> io::Error {
        if self.tripped.get().is_none() {
            self.tripped.set(Some(trip));
        }
        io::Error::other("expansion limit crossed")
    }
}

/// A reader that counts the bytes read through it into a shared cell.
pub(crate) struct Counted<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R: Read> Counted<R> {
    pub(crate) fn new(inner: R) -> (Self, Rc<Cell<u64>>) {
        let count = Rc::new(Cell::new(0));
        (
            Self {
                inner,
                count: Rc::clone(&count),
            },
            count,
        )
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get().saturating_add(n as u64));
        Ok(n)
    }
}

/// The output side of a decoder: enforces the ratio against `consumed` and the shared budget.
pub(crate) struct Meter<R> {
    inner: R,
    consumed: Rc<Cell<u64>>,
    produced: u64,
    ratio: u64,
    budget: Rc<Budget>,
}

impl<R: Read> Meter<R> {
    pub(crate) fn new(inner: R, consumed: Rc<Cell<u64>>, ratio: u64, budget: Rc<Budget>) -> Self {
        Self {
            inner,
            consumed,
            produced: 0,
            ratio: ratio.max(1),
            budget,
        }
    }
}

impl<R: Read> Read for Meter<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.budget.tripped().is_some() {
            return Err(io::Error::other("expansion limit crossed"));
        }
        // Never ask for more than the budget has left (plus one byte to notice the crossing),
        // so a single large read cannot overshoot it.
        let left = self
            .budget
            .limit
            .saturating_sub(self.budget.used.get())
            .saturating_add(1);
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.produced = self.produced.saturating_add(n as u64);
        let used = self.budget.used.get().saturating_add(n as u64);
        self.budget.used.set(used);
        if used > self.budget.limit {
            return Err(self.budget.trip(Trip::Total));
        }
        if self.produced > RATIO_GRACE_BYTES
            && self.produced > self.consumed.get().saturating_mul(self.ratio)
        {
            return Err(self.budget.trip(Trip::Ratio));
        }
        Ok(n)
    }
}

/// What [`read_capped`] found.
pub(crate) enum Capped {
    /// The whole stream, at most `cap` bytes.
    Whole(Vec<u8>),
    /// The stream holds more than `cap` bytes; reading stopped at `cap + 1`.
    Over,
}

/// Reads `reader` to its end into memory, but never more than `cap + 1` bytes.
pub(crate) fn read_capped(reader: &mut dyn Read, cap: u64, prefix: &[u8]) -> io::Result<Capped> {
    let mut out = Vec::new();
    out.extend_from_slice(prefix);
    if out.len() as u64 > cap {
        return Ok(Capped::Over);
    }
    let left = cap - out.len() as u64;
    reader.take(left.saturating_add(1)).read_to_end(&mut out)?;
    if out.len() as u64 > cap {
        return Ok(Capped::Over);
    }
    Ok(Capped::Whole(out))
}

/// Reads up to `n` bytes (fewer only at the end of the stream).
pub(crate) fn read_head(reader: &mut dyn Read, n: usize) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(n);
    reader.take(n as u64).read_to_end(&mut head)?;
    Ok(head)
}
