//! Canonical JSON (RFC 8785 style) and sha256 digests.
//!
//! Canonical form: object keys sorted by UTF-16 code units, no whitespace, strings with only the
//! mandatory escapes, numbers in the shortest form that round-trips (ECMAScript style: `90`, not
//! `90.0`). Digests are written `sha256:<64 lowercase hex>`.
//!
//! The same writer with indentation gives the stable, human-readable form releases are stored in;
//! both forms depend only on the value, never on map insertion order or serde features.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// The canonical, whitespace-free JSON text of `value`.
pub fn to_canonical_string(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value, None, 0);
    out
}

/// Sorted-key JSON indented by two spaces, ending in a newline: the stored form.
pub fn to_pretty_string(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value, Some(2), 0);
    out.push('\n');
    out
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    digest_string(&Sha256::digest(bytes))
}

/// Lowercase hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// `sha256:<hex>` for a finished sha256 hash (the form every digest field uses).
pub fn digest_string(hash: &[u8]) -> String {
    format!("sha256:{}", hex(hash))
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(DIGITS[usize::from(byte >> 4)] as char);
        out.push(DIGITS[usize::from(byte & 0xf)] as char);
    }
    out
}

/// `sha256:<hex>` of the canonical JSON of `value`.
pub fn digest_of_value(value: &Value) -> String {
    sha256_digest(to_canonical_string(value).as_bytes())
}

/// True for `sha256:` followed by exactly 64 lowercase hex digits.
pub fn is_sha256_digest(text: &str) -> bool {
    text.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

pub(crate) fn write_value(out: &mut String, value: &Value, indent: Option<usize>, depth: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&format_number(n)),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent, depth + 1);
                write_value(out, item, indent, depth + 1);
            }
            newline(out, indent, depth);
            out.push(']');
        }
        Value::Object(map) => {
            if map.is_empty() {
                out.push_str("{}");
                return;
            }
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|(a, _), (b, _)| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent, depth + 1);
                write_string(out, key);
                out.push(':');
                if indent.is_some() {
                    out.push(' ');
                }
                write_value(out, item, indent, depth + 1);
            }
            newline(out, indent, depth);
            out.push('}');
        }
    }
}

pub(crate) fn newline(out: &mut String, indent: Option<usize>, depth: usize) {
    if let Some(width) = indent {
        out.push('\n');
        out.extend(std::iter::repeat_n(' ', width * depth));
    }
}

pub(crate) fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Integers as integers; floats the way ECMAScript's `Number.prototype.toString` writes them.
pub fn format_number(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    format_f64(n.as_f64().unwrap_or(0.0))
}

/// ECMAScript number formatting: plain decimals in [1e-6, 1e21), exponent form outside.
pub fn format_f64(f: f64) -> String {
    if f == 0.0 || !f.is_finite() {
        return "0".to_owned();
    }
    let abs = f.abs();
    if (1e-6..1e21).contains(&abs) {
        // Rust's Display is the shortest text that round-trips, without an exponent.
        return format!("{f}");
    }
    let text = format!("{f:e}");
    match text.split_once('e') {
        Some((mantissa, exp)) if !exp.starts_with('-') => format!("{mantissa}e+{exp}"),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_form_sorts_keys_and_drops_whitespace() {
        let value = json!({"b": [1, 2.5, "x"], "a": {"d": null, "c": true}});
        assert_eq!(
            to_canonical_string(&value),
            r#"{"a":{"c":true,"d":null},"b":[1,2.5,"x"]}"#
        );
    }

    #[test]
    fn numbers_are_written_like_ecmascript() {
        assert_eq!(format_f64(90.0), "90");
        assert_eq!(format_f64(0.86), "0.86");
        assert_eq!(format_f64(-0.0), "0");
        assert_eq!(format_f64(1e-7), "1e-7");
        assert_eq!(format_f64(1.5e21), "1.5e+21");
        assert_eq!(format_f64(1e20), "100000000000000000000");
    }

    #[test]
    fn strings_use_only_mandatory_escapes_and_keys_sort_by_utf16() {
        let value = json!({"\u{e9}": "a\"\\\n\u{1}/é", "z": 1, "\u{10000}": 2, "\u{ff61}": 3});
        // U+10000 encodes as the surrogate 0xD800, which sorts before U+FF61 in UTF-16.
        assert_eq!(
            to_canonical_string(&value),
            "{\"z\":1,\"\u{e9}\":\"a\\\"\\\\\\n\\u0001/é\",\"\u{10000}\":2,\"\u{ff61}\":3}"
        );
    }

    #[test]
    fn pretty_form_parses_back_to_the_same_value() {
        let value = json!({"b": [1, {"y": []}], "a": {}});
        let pretty = to_pretty_string(&value);
        assert!(pretty.ends_with("}\n"));
        let back: Value = serde_json::from_str(&pretty).unwrap();
        assert_eq!(back, value);
    }

    #[test]
    fn digests_are_prefixed_lowercase_hex() {
        let digest = sha256_digest(b"abc");
        assert_eq!(
            digest,
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(is_sha256_digest(&digest));
        assert!(!is_sha256_digest("sha256:ABC"));
        assert!(!is_sha256_digest(&digest.replace("sha256:", "md5:")));
    }
}
