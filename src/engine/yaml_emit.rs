//! YAML text for `to_yaml` that every Kubernetes-side parser reads back unchanged.
//!
//! Kubernetes (sigs.k8s.io/yaml, go-yaml v2) and most tooling read YAML 1.1, where `yes`,
//! `no`, `on`, `off`, `y` and `n` are booleans and `0755` is an octal number. A YAML 1.2
//! emitter writes those strings bare, so an annotation `"yes"` would reach the API server as
//! `true`. This emitter quotes any string that YAML 1.1 or 1.2 would resolve to something other
//! than that string, writes multi-line strings as literal blocks, and keeps keys in the order
//! of the map (sorted, for values coming from serde_json).

use serde_json::Value;

/// YAML text of `v`, without a trailing newline (like Helm's `toYaml`).
pub fn to_yaml(v: &Value) -> String {
    let mut out = String::new();
    match v {
        Value::Object(m) if !m.is_empty() => write_map(&mut out, m, 0),
        Value::Array(a) if !a.is_empty() => write_seq(&mut out, a, 0),
        other => write_inline(&mut out, other, 0),
    }
    while out.ends_with('\n') {
        out.pop();
    }
    out
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

fn write_map(out: &mut String, m: &serde_json::Map<String, Value>, indent: usize) {
    for (i, (k, v)) in m.iter().enumerate() {
        if i > 0 {
            pad(out, indent);
        }
        write_scalar_string(out, k, indent, true);
        out.push(':');
        write_after_key(out, v, indent);
    }
}

/// Writes the value of a mapping entry, starting right after the `:`.
fn write_after_key(out: &mut String, v: &Value, indent: usize) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            pad(out, indent + 2);
            write_map(out, m, indent + 2);
        }
        Value::Array(a) if !a.is_empty() => {
            // go-yaml style: sequence items at the key's own indentation.
            out.push('\n');
            pad(out, indent);
            write_seq(out, a, indent);
        }
        other => {
            out.push(' ');
            write_inline(out, other, indent);
        }
    }
}

fn write_seq(out: &mut String, a: &[Value], indent: usize) {
    for (i, v) in a.iter().enumerate() {
        if i > 0 {
            pad(out, indent);
        }
        out.push_str("- ");
        match v {
            Value::Object(m) if !m.is_empty() => write_map(out, m, indent + 2),
            Value::Array(inner) if !inner.is_empty() => write_seq(out, inner, indent + 2),
            other => write_inline(out, other, indent + 2),
        }
    }
}

/// Scalars, empty collections and strings (possibly as a literal block), then a newline.
fn write_inline(out: &mut String, v: &Value, indent: usize) {
    match v {
        Value::Null => out.push_str("null\n"),
        Value::Bool(b) => {
            out.push_str(if *b { "true" } else { "false" });
            out.push('\n');
        }
        Value::Number(n) => {
            out.push_str(&n.to_string());
            out.push('\n');
        }
        Value::String(s) => write_scalar_string(out, s, indent, false),
        Value::Array(_) => out.push_str("[]\n"),
        Value::Object(_) => out.push_str("{}\n"),
    }
    if !out.ends_with('\n') {
        out.push('\n');
    }
}

/// Writes a string plain, as a literal block (values only) or double-quoted. Keys get no
/// trailing newline; values do.
fn write_scalar_string(out: &mut String, s: &str, indent: usize, is_key: bool) {
    if !is_key && can_be_literal_block(s) {
        let body = s.trim_end_matches('\n');
        let trailing = s.len() - body.len();
        out.push_str(match trailing {
            0 => "|-",
            1 => "|",
            _ => "|+",
        });
        out.push('\n');
        for line in body.split('\n') {
            if !line.is_empty() {
                pad(out, indent + 2);
                out.push_str(line);
            }
            out.push('\n');
        }
        for _ in 1..trailing {
            out.push('\n');
        }
        return;
    }
    if is_plain_safe(s) {
        out.push_str(s);
    } else if s.chars().all(|c| !c.is_control() && c != '\u{feff}') {
        // Single quotes, as go-yaml writes them: nothing inside is an escape, so template
        // text such as `{{ include "x" . }}` survives to_yaml followed by tpl unchanged.
        out.push('\'');
        out.push_str(&s.replace('\'', "''"));
        out.push('\'');
    } else {
        write_double_quoted(out, s);
    }
    if !is_key {
        out.push('\n');
    }
}

/// Whether `s` reads back unchanged as a literal block: it has a line break, starts with
/// neither a space nor a break, has no line ending in a space or tab, and no control
/// character but tab and newline (nor a byte-order mark). One pass over the bytes, since
/// whole scripts and config files go through here.
fn can_be_literal_block(s: &str) -> bool {
    let bytes = s.as_bytes();
    if matches!(bytes.first(), Some(b' ' | b'\n')) {
        return false;
    }
    let mut newline = false;
    let mut prev = 0u8;
    for &c in bytes {
        match c {
            b'\n' if matches!(prev, b' ' | b'\t') => return false,
            b'\n' => newline = true,
            b'\t' => {}
            0..=0x1f | 0x7f => return false,
            _ => {}
        }
        prev = c;
    }
    newline && (s.is_ascii() || !s.chars().any(|c| c.is_control() || c == '\u{feff}'))
}

fn write_double_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || c == '\u{feff}' => {
                out.push_str(&format!("\\u{:04X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Whether `s` can be written without quotes and still read back as this very string by
/// YAML 1.1 and 1.2 parsers.
pub(crate) fn is_plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if s.starts_with(char::is_whitespace) || s.ends_with(char::is_whitespace) {
        return false;
    }
    // `-x`, `?x` and `:x` are plain YAML; other indicator characters need quotes.
    let dash_like = matches!(first, '-' | '?' | ':') && s.len() > 1 && !s[1..].starts_with(' ');
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) && !dash_like {
        return false;
    }
    if s.contains(": ") || s.contains(" #") || s.ends_with(':') {
        return false;
    }
    if s.chars().any(|c| c.is_control() || c == '\u{feff}') {
        return false;
    }
    if s.contains(['{', '}', '[', ']', ',']) && (s.contains(['{', '['])) {
        // Flow indicators are harmless in block context but confuse readers; quote.
        return false;
    }
    !resolves_to_non_string(s)
}

/// Whether a YAML 1.1 or 1.2 parser would read the plain scalar `s` as a bool, null, number,
/// timestamp or merge key.
fn resolves_to_non_string(s: &str) -> bool {
    const WORDS: &[&str] = &[
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false",
        "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF", "~", "null", "Null", "NULL", "<<",
        "=",
    ];
    if WORDS.contains(&s) {
        return true;
    }
    // What `looks_numeric` and .inf/.nan accept starts with a digit, sign, dot or
    // underscore; only those are lowered and looked at (this runs for every string a chart
    // prints through to_yaml).
    if s.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '+' | '-' | '.' | '_')) {
        let lower = s.to_ascii_lowercase();
        let unsigned = lower.trim_start_matches(['+', '-']);
        if matches!(unsigned, ".inf" | ".nan") {
            return true;
        }
        if looks_numeric(unsigned) {
            return true;
        }
    }
    // Timestamps: go-yaml and YAML 1.1 read `2001-12-14` and friends as dates.
    let b = s.as_bytes();
    b.len() >= 8 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' && b[5].is_ascii_digit()
}

/// Integers and floats in any YAML 1.1 or 1.2 spelling (underscores, 0x, 0o, 0b, leading-zero
/// octal, sexagesimal, exponent forms), sign already stripped.
fn looks_numeric(t: &str) -> bool {
    if t.is_empty() {
        return false;
    }
    let digits =
        |s: &str, ok: fn(char) -> bool| !s.is_empty() && s.chars().all(|c| ok(c) || c == '_');
    if let Some(rest) = t.strip_prefix("0x") {
        return digits(rest, |c| c.is_ascii_hexdigit());
    }
    if let Some(rest) = t.strip_prefix("0o") {
        return digits(rest, |c| ('0'..='7').contains(&c));
    }
    if let Some(rest) = t.strip_prefix("0b") {
        return digits(rest, |c| c == '0' || c == '1');
    }
    if t.contains(':') {
        // Sexagesimal (YAML 1.1): 1:20, 190:20:30.15
        let mut parts = t.split(':');
        let head = parts.next().unwrap_or("");
        return digits(head, |c| c.is_ascii_digit())
            && parts.all(|p| {
                let p = p.split('.').next().unwrap_or("");
                !p.is_empty() && p.len() <= 2 && p.chars().all(|c| c.is_ascii_digit())
            });
    }
    let (mantissa, exponent) = match t.find('e') {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    if let Some(e) = exponent {
        let e = e.trim_start_matches(['+', '-']);
        if !digits(e, |c| c.is_ascii_digit()) {
            return false;
        }
    }
    let mut halves = mantissa.splitn(2, '.');
    let int = halves.next().unwrap_or("");
    match halves.next() {
        Some(frac) => {
            (int.is_empty() || digits(int, |c| c.is_ascii_digit()))
                && (frac.is_empty() || digits(frac, |c| c.is_ascii_digit()))
                && !(int.is_empty() && frac.is_empty())
        }
        None => digits(int, |c| c.is_ascii_digit()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reads_back(v: &Value) {
        let text = to_yaml(v);
        // Templates always follow the text with a line break; parse it that way.
        let back: crate::yaml::Yaml = crate::yaml::try_from_str(&format!("{text}\n")).unwrap();
        assert_eq!(
            crate::yaml::yaml_to_json(back),
            *v,
            "round trip of:\n{text}"
        );
    }

    #[test]
    fn yaml_1_1_booleans_and_octals_stay_strings() {
        for s in [
            "yes",
            "no",
            "on",
            "off",
            "y",
            "N",
            "0755",
            "1_000",
            "1:20",
            "~",
            "1e3",
            ".5",
            "2024-01-02",
        ] {
            assert!(!is_plain_safe(s), "{s} must be quoted");
            assert_eq!(to_yaml(&json!(s)), format!("'{s}'"));
        }
    }

    #[test]
    fn ordinary_strings_are_plain() {
        for s in [
            "rel-ignition",
            "/config/scripts/seed.sh",
            "8.3.3-rc1",
            "a b",
            "-XX:MaxRAMPercentage=75",
            "*.backend",
        ] {
            let text = to_yaml(&json!(s));
            if s == "*.backend" {
                assert_eq!(text, "'*.backend'");
            } else {
                assert_eq!(text, s);
            }
        }
    }

    #[test]
    fn nested_structures_use_block_style_and_read_back() {
        let v = json!({
            "annotations": {"example.com/indexed": "yes", "n": 5},
            "list": [{"name": "a", "value": "on"}, "plain", [1, 2], {}, []],
            "script": "#!/bin/sh\necho hi\n",
            "nochomp": "a\nb",
            "keep": "a\n\n",
            "empty": "",
            "template": "{{ include \"x\" . }}-y",
            "quote": "it's",
            "nothing": null,
        });
        reads_back(&v);
        let text = to_yaml(&v);
        assert!(text.contains("example.com/indexed: 'yes'"), "{text}");
        assert!(text.contains("script: |\n  #!/bin/sh\n  echo hi"), "{text}");
        assert!(
            text.contains("template: '{{ include \"x\" . }}-y'"),
            "{text}"
        );
        assert!(text.contains("quote: it's"), "{text}");
        assert!(
            text.contains("'n': 5"),
            "YAML 1.1 reads a bare n key as false: {text}"
        );
        assert!(
            text.contains("list:\n- name: a\n  value: 'on'\n- plain\n- - 1\n  - 2\n- {}\n- []"),
            "{text}"
        );
    }

    #[test]
    fn scalars_at_top_level() {
        assert_eq!(to_yaml(&json!(null)), "null");
        assert_eq!(to_yaml(&json!({})), "{}");
        assert_eq!(to_yaml(&json!([])), "[]");
        assert_eq!(to_yaml(&json!(3)), "3");
        assert_eq!(to_yaml(&json!(["a"])), "- a");
    }
}
