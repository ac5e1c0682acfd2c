//! A fast path for reading rendered documents (the engine's output checks, hook detection):
//! most manifests are plain block-style YAML (keys, plain or quoted scalars, block scalars,
//! `- ` entries), which this module checks line by line far faster than a full YAML parser. It only ever *accepts* a document it
//! fully understands; anything else (flow collections, anchors, tags, multi-line quoted
//! strings, odd indentation, tabs...) returns `None` and the full parser decides. So it
//! can make checking faster but never more lenient; tests compare it with the full parser
//! on generated and mutated documents.

/// The identifying fields of a document.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct FastHead {
    /// Whether the document's root is a mapping.
    pub top_is_map: bool,
    /// `apiVersion`.
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`.
    pub namespace: Option<String>,
    /// Whether `metadata.annotations` has a `helm.sh/hook` key (the document is a hook).
    pub hook: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Map,
    Seq,
}

struct Level<'a> {
    indent: usize,
    kind: Kind,
    /// A sequence written at the same indentation as the key it belongs to (`key:\n- a`).
    same_indent_seq: bool,
    /// The key this collection is the value of (for mappings and sequences under a key).
    key: Option<&'a str>,
}

/// What the value part of a line is.
enum Value<'a> {
    /// Nothing after the colon or dash: a nested block may follow.
    Empty,
    /// A block scalar indicator (`|`, `>-`, ...): content lines follow.
    Block,
    /// A scalar (already checked), with its text when it is simple enough to read.
    Scalar(Option<&'a str>),
}

/// Plain scalars that are safe in block context: they do not start with an indicator and
/// contain neither `: ` nor ` #`, nor end with `:`.
fn plain_ok(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if matches!(
        first,
        '-' | '?'
            | ':'
            | ','
            | '['
            | ']'
            | '{'
            | '}'
            | '#'
            | '&'
            | '*'
            | '!'
            | '|'
            | '>'
            | '\''
            | '"'
            | '%'
            | '@'
            | '`'
    ) {
        // `-` followed by a non-space starts a plain scalar (`-Xmx1g`), others never do here.
        if first != '-' || s.len() < 2 || s.as_bytes()[1] == b' ' {
            return false;
        }
    }
    // One pass for `: `, ` #`, a tab and a trailing `:` (this runs for every scalar of every
    // rendered manifest).
    let mut prev = 0u8;
    for &c in s.as_bytes() {
        if c == b'\t' || (prev == b':' && c == b' ') || (prev == b' ' && c == b'#') {
            return false;
        }
        prev = c;
    }
    prev != b':'
}

fn double_quoted(s: &str) -> Option<(&str, bool)> {
    // Returns the inner text and whether it has escapes; the quote must close at the end.
    let inner = s.strip_prefix('"')?.strip_suffix('"')?;
    let bytes = inner.as_bytes();
    let mut i = 0;
    let mut escaped = false;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => return None,
            b'\\' => {
                escaped = true;
                let next = *bytes.get(i + 1)?;
                let extra = match next {
                    b'0' | b'a' | b'b' | b't' | b'n' | b'v' | b'f' | b'r' | b'e' | b' ' | b'"'
                    | b'/' | b'\\' | b'N' | b'_' | b'L' | b'P' => 0,
                    b'x' => 2,
                    b'u' => 4,
                    b'U' => 8,
                    _ => return None,
                };
                let hex = inner.get(i + 2..i + 2 + extra)?;
                if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return None;
                }
                i += 2 + extra;
            }
            _ => i += 1,
        }
    }
    Some((inner, escaped))
}

fn single_quoted(s: &str) -> Option<&str> {
    let inner = s.strip_prefix('\'')?.strip_suffix('\'')?;
    // Inside, a quote only appears doubled.
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' && chars.next() != Some('\'') {
            return None;
        }
    }
    Some(inner)
}

/// A one-line flow sequence of simple items, as charts write `accessModes: [ "ReadWriteOnce" ]`:
/// each item a double-quoted string without escapes, commas or quotes inside, or a word of
/// letters, digits and `._/` (not starting with `-`), with no empty item. Anything else in
/// brackets is left to the parser.
fn simple_flow_sequence(t: &str) -> bool {
    let Some(inner) = t.strip_prefix('[').and_then(|r| r.strip_suffix(']')) else {
        return false;
    };
    inner.split(',').all(|item| {
        let item = item.trim_matches(' ');
        if let Some(q) = item.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
            return !q.contains(['"', '\\', ',', '\t']);
        }
        !item.is_empty()
            && !item.starts_with('-')
            && item
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'/' | b'-'))
    })
}

/// Checks the text after `key:` or `- `.
fn value(text: &str) -> Option<Value<'_>> {
    let t = text.trim_matches(' ');
    if t.is_empty() {
        return Some(Value::Empty);
    }
    if matches!(t, "|" | "|-" | "|+" | ">" | ">-" | ">+") {
        return Some(Value::Block);
    }
    if t == "{}" || t == "[]" || simple_flow_sequence(t) {
        return Some(Value::Scalar(None));
    }
    if t.starts_with('"') {
        let (inner, escaped) = double_quoted(t)?;
        return Some(Value::Scalar(if escaped { None } else { Some(inner) }));
    }
    if t.starts_with('\'') {
        let inner = single_quoted(t)?;
        return Some(Value::Scalar(if inner.contains('\'') {
            None
        } else {
            Some(inner)
        }));
    }
    plain_ok(t).then_some(Value::Scalar(Some(t)))
}

/// Splits `key: rest` / `key:`; the key must be a simple plain or double-quoted word.
fn key_of(line: &str) -> Option<(&str, &str)> {
    let (key, rest) = if let Some(after) = line.strip_prefix('"') {
        let end = after.find('"')? + 2;
        let (k, r) = line.split_at(end);
        (
            double_quoted(k).filter(|(_, esc)| !esc)?.0,
            r.strip_prefix(':')?,
        )
    } else {
        let colon = line.find(':')?;
        let k = &line[..colon];
        let simple = !k.is_empty()
            && k.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'/' | b'-'))
            && !k.starts_with('-');
        if !simple {
            return None;
        }
        (k, &line[colon + 1..])
    };
    if !rest.is_empty() && !rest.starts_with(' ') {
        return None;
    }
    Some((key, rest.strip_prefix(' ').unwrap_or(rest)))
}

/// Checks `doc` if it is in the simple subset; `None` means "ask the full parser".
pub fn scan(doc: &str) -> Option<FastHead> {
    let mut head = FastHead::default();
    let mut levels: Vec<Level<'_>> = Vec::new();
    // A key or dash whose value is a nested block: (indent, from a mapping key, key name).
    let mut pending: Option<(usize, Kind, Option<&str>)> = None;
    // Inside a block scalar: (indent of its parent, content indent once known).
    let mut block: Option<(usize, Option<usize>)> = None;
    let mut seen_root = false;
    // Carriage returns anywhere, and tabs outside block scalars, are the parser's to judge;
    // one pass over the document spares the per-line search when there are none (the rule).
    let bytes = doc.as_bytes();
    if bytes.contains(&b'\r') {
        return None;
    }
    let has_tab = bytes.contains(&b'\t');

    for line in doc.split('\n') {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let body = &line[indent..];
        if let Some((parent, content)) = block {
            if body.is_empty() {
                if content.is_none() && indent > 0 {
                    return None; // spaces before the first content line: leave it to the parser
                }
                continue;
            }
            match content {
                None if indent > parent => {
                    block = Some((parent, Some(indent)));
                    continue;
                }
                Some(c) if indent >= c => continue,
                _ => block = None,
            }
        }
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        if (has_tab && body.contains('\t'))
            || body.starts_with("---")
            || body.starts_with("...")
            || body.starts_with('%')
        {
            return None;
        }

        let (kind, rest) = if body == "-" || body.starts_with("- ") {
            (Kind::Seq, body.get(2..).unwrap_or(""))
        } else {
            (Kind::Map, body)
        };

        // Place the line in the structure.
        let mut new_level = false;
        if let Some((p, from, key)) = pending.take()
            && (indent > p || (indent == p && from == Kind::Map && kind == Kind::Seq))
        {
            levels.push(Level {
                indent,
                kind,
                same_indent_seq: indent == p,
                key,
            });
            new_level = true;
        }
        if !new_level {
            if !seen_root {
                levels.push(Level {
                    indent,
                    kind,
                    same_indent_seq: false,
                    key: None,
                });
                head.top_is_map = kind == Kind::Map;
            } else {
                while levels.last().is_some_and(|l| l.indent > indent) {
                    levels.pop();
                }
                if let Some(top) = levels.last()
                    && top.indent == indent
                    && top.kind == Kind::Seq
                    && top.same_indent_seq
                    && kind == Kind::Map
                {
                    levels.pop();
                }
                match levels.last() {
                    Some(top) if top.indent == indent && top.kind == kind => {}
                    _ => return None,
                }
            }
        }
        seen_root = true;

        match kind {
            Kind::Map => {
                let (key, text) = key_of(rest)?;
                if key == "helm.sh/hook" && in_annotations(&levels) {
                    head.hook = true;
                }
                let v = value(text)?;
                let metadata_block =
                    matches!(v, Value::Block) && key == "metadata" && at_root(&levels);
                if metadata_block || (!matches!(v, Value::Scalar(_)) && is_head_key(&levels, key)) {
                    return None; // a null or block value for a field we read: let the parser say
                }
                match v {
                    Value::Empty => pending = Some((indent, Kind::Map, Some(key))),
                    Value::Block => block = Some((indent, None)),
                    Value::Scalar(v) => record(&mut head, &levels, key, v)?,
                }
            }
            Kind::Seq => {
                if rest.starts_with("- ") || rest == "-" {
                    return None; // nested dashes on one line
                }
                match key_of(rest) {
                    Some((key, text)) => {
                        // A mapping starts inside the entry, two columns in.
                        let inner = indent + 2;
                        levels.push(Level {
                            indent: inner,
                            kind: Kind::Map,
                            same_indent_seq: false,
                            key: None,
                        });
                        match value(text)? {
                            Value::Empty => pending = Some((inner, Kind::Map, Some(key))),
                            Value::Block => block = Some((inner, None)),
                            Value::Scalar(_) => {}
                        }
                    }
                    _ => match value(rest)? {
                        Value::Empty => pending = Some((indent, Kind::Seq, None)),
                        Value::Block => block = Some((indent, None)),
                        Value::Scalar(_) => {}
                    },
                }
            }
        }
    }
    Some(head)
}

fn at_root(levels: &[Level]) -> bool {
    levels.len() == 1 && levels[0].kind == Kind::Map
}

fn in_metadata(levels: &[Level]) -> bool {
    levels.len() == 2
        && levels[0].kind == Kind::Map
        && levels[1].kind == Kind::Map
        && levels[1].key == Some("metadata")
}

fn in_annotations(levels: &[Level]) -> bool {
    levels.len() == 3
        && in_metadata(&levels[..2])
        && levels[2].kind == Kind::Map
        && levels[2].key == Some("annotations")
}

/// Whether `key` at this place is one of the fields the head reads.
fn is_head_key(levels: &[Level], key: &str) -> bool {
    (at_root(levels) && matches!(key, "apiVersion" | "kind"))
        || (in_metadata(levels) && matches!(key, "name" | "namespace"))
}

/// Notes `apiVersion`, `kind`, `metadata.name` and `metadata.namespace` as they pass.
fn record(head: &mut FastHead, levels: &[Level], key: &str, v: Option<&str>) -> Option<()> {
    let at_root = at_root(levels);
    if key == "metadata" && at_root {
        return None; // `metadata: x` (a scalar) is for the parser to judge
    }
    if !is_head_key(levels, key) {
        return Some(());
    }
    // A value with escapes is left to the full parser to read.
    let text = v?.to_string();
    match (at_root, key) {
        (true, "apiVersion") => head.api_version = text,
        (true, "kind") => head.kind = text,
        (false, "name") => head.name = text,
        _ => head.namespace = Some(text),
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::plain_ok;

    /// The rule `plain_ok` implements, written the slow way.
    fn by_the_rule(s: &str) -> bool {
        let Some(first) = s.chars().next() else {
            return false;
        };
        if "-?:,[]{}#&*!|>'\"%@`".contains(first)
            && (first != '-' || s.len() < 2 || s.as_bytes()[1] == b' ')
        {
            return false;
        }
        !s.contains(": ") && !s.contains(" #") && !s.ends_with(':') && !s.contains('\t')
    }

    #[test]
    fn the_one_pass_check_agrees_with_the_rule() {
        let pieces = [
            "",
            "a",
            ":",
            " ",
            "#",
            "\t",
            "-",
            "b:",
            "x: y",
            "x :y",
            "a #b",
            "a# b",
            "-Xmx1g",
            "- a",
            "é",
            "ü:",
            "'q'",
            "\"q\"",
            "`",
            "%",
            "@",
            "http://h:80/p",
            "a:b",
            "::",
            " :",
            "c ",
        ];
        for a in pieces {
            for b in pieces {
                let s = format!("{a}{b}");
                assert_eq!(plain_ok(&s), by_the_rule(&s), "{s:?}");
            }
        }
    }
}
