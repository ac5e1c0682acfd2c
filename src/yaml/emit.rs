//! Writing YAML as stoke always has (the style of libyaml, which serde_yaml used): block
//! mappings indented by two, sequences under a key not indented, strings plain where that
//! reads back as the same string, else single-quoted, double-quoted only for characters
//! that need escapes, and literal blocks (`|`) for text with line breaks.

use super::value::{Mapping, Number, Yaml};

/// The document as YAML text, ending with a line break.
pub fn emit(doc: &Yaml) -> String {
    let mut out = String::new();
    match doc {
        Yaml::Mapping(m) if !m.is_empty() => write_mapping(&mut out, m, 0, false),
        Yaml::Sequence(s) if !s.is_empty() => write_sequence(&mut out, s, 0, false),
        scalar => {
            out.push_str(&scalar_text(scalar, 0));
            out.push('\n');
        }
    }
    out
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// Entries at `indent`; with `inline`, the first one continues the current line (after
/// a sequence's `- `).
fn write_mapping(out: &mut String, m: &Mapping, indent: usize, inline: bool) {
    for (i, (k, v)) in m.iter().enumerate() {
        if i > 0 || !inline {
            pad(out, indent);
        }
        out.push_str(&scalar_text(k, indent));
        out.push(':');
        match v {
            Yaml::Mapping(sub) if !sub.is_empty() => {
                out.push('\n');
                write_mapping(out, sub, indent + 2, false);
            }
            Yaml::Sequence(items) if !items.is_empty() => {
                out.push('\n');
                write_sequence(out, items, indent, false);
            }
            scalar => {
                out.push(' ');
                out.push_str(&scalar_text(scalar, indent + 2));
                out.push('\n');
            }
        }
    }
}

fn write_sequence(out: &mut String, items: &[Yaml], indent: usize, inline: bool) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 || !inline {
            pad(out, indent);
        }
        out.push_str("- ");
        match item {
            Yaml::Mapping(m) if !m.is_empty() => write_mapping(out, m, indent + 2, true),
            Yaml::Sequence(s) if !s.is_empty() => write_sequence(out, s, indent + 2, true),
            scalar => {
                out.push_str(&scalar_text(scalar, indent + 2));
                out.push('\n');
            }
        }
    }
}

/// A scalar (or empty collection) as it appears after `key: ` or `- `; a literal block's
/// body is indented to `indent`.
fn scalar_text(v: &Yaml, indent: usize) -> String {
    match v {
        Yaml::Null => "null".into(),
        Yaml::Bool(b) => b.to_string(),
        Yaml::Number(n) => number_text(n),
        Yaml::String(s) => string_text(s, indent),
        Yaml::Mapping(_) => "{}".into(),
        Yaml::Sequence(_) => "[]".into(),
    }
}

fn number_text(n: &Number) -> String {
    match *n {
        Number::Float(x) if x.is_nan() => ".nan".into(),
        Number::Float(x) if x.is_infinite() => if x > 0.0 { ".inf" } else { "-.inf" }.into(),
        Number::Float(x) => format!("{x:?}"),
        other => other.to_string(),
    }
}

fn string_text(s: &str, indent: usize) -> String {
    let a = Analysis::of(s);
    if s.contains('\n') {
        return if a.block_allowed {
            literal(s, indent)
        } else {
            double_quoted(s)
        };
    }
    if a.special {
        return double_quoted(s);
    }
    if !reads_back_as_string(s) || !a.plain_allowed {
        return single_quoted(s);
    }
    s.to_string()
}

/// What libyaml's scalar analysis decides for block context.
struct Analysis {
    plain_allowed: bool,
    block_allowed: bool,
    special: bool,
}

impl Analysis {
    fn of(s: &str) -> Analysis {
        let chars: Vec<char> = s.chars().collect();
        let blank = |c: Option<&char>| matches!(c, None | Some(' ' | '\t' | '\n'));
        let mut plain = !s.is_empty();
        let mut block = true;
        let mut special = false;
        if s.starts_with("---") || s.starts_with("...") {
            plain = false;
        }
        for (i, &c) in chars.iter().enumerate() {
            let next = chars.get(i + 1);
            if i == 0 {
                match c {
                    '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\''
                    | '"' | '%' | '@' | '`' => plain = false,
                    '-' | '?' | ':' if blank(next) => plain = false,
                    _ => {}
                }
            } else {
                match c {
                    ':' if blank(next) => plain = false,
                    '#' if matches!(chars[i - 1], ' ' | '\t' | '\n') => plain = false,
                    _ => {}
                }
            }
            let printable = c == '\n'
                || ('\u{20}'..='\u{7e}').contains(&c)
                || c == '\u{85}'
                || (c >= '\u{a0}' && c != '\u{feff}' && c != '\u{fffe}' && c != '\u{ffff}');
            if !printable {
                special = true;
            }
            if c == ' ' && next == Some(&'\n') {
                // A space before a line break would be lost in a block: escape it.
                special = true;
            }
        }
        if let (Some(first), Some(last)) = (chars.first(), chars.last()) {
            if matches!(first, ' ' | '\n') || matches!(last, ' ' | '\n') {
                plain = false;
            }
            if *last == ' ' {
                block = false;
            }
        }
        if special {
            block = false;
        }
        Analysis {
            plain_allowed: plain,
            block_allowed: block,
            special,
        }
    }
}

/// Whether the text, written plain, would read back as this string and not as a null,
/// boolean or number (or a string that looks like digits).
fn reads_back_as_string(s: &str) -> bool {
    matches!(super::resolve_plain(s), Yaml::String(_)) && !digits_but_not_number(s)
}

/// `0123` and the like: a string under YAML 1.2, but readers following 1.1 take it for a
/// number, so it is quoted.
fn digits_but_not_number(s: &str) -> bool {
    let t = s.strip_prefix(['-', '+']).unwrap_or(s);
    t.len() > 1 && t.starts_with('0') && t[1..].bytes().all(|b| b.is_ascii_digit())
}

fn single_quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{b}' => out.push_str("\\v"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '\u{1b}' => out.push_str("\\e"),
            '\u{85}' => out.push_str("\\N"),
            '\u{a0}' => out.push_str("\\_"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02X}", c as u32))
            }
            c if c == '\u{feff}' || ('\u{fffe}'..='\u{ffff}').contains(&c) => {
                out.push_str(&format!("\\u{:04X}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `|` with the chomping indicator the trailing line breaks need, then the lines.
fn literal(s: &str, indent: usize) -> String {
    let indent = indent.max(2);
    let chomp = if !s.ends_with('\n') {
        "-"
    } else if s.ends_with("\n\n") || s == "\n" {
        "+"
    } else {
        ""
    };
    let hint = if s.starts_with(' ') || s.starts_with('\n') {
        "2"
    } else {
        ""
    };
    let mut out = format!("|{hint}{chomp}");
    let body = s.strip_suffix('\n').unwrap_or(s);
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            pad(&mut out, indent);
            out.push_str(line);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emitted(text: &str) -> String {
        emit(&crate::yaml::try_from_str::<Yaml>(text).unwrap())
    }

    #[test]
    fn block_style_with_unindented_sequences_under_keys() {
        assert_eq!(
            emitted("b: [1, {x: y, z: [true, null]}]\na: {}\nc: []\n"),
            "b:\n- 1\n- x: y\n  z:\n  - true\n  - null\na: {}\nc: []\n"
        );
        assert_eq!(emitted("- [x, [y, z]]\n"), "- - x\n  - - y\n    - z\n");
    }

    #[test]
    fn strings_are_quoted_only_when_plain_would_read_differently() {
        let cases = [
            ("'8.1'", "'8.1'"),
            ("'true'", "'true'"),
            ("'012'", "'012'"),
            ("''", "''"),
            ("yes", "yes"),
            ("2.0.0", "2.0.0"),
            ("'a: b'", "'a: b'"),
            ("'- x'", "'- x'"),
            ("-x", "-x"),
            ("'it''s'", "it's"),
            ("' lead'", "' lead'"),
            ("'#x'", "'#x'"),
            ("'x #y'", "'x #y'"),
            ("\"tab\\there\"", "\"tab\\there\""),
        ];
        for (input, want) in cases {
            assert_eq!(
                emitted(&format!("v: {input}\n")),
                format!("v: {want}\n"),
                "{input}"
            );
        }
    }

    #[test]
    fn text_with_line_breaks_is_a_literal_block() {
        assert_eq!(emitted("v: \"a\\nb\\n\"\n"), "v: |\n  a\n  b\n");
        assert_eq!(emitted("v: \"a\\nb\"\n"), "v: |-\n  a\n  b\n");
        assert_eq!(emitted("- \"a\\n\\nb\\n\"\n"), "- |\n  a\n\n  b\n");
    }

    #[test]
    fn numbers_keep_their_kind() {
        assert_eq!(
            emitted("[1, -2, 1.5, 1.0, .inf, .nan]\n"),
            "- 1\n- -2\n- 1.5\n- 1.0\n- .inf\n- .nan\n"
        );
    }
}
