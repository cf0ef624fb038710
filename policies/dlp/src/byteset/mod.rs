//! Byte classes as bit masks, 64 bytes at a time: the primitive under every fast path of a
//! scan (anchor triggers, digit runs, token ends, letter runs, base64 runs, newlines).
//!
//! A [`ByteSet`] is a few single bytes and a few inclusive ranges. On x86-64 its mask comes
//! from vector compares whose results are gathered by `pmovmskb`, through `safe_arch`'s safe
//! wrappers, as this workspace forbids `unsafe`: 32 bytes per instruction with AVX2 (the
//! workspace builds for x86-64-v3), 16 with SSE2 (the architecture's baseline, for builds
//! without it; 16-byte masks always use it). Elsewhere a branch-free flag array is
//! packed into bits by multiplication ([`pack_flags`]), which any vector unit handles.
//! Both are held to [`ByteSet::contains`] by tests. [`eq_mask16`] compares two 16-byte arrays
//! lane by lane the same way (a token against itself shifted by one: repeated bytes).
//! [`Bits`] walks a mask's set bits. [`code_counts`] counts the source-code detector's
//! punctuation and newlines sixteen bytes per step with SSE2 on x86-64 builds without AVX2,
//! and in byte lanes the compiler vectorises elsewhere.
//!
//! This is the only module that names `safe_arch` or switches on `target_arch` /
//! `target_feature`: every other fast path is built on what it offers.

/// Some single bytes, optionally the letters of both cases, and some inclusive ranges of bytes.
#[derive(Debug, Clone, Copy)]
pub struct ByteSet {
    pub bytes: &'static [u8],
    /// `[A-Za-z]`: one range test of the bytes with bit 0x20 set (which maps `A-Z` onto `a-z`
    /// and nothing else into it), where the two ranges would cost two.
    pub letters: bool,
    pub ranges: &'static [(u8, u8)],
}

/// `[0-9]`
pub const DIGITS: ByteSet = ByteSet {
    bytes: &[],
    letters: false,
    ranges: &[(b'0', b'9')],
};

/// `[A-Za-z]`
pub const LETTERS: ByteSet = ByteSet {
    bytes: &[],
    letters: true,
    ranges: &[],
};

/// `[A-Za-z0-9]`
pub const ALNUM: ByteSet = ByteSet::alnum_and(&[]);

/// `[A-Za-z0-9+/]`: standard base64 without padding.
pub const BASE64: ByteSet = ByteSet::alnum_and(b"+/");

/// `\n`
pub const NEWLINE: ByteSet = ByteSet::of(b"\n");

impl ByteSet {
    /// Just `bytes`.
    pub const fn of(bytes: &'static [u8]) -> ByteSet {
        ByteSet {
            bytes,
            letters: false,
            ranges: &[],
        }
    }

    /// `[A-Za-z0-9]` and `bytes`: the shape of most token alphabets.
    pub const fn alnum_and(bytes: &'static [u8]) -> ByteSet {
        ByteSet {
            bytes,
            letters: true,
            ranges: &[(b'0', b'9')],
        }
    }

    /// The definition every mask is held to (by the tests).
    #[cfg(test)]
    pub fn contains(&self, b: u8) -> bool {
        self.bytes.contains(&b)
            || (self.letters && b.is_ascii_alphabetic())
            || self.ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&b))
    }

    /// Bit `k` set when `chunk[k]` is in the set, for a chunk of up to 64 bytes (bits past
    /// the chunk's end are clear).
    #[inline(always)]
    pub fn mask(&self, chunk: &[u8]) -> u64 {
        match <&[u8; 64]>::try_from(chunk) {
            Ok(full) => self.mask64(full),
            Err(_) => {
                // A short chunk (a window, the end of a text): padded to 64 so that it takes
                // the same path, then the padding's bits cleared.
                let n = chunk.len().min(64);
                let mut padded = [0u8; 64];
                padded[..n].copy_from_slice(&chunk[..n]);
                let valid = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
                self.mask64(&padded) & valid
            }
        }
    }

    /// [`ByteSet::mask`] of `text[from..to]` (at most 64 bytes): where the text goes on for 64
    /// bytes from `from`, those are read whole and the bits past `to` cleared, which spares a
    /// short window the copy into a padded chunk.
    #[inline(always)]
    pub fn mask_in(&self, text: &[u8], from: usize, to: usize) -> u64 {
        let n = to - from;
        debug_assert!(n <= 64);
        match text.get(from..from + 64) {
            Some(full) => {
                let valid = if n >= 64 { u64::MAX } else { (1u64 << n) - 1 };
                self.mask(full) & valid
            }
            None => self.mask(&text[from..to]),
        }
    }

    /// Where the run of set bytes from `from` ends, stopping at `hi` (at most the text's end):
    /// 64 bytes at a time from masks, read past `hi` where the text goes on, then capped.
    #[inline(always)] // sets are constants at every call: their loops unroll
    pub fn run_end(&self, text: &[u8], mut from: usize, hi: usize) -> usize {
        while from < hi {
            let chunk = &text[from..text.len().min(from + 64)];
            // Bits past a short chunk's end (the text's end) are clear in its mask: they stop.
            let stop = !self.mask(chunk);
            if stop != 0 {
                return (from + stop.trailing_zeros() as usize).min(hi);
            }
            from += 64;
        }
        hi
    }

    /// Bit `k` set when `sixteen[k]` is in the set: one vector's worth, for the start of a line
    /// or a word, where a 64-byte mask would read three lanes for nothing.
    #[inline(always)]
    pub fn mask16(&self, sixteen: &[u8; 16]) -> u16 {
        #[cfg(target_arch = "x86_64")]
        {
            use safe_arch::{load_unaligned_m128i, move_mask_i8_m128i};
            // The sign bits of sixteen bytes: exactly 16 bits, so the cast keeps them all.
            move_mask_i8_m128i(self.lanes(load_unaligned_m128i(sixteen))) as u16
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let mut padded = [0u8; 64];
            padded[..16].copy_from_slice(sixteen);
            self.mask64_portable(&padded) as u16
        }
    }

    /// Two 32-byte vectors where the build has AVX2 (x86-64-v3, the workspace's target).
    #[cfg(all(target_arch = "x86_64", target_feature = "avx2"))]
    #[inline(always)]
    fn mask64(&self, chunk: &[u8; 64]) -> u64 {
        use safe_arch::{load_unaligned_m256i, move_mask_i8_m256i};
        let mut mask = 0u64;
        for (k, half) in chunk.chunks_exact(32).enumerate() {
            let mut lane = [0i8; 32];
            for (l, b) in lane.iter_mut().zip(half) {
                *l = i8::from_ne_bytes([*b]);
            }
            let hits = self.lanes(load_unaligned_m256i(&lane));
            // The sign bits of 32 bytes: exactly 32 bits, so the cast keeps them all.
            mask |= u64::from(move_mask_i8_m256i(hits) as u32) << (32 * k);
        }
        mask
    }

    #[cfg(all(target_arch = "x86_64", not(target_feature = "avx2")))]
    #[inline(always)]
    fn mask64(&self, chunk: &[u8; 64]) -> u64 {
        use safe_arch::{load_unaligned_m128i, move_mask_i8_m128i};
        let mut mask = 0u64;
        for (k, sixteen) in chunk.chunks_exact(16).enumerate() {
            let mut lane = [0u8; 16];
            lane.copy_from_slice(sixteen);
            let hits = self.lanes(load_unaligned_m128i(&lane));
            // The sign bits of sixteen bytes: exactly 16 bits, so the cast keeps them all.
            mask |= u64::from(move_mask_i8_m128i(hits) as u16) << (16 * k);
        }
        mask
    }

    /// 0xFF in each lane of `v` (16 or 32 bytes) whose byte is in the set, 0 elsewhere.
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn lanes<V: Lanes>(&self, v: V) -> V {
        let mut hits = V::splat(0);
        for &b in self.bytes {
            hits = hits.or(v.eq(V::splat(b)));
        }
        if self.letters {
            let moved = v
                .or(V::splat(0x20))
                .add(V::splat(0x80u8.wrapping_sub(b'a')));
            hits = hits.or(moved.lt(V::splat((b'z' - b'a' + 1) ^ 0x80)));
        }
        for &(lo, hi) in self.ranges {
            let in_range = if lo <= hi && hi - lo < 0xFF {
                // Unsigned `v - lo <= hi - lo`, as a signed compare (the only kind SSE2 and
                // AVX2 have) after both sides are moved by 0x80:
                // `v + (0x80 - lo) < (hi - lo + 1) ^ 0x80`.
                let moved = v.add(V::splat(0x80u8.wrapping_sub(lo)));
                moved.lt(V::splat((hi - lo + 1) ^ 0x80))
            } else {
                // Every byte, or an empty range written backwards: unsigned max and min.
                let above = v.max_u8(V::splat(lo)).eq(v);
                let below = v.min_u8(V::splat(hi)).eq(v);
                above.and(below)
            };
            hits = hits.or(in_range);
        }
        hits
    }

    #[cfg(not(target_arch = "x86_64"))]
    #[inline(always)]
    fn mask64(&self, chunk: &[u8; 64]) -> u64 {
        self.mask64_portable(chunk)
    }

    /// The mask without vector instructions named: flags, then [`pack_flags`].
    #[cfg_attr(target_arch = "x86_64", allow(dead_code))]
    #[inline(always)]
    fn mask64_portable(&self, chunk: &[u8; 64]) -> u64 {
        let mut flags = [0u8; 64];
        for (f, b) in flags.iter_mut().zip(chunk) {
            *f = u8::from(self.contains_lane(*b));
        }
        pack_flags(&flags)
    }

    /// [`ByteSet::contains`] without branches, so that the flag loop vectorises.
    #[inline(always)]
    fn contains_lane(&self, b: u8) -> bool {
        let mut hit = false;
        for &x in self.bytes {
            hit |= b == x;
        }
        hit |= self.letters && (b | 0x20).wrapping_sub(b'a') < 26;
        for &(lo, hi) in self.ranges {
            hit |= lo <= hi && b.wrapping_sub(lo) <= hi - lo;
        }
        hit
    }
}

/// The byte-lane operations [`ByteSet`]'s masks are made of, for SSE2's 16-byte vectors and
/// AVX2's 32-byte ones: one test per set, written once for both widths.
#[cfg(target_arch = "x86_64")]
trait Lanes: Copy {
    fn splat(b: u8) -> Self;
    fn or(self, other: Self) -> Self;
    fn and(self, other: Self) -> Self;
    fn add(self, other: Self) -> Self;
    /// 0xFF where the lanes are equal.
    fn eq(self, other: Self) -> Self;
    /// 0xFF where `self`'s lane is below `other`'s, as signed bytes.
    fn lt(self, other: Self) -> Self;
    fn max_u8(self, other: Self) -> Self;
    fn min_u8(self, other: Self) -> Self;
}

#[cfg(target_arch = "x86_64")]
impl Lanes for safe_arch::m128i {
    #[inline(always)]
    fn splat(b: u8) -> Self {
        safe_arch::set_splat_i8_m128i(i8::from_ne_bytes([b]))
    }
    #[inline(always)]
    fn or(self, other: Self) -> Self {
        safe_arch::bitor_m128i(self, other)
    }
    #[inline(always)]
    fn and(self, other: Self) -> Self {
        safe_arch::bitand_m128i(self, other)
    }
    #[inline(always)]
    fn add(self, other: Self) -> Self {
        safe_arch::add_i8_m128i(self, other)
    }
    #[inline(always)]
    fn eq(self, other: Self) -> Self {
        safe_arch::cmp_eq_mask_i8_m128i(self, other)
    }
    #[inline(always)]
    fn lt(self, other: Self) -> Self {
        safe_arch::cmp_lt_mask_i8_m128i(self, other)
    }
    #[inline(always)]
    fn max_u8(self, other: Self) -> Self {
        safe_arch::max_u8_m128i(self, other)
    }
    #[inline(always)]
    fn min_u8(self, other: Self) -> Self {
        safe_arch::min_u8_m128i(self, other)
    }
}

#[cfg(all(target_arch = "x86_64", target_feature = "avx2"))]
impl Lanes for safe_arch::m256i {
    #[inline(always)]
    fn splat(b: u8) -> Self {
        safe_arch::set_splat_i8_m256i(i8::from_ne_bytes([b]))
    }
    #[inline(always)]
    fn or(self, other: Self) -> Self {
        safe_arch::bitor_m256i(self, other)
    }
    #[inline(always)]
    fn and(self, other: Self) -> Self {
        safe_arch::bitand_m256i(self, other)
    }
    #[inline(always)]
    fn add(self, other: Self) -> Self {
        safe_arch::add_i8_m256i(self, other)
    }
    #[inline(always)]
    fn eq(self, other: Self) -> Self {
        safe_arch::cmp_eq_mask_i8_m256i(self, other)
    }
    #[inline(always)]
    fn lt(self, other: Self) -> Self {
        // AVX2 has only "greater than": `a < b` is `b > a`.
        safe_arch::cmp_gt_mask_i8_m256i(other, self)
    }
    #[inline(always)]
    fn max_u8(self, other: Self) -> Self {
        safe_arch::max_u8_m256i(self, other)
    }
    #[inline(always)]
    fn min_u8(self, other: Self) -> Self {
        safe_arch::min_u8_m256i(self, other)
    }
}

/// Bit `k` set when `a[k] == b[k]`: one compare instruction on x86-64, as masks are.
#[inline(always)]
pub fn eq_mask16(a: &[u8; 16], b: &[u8; 16]) -> u16 {
    #[cfg(target_arch = "x86_64")]
    {
        use safe_arch::{cmp_eq_mask_i8_m128i, load_unaligned_m128i, move_mask_i8_m128i};
        let hits = cmp_eq_mask_i8_m128i(load_unaligned_m128i(a), load_unaligned_m128i(b));
        // The sign bits of sixteen bytes: exactly 16 bits, so the cast keeps them all.
        move_mask_i8_m128i(hits) as u16
    }
    #[cfg(not(target_arch = "x86_64"))]
    eq_mask16_portable(a, b)
}

/// [`eq_mask16`] without vector instructions named.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline(always)]
fn eq_mask16_portable(a: &[u8; 16], b: &[u8; 16]) -> u16 {
    let mut flags = [0u8; 64];
    for ((f, x), y) in flags.iter_mut().zip(a).zip(b) {
        *f = u8::from(x == y);
    }
    pack_flags(&flags) as u16
}

/// How many distinct bytes sixteen bytes hold. On x86-64: each lane compared with the lanes
/// before it (fifteen byte shifts of the vector), the lanes equal to an earlier one counted
/// out. The bytes are inverted first, so that the zeros a shift brings in match no lane
/// (which holds for every byte but 0xFF: the portable count serves texts that have one).
#[inline(always)]
pub fn distinct_in_16(bytes: &[u8; 16]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    if let Some(n) = distinct_in_16_sse2(bytes) {
        return n;
    }
    distinct_in_16_portable(bytes)
}

/// `None` when a byte is 0xFF.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn distinct_in_16_sse2(bytes: &[u8; 16]) -> Option<u32> {
    use safe_arch::{
        bitor_m128i, bitxor_m128i, byte_shl_imm_u128_m128i as shl, cmp_eq_mask_i8_m128i as eq,
        load_unaligned_m128i, move_mask_i8_m128i, set_splat_i8_m128i, zeroed_m128i,
    };
    let v = bitxor_m128i(load_unaligned_m128i(bytes), set_splat_i8_m128i(-1));
    if move_mask_i8_m128i(eq(v, zeroed_m128i())) != 0 {
        return None;
    }
    let mut seen = eq(v, shl::<1>(v));
    seen = bitor_m128i(seen, eq(v, shl::<2>(v)));
    seen = bitor_m128i(seen, eq(v, shl::<3>(v)));
    seen = bitor_m128i(seen, eq(v, shl::<4>(v)));
    seen = bitor_m128i(seen, eq(v, shl::<5>(v)));
    seen = bitor_m128i(seen, eq(v, shl::<6>(v)));
    seen = bitor_m128i(seen, eq(v, shl::<7>(v)));
    seen = bitor_m128i(seen, eq(v, shl::<8>(v)));
    seen = bitor_m128i(seen, eq(v, shl::<9>(v)));
    seen = bitor_m128i(seen, eq(v, shl::<10>(v)));
    seen = bitor_m128i(seen, eq(v, shl::<11>(v)));
    seen = bitor_m128i(seen, eq(v, shl::<12>(v)));
    seen = bitor_m128i(seen, eq(v, shl::<13>(v)));
    seen = bitor_m128i(seen, eq(v, shl::<14>(v)));
    seen = bitor_m128i(seen, eq(v, shl::<15>(v)));
    Some(16 - (move_mask_i8_m128i(seen) as u16).count_ones())
}

/// [`distinct_in_16`] byte by byte.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn distinct_in_16_portable(bytes: &[u8; 16]) -> u32 {
    let mut seen = [false; 256];
    let mut n = 0;
    for &b in bytes {
        n += u32::from(!std::mem::replace(&mut seen[usize::from(b)], true));
    }
    n
}

/// 64 flags that are each 0 or 1 as the bits of a `u64` (flag `k` to bit `k`).
#[inline(always)]
pub fn pack_flags(flags: &[u8; 64]) -> u64 {
    let mut mask = 0u64;
    for (w, eight) in flags.chunks_exact(8).enumerate() {
        let mut v = [0u8; 8];
        v.copy_from_slice(eight);
        mask |= pack8(u64::from_le_bytes(v)) << (8 * w);
    }
    mask
}

/// Eight bytes that are each 0 or 1, as eight bits (byte `k` to bit `k`): the multiplication
/// moves every byte's bit to the top byte, where no two products collide.
#[inline(always)]
fn pack8(v: u64) -> u64 {
    (v.wrapping_mul(0x0102_0408_1020_4080) >> 56) & 0xFF
}

/// The positions of a mask's set bits, lowest first: the walk over every mask of a scan
/// (trigger bytes, newlines, `A`s, run starts), so that the clear-the-lowest-bit step is
/// written once.
#[derive(Debug, Clone, Copy, Default)]
pub struct Bits(pub u64);

impl Iterator for Bits {
    type Item = usize;

    #[inline(always)]
    fn next(&mut self) -> Option<usize> {
        if self.0 == 0 {
            return None;
        }
        let k = self.0.trailing_zeros() as usize;
        // Clears the lowest set bit.
        self.0 &= self.0 - 1;
        Some(k)
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.0.count_ones() as usize;
        (n, Some(n))
    }
}

impl ExactSizeIterator for Bits {}

/// `(code bytes, newlines)` in `block`: how many of `(`, `;`, `=` it holds and how many `\n`
/// (the source-code detector's density test, `detectors::code::density`).
pub fn code_counts(block: &[u8]) -> (usize, usize) {
    // With AVX2 the compiler vectorises the portable lanes 32 bytes wide.
    #[cfg(all(target_arch = "x86_64", not(target_feature = "avx2")))]
    return code_counts_sse2(block);
    #[cfg(any(not(target_arch = "x86_64"), target_feature = "avx2"))]
    code_counts_portable(block)
}

/// [`code_counts`] sixteen bytes per step: a compare gives 0xFF (-1) in each lane that matches, and
/// subtracting it counts the lane up by one; every 255 steps (before a lane can wrap) the
/// lanes are summed by `psadbw` against zero.
#[cfg(target_arch = "x86_64")]
#[cfg_attr(target_feature = "avx2", allow(dead_code))]
fn code_counts_sse2(block: &[u8]) -> (usize, usize) {
    use safe_arch::{
        bitor_m128i, cmp_eq_mask_i8_m128i as eq, load_unaligned_m128i, m128i, set_splat_i8_m128i,
        sub_i8_m128i, sum_of_u8_abs_diff_m128i, zeroed_m128i,
    };
    let splat = |b: u8| set_splat_i8_m128i(i8::from_ne_bytes([b]));
    let (open, semi, equals, newline) = (splat(b'('), splat(b';'), splat(b'='), splat(b'\n'));
    let total = |lanes: m128i| -> usize {
        let [lo, hi] = <[u64; 2]>::from(sum_of_u8_abs_diff_m128i(lanes, zeroed_m128i()));
        (lo + hi) as usize
    };
    let (mut code, mut lines) = (0usize, 0usize);
    for big in block.chunks(16 * 255) {
        let (mut c, mut n) = (zeroed_m128i(), zeroed_m128i());
        let mut sixteens = big.chunks_exact(16);
        for sixteen in &mut sixteens {
            let mut lane = [0u8; 16];
            lane.copy_from_slice(sixteen);
            let v = load_unaligned_m128i(&lane);
            let marks = bitor_m128i(bitor_m128i(eq(v, open), eq(v, semi)), eq(v, equals));
            c = sub_i8_m128i(c, marks);
            n = sub_i8_m128i(n, eq(v, newline));
        }
        code += total(c);
        lines += total(n);
        for x in sixteens.remainder() {
            code += usize::from((*x == b'(') | (*x == b';') | (*x == b'='));
            lines += usize::from(*x == b'\n');
        }
    }
    (code, lines)
}

/// [`code_counts`] in byte lanes the compiler vectorises.
#[cfg_attr(
    all(target_arch = "x86_64", not(target_feature = "avx2")),
    allow(dead_code)
)]
fn code_counts_portable(block: &[u8]) -> (usize, usize) {
    const W: usize = 32;
    let (mut code, mut lines) = (0usize, 0usize);
    // u8 lanes overflow after 255 rounds.
    for big in block.chunks(W * 255) {
        let (mut c, mut n) = ([0u8; W], [0u8; W]);
        let mut chunks = big.chunks_exact(W);
        for chunk in &mut chunks {
            for (i, x) in chunk.iter().enumerate() {
                c[i] += u8::from((*x == b'(') | (*x == b';') | (*x == b'='));
                n[i] += u8::from(*x == b'\n');
            }
        }
        code += c.iter().map(|v| usize::from(*v)).sum::<usize>();
        lines += n.iter().map(|v| usize::from(*v)).sum::<usize>();
        for x in chunks.remainder() {
            code += usize::from((*x == b'(') | (*x == b';') | (*x == b'='));
            lines += usize::from(*x == b'\n');
        }
    }
    (code, lines)
}

#[cfg(test)]
mod tests;
