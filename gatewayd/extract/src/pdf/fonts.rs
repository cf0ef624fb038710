//! Font resource names (`/F1`) to ToUnicode CMaps. Names are collected from every `/Font`
//! resource dictionary in the file and mapped globally, first definition winning: cheaper than
//! tracking each page's resources, and right for the files office suites and browsers write,
//! which name each font once.

use std::collections::HashMap;

use super::cmap::CMap;
use super::objects::Objects;
use super::syntax::{name_at, reference, skip_space, value_of};

/// CMaps by font resource name.
#[derive(Default)]
pub(crate) struct Fonts {
    by_name: HashMap<Vec<u8>, usize>,
    cmaps: Vec<CMap>,
}

impl Fonts {
    pub(crate) fn get(&self, name: &[u8]) -> Option<&CMap> {
        self.cmaps.get(*self.by_name.get(name)?)
    }
}

/// The ToUnicode object a font object names, by font object number.
pub(crate) fn to_unicode_refs(objects: &Objects<'_>, numbers: &[u32]) -> HashMap<u32, u32> {
    numbers
        .iter()
        .filter_map(|&n| {
            let body = objects.get(n)?;
            let at = value_of(body, b"ToUnicode")?;
            Some((n, reference(body, at)?.0))
        })
        .collect()
}

/// Every font object named in a `/Font` resource dictionary: (resource name, object number).
pub(crate) fn font_resources(objects: &Objects<'_>) -> Vec<(Vec<u8>, u32)> {
    let mut out = Vec::new();
    for body in objects.bodies() {
        let Some(at) = value_of(body, b"Font") else {
            continue;
        };
        let dict: &[u8] = if body.get(at..at + 2) == Some(b"<<") {
            &body[at + 2..]
        } else if let Some((number, _)) = reference(body, at) {
            match objects.get(number) {
                Some(resolved) => {
                    let start = skip_space(resolved, 0);
                    resolved.get(start + 2..).unwrap_or_default()
                }
                None => continue,
            }
        } else {
            continue;
        };
        pairs(dict, &mut out);
    }
    out
}

/// `/Name N G R` pairs up to the dictionary's `>>`.
fn pairs(dict: &[u8], out: &mut Vec<(Vec<u8>, u32)>) {
    let mut at = skip_space(dict, 0);
    while let Some(name) = name_at(dict, at) {
        let value = skip_space(dict, at + 1 + name.len());
        let Some((number, end)) = reference(dict, value) else {
            return;
        };
        out.push((name.to_vec(), number));
        at = skip_space(dict, end);
    }
}

/// Builds the name → CMap table from resources, font → ToUnicode links and parsed CMaps.
pub(crate) fn build(
    resources: &[(Vec<u8>, u32)],
    to_unicode: &HashMap<u32, u32>,
    mut cmaps: HashMap<u32, CMap>,
) -> Fonts {
    let mut fonts = Fonts::default();
    let mut index: HashMap<u32, usize> = HashMap::new();
    for (name, font) in resources {
        if fonts.by_name.contains_key(name) {
            continue;
        }
        let Some(cmap_object) = to_unicode.get(font) else {
            continue;
        };
        let slot = match index.get(cmap_object) {
            Some(&slot) => slot,
            None => {
                let Some(cmap) = cmaps.remove(cmap_object) else {
                    continue;
                };
                fonts.cmaps.push(cmap);
                index.insert(*cmap_object, fonts.cmaps.len() - 1);
                fonts.cmaps.len() - 1
            }
        };
        fonts.by_name.insert(name.clone(), slot);
    }
    fonts
}
