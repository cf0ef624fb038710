//! GPT-2's reversible map between bytes and printable characters: vocabularies store byte
//! strings as text by replacing each byte with one character.

/// The character standing for each byte.
pub(crate) fn byte_to_char() -> [char; 256] {
    let mut out = ['\0'; 256];
    let mut extra = 0u32;
    for b in 0..=255u8 {
        let printable = matches!(b, b'!'..=b'~' | 0xa1..=0xac | 0xae..=0xff);
        let cp = if printable {
            b as u32
        } else {
            extra += 1;
            255 + extra
        };
        out[b as usize] = char::from_u32(cp).unwrap_or('\u{fffd}');
    }
    out
}

/// The byte a character stands for, if it is one of the 256.
pub(crate) fn char_to_byte(c: char) -> Option<u8> {
    let cp = c as u32;
    match cp {
        0x21..=0x7e | 0xa1..=0xac | 0xae..=0xff => Some(cp as u8),
        0x100..=0x143 => {
            // The non-printable bytes, in order, took 256.. as they were met.
            let n = (cp - 0x100) as usize;
            (0..=255u8)
                .filter(|b| !matches!(b, b'!'..=b'~' | 0xa1..=0xac | 0xae..=0xff))
                .nth(n)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_map_round_trips_and_matches_gpt2() {
        let m = byte_to_char();
        assert_eq!(m[b' ' as usize], 'Ġ');
        assert_eq!(m[b'\n' as usize], 'Ċ');
        assert_eq!(m[b'a' as usize], 'a');
        for b in 0..=255u8 {
            assert_eq!(char_to_byte(m[b as usize]), Some(b));
        }
        assert_eq!(char_to_byte('€'), None);
    }
}
