//! Hex for keys in TOML and base64 for the envelope (DSSE uses standard, padded base64).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

pub(crate) use release::canonical::hex as to_hex;

/// Exactly 32 bytes as 64 hex digits (either case).
pub(crate) fn hex_32(text: &str) -> Result<[u8; 32], String> {
    if text.len() != 64 {
        return Err(format!(
            "expected 64 hex digits (32 bytes), found {} characters",
            text.len()
        ));
    }
    let mut out = [0u8; 32];
    for (i, pair) in text.as_bytes().chunks(2).enumerate() {
        let high = hex_digit(pair[0])?;
        let low = hex_digit(pair[1])?;
        out[i] = (high << 4) | low;
    }
    Ok(out)
}

fn hex_digit(byte: u8) -> Result<u8, String> {
    match byte {
        b'0'..=b'9' => Ok(byte - b'0'),
        b'a'..=b'f' => Ok(byte - b'a' + 10),
        b'A'..=b'F' => Ok(byte - b'A' + 10),
        _ => Err(format!("'{}' is not a hex digit", byte.escape_ascii())),
    }
}

pub(crate) fn base64_encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

pub(crate) fn base64_decode(text: &str) -> Result<Vec<u8>, String> {
    STANDARD
        .decode(text)
        .map_err(|err| format!("invalid base64: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_rejects_bad_digits() {
        let bytes: [u8; 32] = std::array::from_fn(|i| (i * 9) as u8);
        assert_eq!(hex_32(&to_hex(&bytes)).unwrap(), bytes);
        assert_eq!(hex_32(&to_hex(&bytes).to_uppercase()).unwrap(), bytes);
        assert!(hex_32("abc").unwrap_err().contains("64 hex digits"));
        let bad = format!("{}zz", "0".repeat(62));
        assert!(hex_32(&bad).unwrap_err().contains("'z' is not a hex digit"));
    }

    #[test]
    fn base64_is_standard_padded() {
        assert_eq!(base64_encode(b"ab"), "YWI=");
        assert_eq!(base64_decode("YWI=").unwrap(), b"ab");
        assert!(base64_decode("YWI").is_err());
        assert!(base64_decode("Y W I=").is_err());
    }
}
