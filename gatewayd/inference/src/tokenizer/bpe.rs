//! Byte-pair merging of one pre-tokenized word: repeatedly join the adjacent pair with the
//! lowest merge rank (leftmost first among equals), as llama.cpp does.
//!
//! A heap of candidate pairs over a linked list of symbols keeps a word of n bytes at
//! O(n log n), so a long run without spaces costs bounded time.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

/// Merge table: (left id, right id) -> (rank, merged id).
pub(crate) type Merges = HashMap<(u32, u32), (u32, u32)>;

struct Sym {
    id: u32,
    prev: Option<usize>,
    next: Option<usize>,
    alive: bool,
}

/// Merges the initial symbol ids of a word; returns the final ids in order.
pub(crate) fn merge(initial: &[u32], merges: &Merges) -> Vec<u32> {
    let n = initial.len();
    let mut syms: Vec<Sym> = initial
        .iter()
        .enumerate()
        .map(|(i, &id)| Sym {
            id,
            prev: i.checked_sub(1),
            next: (i + 1 < n).then_some(i + 1),
            alive: true,
        })
        .collect();
    // (rank, left index, left id, right id): stale entries are recognised by the ids.
    let mut heap = BinaryHeap::new();
    let push = |heap: &mut BinaryHeap<_>, syms: &[Sym], left: usize| {
        if let Some(right) = syms[left].next {
            if let Some(&(rank, _)) = merges.get(&(syms[left].id, syms[right].id)) {
                heap.push(Reverse((rank, left, syms[left].id, syms[right].id)));
            }
        }
    };
    for i in 0..n {
        push(&mut heap, &syms, i);
    }
    while let Some(Reverse((_, left, lid, rid))) = heap.pop() {
        let Some(right) = syms[left].next else {
            continue;
        };
        if !syms[left].alive || syms[left].id != lid || syms[right].id != rid {
            continue;
        }
        let Some(&(_, merged)) = merges.get(&(lid, rid)) else {
            continue;
        };
        syms[left].id = merged;
        syms[right].alive = false;
        let after = syms[right].next;
        syms[left].next = after;
        if let Some(a) = after {
            syms[a].prev = Some(left);
        }
        if let Some(p) = syms[left].prev {
            push(&mut heap, &syms, p);
        }
        push(&mut heap, &syms, left);
    }
    syms.iter().filter(|s| s.alive).map(|s| s.id).collect()
}
