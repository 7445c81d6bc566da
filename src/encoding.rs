//! Hex and base64 helpers shared by the wire formats.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

const INDIFFERENT: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const STANDARD_ANY_PAD: GeneralPurpose =
    GeneralPurpose::new(&base64::alphabet::STANDARD, INDIFFERENT);
const URL_SAFE_ANY_PAD: GeneralPurpose =
    GeneralPurpose::new(&base64::alphabet::URL_SAFE, INDIFFERENT);

/// Lowercase hex of `bytes`.
pub(crate) fn hex_lower(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        let [hi, lo] = hex_pair(b);
        out.push(char::from(hi));
        out.push(char::from(lo));
    }
    out
}

/// `byte` as two lowercase hex digits (ASCII).
pub(crate) fn hex_pair(byte: u8) -> [u8; 2] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let digit = |nibble: u8| DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'0');
    [digit(byte >> 4), digit(byte & 0x0f)]
}

/// Offset of the first character that is not lowercase hex, if any.
pub(crate) fn first_non_lower_hex(s: &str) -> Option<usize> {
    s.bytes()
        .position(|b| !(b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

/// Decodes lowercase hex; `None` on odd length or a non-lowercase-hex character.
pub(crate) fn decode_lower_hex(s: &str) -> Option<Vec<u8>> {
    let mut out = vec![0u8; s.len() / 2];
    decode_lower_hex_into(s, &mut out)?;
    Some(out)
}

/// Each byte's value as a lowercase hex digit; 0x80 (high bit set) for any
/// other byte.
#[allow(
    clippy::indexing_slicing,
    reason = "evaluated while compiling: an index out of range fails the build"
)]
const HEX_VALUES: [u8; 256] = {
    let mut table = [0x80u8; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

/// Decodes lowercase hex into `out`, which must be exactly half its length.
pub(crate) fn decode_lower_hex_into(s: &str, out: &mut [u8]) -> Option<()> {
    if s.len() % 2 != 0 || s.len() / 2 != out.len() {
        return None;
    }
    let value = |b: &u8| HEX_VALUES.get(usize::from(*b)).copied().unwrap_or(0x80);
    // Branch-free over the digits: any non-digit sets the high bit.
    let mut bad = 0u8;
    for (pair, byte) in s.as_bytes().chunks_exact(2).zip(out) {
        let [hi, lo] = pair else { return None };
        let (hi, lo) = (value(hi), value(lo));
        bad |= hi | lo;
        *byte = (hi << 4) | (lo & 0x0f);
    }
    (bad & 0x80 == 0).then_some(())
}

/// Standard base64 with padding, as DSSE writes it.
pub(crate) fn base64_encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes standard or URL-safe base64, padded or not (DSSE says readers
/// must accept both alphabets). Mixing the two alphabets is an error.
pub(crate) fn base64_decode(s: &str) -> Result<Vec<u8>, String> {
    base64_decode_bytes(s.as_bytes())
}

/// [`base64_decode`] of text given as bytes (checked against the alphabet
/// here, so it need not be checked as UTF-8 first).
pub(crate) fn base64_decode_bytes(s: &[u8]) -> Result<Vec<u8>, String> {
    // The standard alphabet first (one pass in the common case); text it
    // refuses that holds a URL-safe character is read as URL-safe, which
    // in turn refuses a standard-only character: mixing stays an error.
    STANDARD_ANY_PAD.decode(s).or_else(|standard| {
        if s.iter().any(|&b| b == b'-' || b == b'_') {
            URL_SAFE_ANY_PAD.decode(s).map_err(|e| e.to_string())
        } else {
            Err(standard.to_string())
        }
    })
}

/// [`base64_decode`] of `s` written at the end of `out`, when `s`
/// decodes to exactly `len` bytes in the standard alphabet (the common
/// case: one pass, no allocation of its own). `None` otherwise, with `out`
/// as it was: the caller decodes with [`base64_decode`], which says why.
pub(crate) fn base64_decode_standard_onto(s: &[u8], len: usize, out: &mut Vec<u8>) -> Option<()> {
    let start = out.len();
    out.resize(start.checked_add(len)?, 0);
    let written = out
        .get_mut(start..)
        .and_then(|tail| STANDARD_ANY_PAD.decode_slice(s, tail).ok());
    if written == Some(len) {
        Some(())
    } else {
        out.truncate(start);
        None
    }
}

/// How many bytes base64 text of `s`'s length decodes to, if it is
/// well formed (up to two `=` of padding, dropped).
pub(crate) fn base64_decoded_len(s: &[u8]) -> usize {
    let padding = s.iter().rev().take(2).take_while(|&&b| b == b'=').count();
    let unpadded = s.len() - padding;
    let tail = match unpadded % 4 {
        2 => 1,
        3 => 2,
        _ => 0,
    };
    unpadded / 4 * 3 + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_rejections() {
        assert_eq!(hex_lower(&[0x00, 0xab, 0xff]), "00abff");
        assert_eq!(decode_lower_hex("00abff"), Some(vec![0, 0xab, 0xff]));
        assert_eq!(decode_lower_hex("00ABff"), None);
        assert_eq!(decode_lower_hex("abc"), None);
        assert_eq!(first_non_lower_hex("12aG"), Some(3));
    }

    #[test]
    fn base64_accepts_both_alphabets_and_paddings() {
        // RFC 4648 test vector "fo" plus a byte pattern that differs between alphabets.
        assert_eq!(base64_decode("Zm8=").unwrap(), b"fo");
        assert_eq!(base64_decode("Zm8").unwrap(), b"fo");
        assert_eq!(base64_decode("-_8=").unwrap(), vec![0xfb, 0xff]);
        assert_eq!(base64_decode("+/8=").unwrap(), vec![0xfb, 0xff]);
        assert!(base64_decode("+_8=").is_err());
        assert!(base64_decode("Zm8 ").is_err());
    }

    #[test]
    fn decoding_onto_a_buffer_agrees_with_decoding() {
        for text in [
            "", "Zg==", "Zg", "Zm8=", "Zm8", "Zm9v", "Zm9vYg==", "-_8=", "Zm8==", "Z", "Zm8 ",
        ] {
            let mut out = b"prefix".to_vec();
            let text_bytes = text.as_bytes();
            let onto =
                base64_decode_standard_onto(text_bytes, base64_decoded_len(text_bytes), &mut out);
            match base64_decode(text) {
                Ok(bytes) if !text.contains(['-', '_']) => {
                    assert_eq!(onto, Some(()), "{text}");
                    assert_eq!(out, [b"prefix".as_slice(), &bytes].concat(), "{text}");
                }
                _ => {
                    assert_eq!(onto, None, "{text}");
                    assert_eq!(out, b"prefix", "{text}");
                }
            }
        }
    }
}
