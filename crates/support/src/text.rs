//! Text from files, made safe to print.
//!
//! An artifact id, a role or a request path comes from someone else's file or request; printed
//! raw, a NUL or an ANSI escape sequence in it can rewrite the terminal or the log line around
//! it. [`escape_controls`] is what every front end applies to such text before printing it.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `text` with every control character (C0, DEL, C1) and every bidirectional override written
/// as an escape: `\n`, `\t`, `\r`, `\0`, else `\u{1b}`. Text without them is returned as is.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Control characters, and the Unicode bidirectional embeddings, overrides and isolates that
/// can make printed text read differently from what it is.
fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_and_bidi_overrides_are_escaped_and_plain_text_is_untouched() {
        assert_eq!(
            escape_controls("a\u{1b}[31mred\0\n\u{202e}x\u{9b}"),
            "a\\u{1b}[31mred\\0\\n\\u{202e}x\\u{9b}"
        );
        assert!(matches!(
            escape_controls("spiralverse/textgen-lora-v1 é"),
            Cow::Borrowed(_)
        ));
    }
}
