//! Random damage to a valid input: the edits a torn write, a bad disk or a hostile client
//! make. Shared by every property; the fuzz drivers see the damaged bytes.

use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Edit {
    Flip { at: usize, bit: u8 },
    Set { at: usize, byte: u8 },
    Insert { at: usize, bytes: Vec<u8> },
    Delete { at: usize, len: usize },
    Duplicate { at: usize, len: usize },
    Truncate { at: usize },
}

fn edit() -> impl Strategy<Value = Edit> {
    let at = any::<usize>();
    prop_oneof![
        (at, 0u8..8).prop_map(|(at, bit)| Edit::Flip { at, bit }),
        (
            at,
            prop::sample::select(&[0u8, 0xff, 0x7f, 0x80, b'\n', b'"', b'='][..])
        )
            .prop_map(|(at, byte)| Edit::Set { at, byte }),
        (at, prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Edit::Insert { at, bytes }),
        (at, 1usize..64).prop_map(|(at, len)| Edit::Delete { at, len }),
        (at, 1usize..64).prop_map(|(at, len)| Edit::Duplicate { at, len }),
        at.prop_map(|at| Edit::Truncate { at }),
    ]
}

fn apply(mut data: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for edit in edits {
        let n = data.len().max(1);
        match edit {
            Edit::Flip { at, bit } => {
                if let Some(b) = data.get_mut(at % n) {
                    *b ^= 1 << bit;
                }
            }
            Edit::Set { at, byte } => {
                if let Some(b) = data.get_mut(at % n) {
                    *b = *byte;
                }
            }
            Edit::Insert { at, bytes } => {
                let at = at % (data.len() + 1);
                data.splice(at..at, bytes.iter().copied());
            }
            Edit::Delete { at, len } => {
                let at = at % n;
                let end = (at + len).min(data.len());
                data.drain(at.min(end)..end);
            }
            Edit::Duplicate { at, len } => {
                let at = at % n;
                let end = (at + len).min(data.len());
                let copy = data.get(at.min(end)..end).unwrap_or_default().to_vec();
                data.splice(end..end, copy);
            }
            Edit::Truncate { at } => data.truncate(at % n),
        }
    }
    data
}

/// `valid`, unchanged in about a fifth of the cases, otherwise with one to four random edits.
pub fn damaged(valid: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    damaged_from(Just(valid))
}

/// Like [`damaged`], for a strategy of valid inputs.
pub fn damaged_from<S>(valid: S) -> impl Strategy<Value = Vec<u8>>
where
    S: Strategy<Value = Vec<u8>>,
{
    (valid, prop::collection::vec(edit(), 0..5)).prop_map(|(valid, edits)| apply(valid, &edits))
}
