//! The metric kinds the gateway exports: counters and gauges, plain or split by one closed set
//! of label values ([`Label`]), each a fixed array of atomics sized at start.
//!
//! A family's label values are an enum, never text taken from a request, so the number of
//! series is fixed at compile time and no client can grow it. Every value of a family is
//! rendered (zeros included), so a series never appears out of nowhere.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

/// A closed set of values for one label, declared with [`labels!`](crate::labels).
pub trait Label: Copy + 'static {
    /// The label's name, e.g. `outcome`.
    const KEY: &'static str;
    /// Every value, in rendering order.
    const ALL: &'static [Self];
    /// The value as rendered.
    fn as_str(self) -> &'static str;
    /// The value's position in [`Label::ALL`].
    fn index(self) -> usize;
}

/// Declares a fieldless enum whose variants are a label's values.
#[macro_export]
macro_rules! labels {
    ($(#[$meta:meta])* pub enum $name:ident : $key:literal { $($(#[$vmeta:meta])* $variant:ident => $value:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $crate::telemetry::Label for $name {
            const KEY: &'static str = $key;
            const ALL: &'static [Self] = &[$(Self::$variant),+];
            fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $value),+ }
            }
            fn index(self) -> usize {
                self as usize
            }
        }
    };
}

/// A monotonic count.
#[derive(Default)]
pub struct Counter(AtomicU64);

impl Counter {
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Relaxed)
    }
}

/// A value that goes up and down (rendered as 0 if it ever dipped below).
#[derive(Default)]
pub struct Gauge(AtomicI64);

impl Gauge {
    pub fn add(&self, n: i64) {
        self.0.fetch_add(n, Relaxed);
    }

    pub fn sub(&self, n: i64) {
        self.0.fetch_sub(n, Relaxed);
    }

    pub fn get(&self) -> u64 {
        u64::try_from(self.0.load(Relaxed)).unwrap_or(0)
    }
}

/// Counters split by one label.
pub struct CounterFamily<L: Label>(Box<[Counter]>, std::marker::PhantomData<L>);

impl<L: Label> Default for CounterFamily<L> {
    fn default() -> Self {
        Self(
            L::ALL.iter().map(|_| Counter::default()).collect(),
            std::marker::PhantomData,
        )
    }
}

impl<L: Label> CounterFamily<L> {
    pub fn with(&self, label: L) -> &Counter {
        // `index` is the variant's position in `ALL`, which sized the array.
        &self.0[label.index()]
    }

    pub fn get(&self, label: L) -> u64 {
        self.with(label).get()
    }

    /// `(value, count)` for every label value.
    pub fn samples(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        L::ALL.iter().map(|l| (l.as_str(), self.get(*l)))
    }
}

/// Gauges split by one label.
pub struct GaugeFamily<L: Label>(Box<[Gauge]>, std::marker::PhantomData<L>);

impl<L: Label> Default for GaugeFamily<L> {
    fn default() -> Self {
        Self(
            L::ALL.iter().map(|_| Gauge::default()).collect(),
            std::marker::PhantomData,
        )
    }
}

impl<L: Label> GaugeFamily<L> {
    pub fn with(&self, label: L) -> &Gauge {
        &self.0[label.index()]
    }

    pub fn samples(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        L::ALL.iter().map(|l| (l.as_str(), self.with(*l).get()))
    }
}
