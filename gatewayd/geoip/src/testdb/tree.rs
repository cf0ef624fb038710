//! The binary search tree of a MaxMind DB: one bit of the address per level.
//!
//! Test support only. Networks must be inserted shortest prefix first, so that a longer
//! prefix splits the leaf of a shorter one and the most specific network wins.

/// Where one branch of a node leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    /// No network: the reader's "not found".
    Empty,
    /// Another node, by number.
    Node(usize),
    /// A record, by offset in the data section.
    Data(usize),
}

/// A prefix tree over 128-bit keys; node 0 is the root.
#[derive(Debug)]
pub(crate) struct Trie {
    nodes: Vec<[Slot; 2]>,
}

impl Trie {
    pub(crate) fn new() -> Self {
        Self {
            nodes: vec![[Slot::Empty; 2]],
        }
    }

    pub(crate) fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Points every address whose first `len` bits equal those of `key` (left-aligned in
    /// 128 bits) at the record at `data_offset`.
    pub(crate) fn insert(&mut self, key: u128, len: u32, data_offset: usize) {
        if len == 0 {
            self.nodes[0] = [Slot::Data(data_offset); 2];
            return;
        }
        let mut node = 0;
        for depth in 0..len {
            let bit = usize::from((key >> (127 - depth)) & 1 == 1);
            if depth + 1 == len {
                self.nodes[node][bit] = Slot::Data(data_offset);
                return;
            }
            node = match self.nodes[node][bit] {
                Slot::Node(next) => next,
                other => {
                    // Splitting a shorter network keeps its record on both halves.
                    let fill = match other {
                        Slot::Data(_) => other,
                        _ => Slot::Empty,
                    };
                    let next = self.nodes.len();
                    self.nodes.push([fill; 2]);
                    self.nodes[node][bit] = Slot::Node(next);
                    next
                }
            };
        }
    }

    /// The packed search tree; `None` when a record does not fit in `record_size` bits.
    pub(crate) fn encode(&self, record_size: u16) -> Option<Vec<u8>> {
        let node_count = self.nodes.len();
        let limit = 1_u64 << record_size;
        let value = |slot: Slot| -> Option<u64> {
            let v = match slot {
                Slot::Empty => node_count,
                Slot::Node(n) => n,
                Slot::Data(offset) => node_count + 16 + offset,
            };
            u64::try_from(v).ok().filter(|&v| v < limit)
        };
        let mut out = Vec::with_capacity(node_count * usize::from(record_size) / 4);
        for [left, right] in &self.nodes {
            let (l, r) = (value(*left)?, value(*right)?);
            let (lb, rb) = (l.to_be_bytes(), r.to_be_bytes());
            match record_size {
                24 => {
                    out.extend_from_slice(&lb[5..]);
                    out.extend_from_slice(&rb[5..]);
                }
                28 => {
                    out.extend_from_slice(&lb[5..]);
                    out.push((lb[4] << 4) | (rb[4] & 0x0f));
                    out.extend_from_slice(&rb[5..]);
                }
                _ => {
                    out.extend_from_slice(&lb[4..]);
                    out.extend_from_slice(&rb[4..]);
                }
            }
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longer_prefix_splits_shorter_one() {
        let mut trie = Trie::new();
        trie.insert(0, 1, 7); // 0::/1
        trie.insert(1 << 126, 2, 9); // 4000::/2
        assert_eq!(trie.nodes[0], [Slot::Node(1), Slot::Empty]);
        assert_eq!(trie.nodes[1], [Slot::Data(7), Slot::Data(9)]);
    }

    #[test]
    fn packs_records_at_every_size() {
        let mut trie = Trie::new();
        trie.insert(0, 1, 0);
        // node_count 1: left = 1 + 16 + 0, right = 1 (empty)
        assert_eq!(trie.encode(24).unwrap(), [0, 0, 17, 0, 0, 1]);
        assert_eq!(trie.encode(28).unwrap(), [0, 0, 17, 0, 0, 0, 1]);
        assert_eq!(trie.encode(32).unwrap(), [0, 0, 0, 17, 0, 0, 0, 1]);
        trie.insert(0, 1, 1 << 24);
        assert_eq!(trie.encode(24), None);
        assert_eq!(trie.encode(28).unwrap()[3], 0x10);
    }
}
