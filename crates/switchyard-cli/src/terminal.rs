//! Text from repositories (file and folder names, values, messages) is printed to a terminal:
//! control characters in it must not move the cursor, clear the screen or fake table rows.

use std::borrow::Cow;

/// Whether `c` must not reach a terminal raw: C0 and C1 control characters, DEL, and the
/// Unicode bidirectional overrides and isolates that reorder what is shown.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every unsafe character written as an escape (`\n`, `\r`, `\t`, `\x1b`,
/// `\u{202e}`), so one value is one line on the screen.
pub fn escape(text: &str) -> Cow<'_, str> {
    escape_keeping(text, &[])
}

/// [`escape`], but the characters in `keep` (the line breaks and tabs of a whole output) stay.
pub fn escape_keeping<'a>(text: &'a str, keep: &[char]) -> Cow<'a, str> {
    if !text.chars().any(|c| is_unsafe(c) && !keep.contains(&c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !is_unsafe(c) || keep.contains(&c) {
            out.push(c);
            continue;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    Cow::Owned(out)
}

/// A table cell from one value: [`escape`]d, owned.
pub fn cell(text: &str) -> String {
    escape(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(escape("a\nb"), "a\\nb");
        assert_eq!(escape("\u{1b}[2J"), "\\x1b[2J");
        assert_eq!(escape("x\u{9b}31m"), "x\\x9b31m");
        assert_eq!(escape("evil\u{202e}txt.yml"), "evil\\u{202e}txt.yml");
        assert_eq!(
            escape("api/docker-compose.yml:3:5"),
            "api/docker-compose.yml:3:5"
        );
        assert!(matches!(escape("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn kept_characters_stay() {
        assert_eq!(escape_keeping("a\nb\u{7}", &['\n']), "a\nb\\x07");
    }
}
