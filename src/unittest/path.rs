//! Paths into rendered documents as helm-unittest writes them: `spec.replicas`,
//! `spec.containers[0].image`, `metadata.labels["app.kubernetes.io/name"]`,
//! `spec.containers[*].name` and filters such as `env[?(@.name == "JAVA_OPTS")].value`.
//!
//! A path can match several values (wildcards, filters); a path that leads nowhere matches
//! none, which assertions report as an unknown path rather than an error.

use anyhow::{Result, bail};
use serde_json::Value as Json;

/// One step of a parsed path.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    /// A mapping key.
    Key(String),
    /// A list index; negative counts from the end.
    Index(i64),
    /// Every item of a list or every value of a mapping.
    All,
    /// List items (or mapping values) for which the filter holds.
    Filter(Box<Filter>),
}

#[derive(Debug, Clone, PartialEq)]
struct Filter {
    path: Vec<Step>,
    op: Option<(bool, Json)>,
}

/// A parsed path, ready to evaluate against many documents; it keeps the text the suite
/// wrote, which messages show.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Path {
    text: String,
    steps: Vec<Step>,
}

impl Path {
    /// Parses `text`; the empty path selects the whole document.
    pub fn parse(text: &str) -> Result<Path> {
        let t = text.trim();
        let t = t.strip_prefix('$').unwrap_or(t);
        let t = t.strip_prefix('.').unwrap_or(t);
        let steps = parse_steps(t).map_err(|e| anyhow::anyhow!("invalid path `{text}`: {e}"))?;
        Ok(Path {
            text: text.to_string(),
            steps,
        })
    }

    /// The path as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The path as messages name it: `None` for the whole document.
    pub(crate) fn shown(&self) -> Option<&str> {
        (!self.text.is_empty()).then_some(self.text.as_str())
    }

    /// Every value the path reaches in `doc`, in document order.
    pub fn find<'a>(&self, doc: &'a Json) -> Vec<&'a Json> {
        find_steps(&self.steps, doc)
    }
}

fn find_steps<'a>(steps: &[Step], doc: &'a Json) -> Vec<&'a Json> {
    let mut current = vec![doc];
    for step in steps {
        let mut next = Vec::new();
        for v in current {
            apply(step, v, &mut next);
        }
        current = next;
    }
    current
}

fn apply<'a>(step: &Step, v: &'a Json, out: &mut Vec<&'a Json>) {
    match (step, v) {
        (Step::Key(k), Json::Object(m)) => out.extend(m.get(k)),
        (Step::Index(i), Json::Array(a)) => {
            let idx = if *i < 0 { a.len() as i64 + i } else { *i };
            if idx >= 0 {
                out.extend(a.get(idx as usize));
            }
        }
        (Step::All, Json::Array(a)) => out.extend(a.iter()),
        (Step::All, Json::Object(m)) => out.extend(m.values()),
        (Step::Filter(f), Json::Array(a)) => out.extend(a.iter().filter(|x| f.holds(x))),
        (Step::Filter(f), Json::Object(m)) => out.extend(m.values().filter(|x| f.holds(x))),
        _ => {}
    }
}

impl Filter {
    fn holds(&self, item: &Json) -> bool {
        let found = find_steps(&self.path, item);
        match &self.op {
            None => !found.is_empty(),
            Some((equal, literal)) => {
                let any = found.iter().any(|v| super::values_equal(v, literal));
                any == *equal
            }
        }
    }
}

fn parse_steps(text: &str) -> std::result::Result<Vec<Step>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut steps = Vec::new();
    let mut i = 0;
    let mut expect_key = true;
    while i < chars.len() {
        match chars[i] {
            '.' => {
                if expect_key {
                    return Err(format!("empty key at character {}", i + 1));
                }
                i += 1;
                expect_key = true;
                if i >= chars.len() {
                    return Err("the path ends with `.`".into());
                }
                if chars[i] == '.' {
                    return Err("recursive descent (`..`) is not supported".into());
                }
            }
            '[' => {
                let (step, next) = parse_bracket(&chars, i)?;
                steps.push(step);
                i = next;
                expect_key = false;
            }
            _ => {
                if !expect_key {
                    return Err(format!(
                        "expected `.` or `[` at character {} (after `{}`)",
                        i + 1,
                        chars[..i].iter().collect::<String>()
                    ));
                }
                // `\.` keeps a dot inside a key: `labels.app\.kubernetes\.io/name`.
                let mut key = String::new();
                let mut escaped = false;
                while i < chars.len() && chars[i] != '.' && chars[i] != '[' {
                    if chars[i] == '\\' && i + 1 < chars.len() {
                        i += 1;
                        escaped = true;
                    }
                    key.push(chars[i]);
                    i += 1;
                }
                steps.push(if key == "*" && !escaped {
                    Step::All
                } else {
                    Step::Key(key)
                });
                expect_key = false;
            }
        }
    }
    Ok(steps)
}

/// Parses `[...]` starting at `open`; returns the step and the index after `]`.
fn parse_bracket(chars: &[char], open: usize) -> std::result::Result<(Step, usize), String> {
    let mut i = open + 1;
    let Some(&first) = chars.get(i) else {
        return Err("unclosed `[`".into());
    };
    if first == '"' || first == '\'' {
        let mut key = String::new();
        i += 1;
        while i < chars.len() && chars[i] != first {
            if chars[i] == '\\' && i + 1 < chars.len() {
                i += 1;
            }
            key.push(chars[i]);
            i += 1;
        }
        if chars.get(i + 1) != Some(&']') {
            return Err(format!("unclosed quoted key `{key}`"));
        }
        return Ok((Step::Key(key), i + 2));
    }
    if first == '?' {
        // Filters nest brackets and quotes; find the `]` that closes this one.
        let mut depth = 0usize;
        let mut quote: Option<char> = None;
        let mut j = i;
        while j < chars.len() {
            let c = chars[j];
            match quote {
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None => match c {
                    '\'' | '"' => quote = Some(c),
                    '[' | '(' => depth += 1,
                    ')' => depth = depth.saturating_sub(1),
                    ']' if depth == 0 => break,
                    ']' => depth -= 1,
                    _ => {}
                },
            }
            j += 1;
        }
        if j >= chars.len() {
            return Err("unclosed filter `[?(...)]`".into());
        }
        let inner: String = chars[i + 1..j].iter().collect();
        let inner = inner.trim();
        let body = inner
            .strip_prefix('(')
            .and_then(|s| s.strip_suffix(')'))
            .ok_or_else(|| {
                format!("a filter is written `[?(@.key == \"value\")]`, found `[?{inner}]`")
            })?;
        return Ok((Step::Filter(Box::new(parse_filter(body)?)), j + 1));
    }
    let close = chars[i..]
        .iter()
        .position(|c| *c == ']')
        .map(|p| p + i)
        .ok_or("unclosed `[`")?;
    let inner: String = chars[i..close].iter().collect();
    let inner = inner.trim();
    let step = if inner == "*" {
        Step::All
    } else if let Ok(n) = inner.parse::<i64>() {
        Step::Index(n)
    } else {
        return Err(format!(
            "`[{inner}]` is neither an index, `*`, a quoted key nor a filter"
        ));
    };
    Ok((step, close + 1))
}

fn parse_filter(body: &str) -> std::result::Result<Filter, String> {
    let (left, op) = if let Some((l, r)) = body.split_once("==") {
        (l, Some((true, r)))
    } else if let Some((l, r)) = body.split_once("!=") {
        (l, Some((false, r)))
    } else {
        (body, None)
    };
    let left = left.trim();
    let rest = left
        .strip_prefix('@')
        .ok_or_else(|| format!("a filter must test the current item `@`, found `{left}`"))?;
    let rest = rest.strip_prefix('.').unwrap_or(rest);
    let path = parse_steps(rest)?;
    let op = match op {
        None => None,
        Some((equal, lit)) => {
            let lit = lit.trim();
            let value = if (lit.starts_with('\'') && lit.ends_with('\'') && lit.len() >= 2)
                || (lit.starts_with('"') && lit.ends_with('"') && lit.len() >= 2)
            {
                Json::String(lit[1..lit.len() - 1].to_string())
            } else {
                let y: crate::yaml::Yaml = crate::yaml::try_from_str(lit)
                    .map_err(|_| format!("cannot read the filter value `{lit}`"))?;
                crate::yaml::yaml_to_json(y)
            };
            Some((equal, value))
        }
    };
    Ok(Filter { path, op })
}

/// One step of a `set:` key.
#[derive(Debug, Clone, PartialEq)]
pub enum SetStep {
    /// A mapping key.
    Key(String),
    /// A list index.
    Index(usize),
}

/// A `set:` key (`image.tag`, `list[0].name`, `annotations.a\.b`), parsed once into the
/// steps that build the value.
#[derive(Debug, Clone, PartialEq)]
pub struct SetPath {
    /// The key as written.
    pub text: String,
    /// Where the value goes.
    pub steps: Vec<SetStep>,
}

impl SetPath {
    /// Parses a `set:` key.
    pub fn parse(text: &str) -> Result<SetPath> {
        Ok(SetPath {
            text: text.to_string(),
            steps: set_path(text)?,
        })
    }
}

fn set_path(text: &str) -> Result<Vec<SetStep>> {
    let mut out = Vec::new();
    let mut key = String::new();
    let mut chars = text.chars().peekable();
    let mut after_index = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    key.push(n);
                }
            }
            '.' => {
                if !after_index {
                    if key.is_empty() {
                        bail!("set key `{text}` has an empty part");
                    }
                    out.push(SetStep::Key(std::mem::take(&mut key)));
                }
                after_index = false;
            }
            '[' => {
                if !key.is_empty() {
                    out.push(SetStep::Key(std::mem::take(&mut key)));
                }
                let mut inner = String::new();
                for n in chars.by_ref() {
                    if n == ']' {
                        break;
                    }
                    inner.push(n);
                }
                match inner.trim().parse::<usize>() {
                    Ok(i) => out.push(SetStep::Index(i)),
                    Err(_) => {
                        let k = inner.trim().trim_matches(|c| c == '"' || c == '\'');
                        out.push(SetStep::Key(k.to_string()));
                    }
                }
                after_index = true;
            }
            _ => {
                if after_index {
                    bail!("set key `{text}`: expected `.` or `[` after `]`");
                }
                key.push(c);
            }
        }
    }
    if !key.is_empty() {
        out.push(SetStep::Key(key));
    } else if !after_index {
        bail!("set key `{text}` is empty or ends with `.`");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn find(doc: &Json, p: &str) -> Vec<Json> {
        Path::parse(p)
            .unwrap()
            .find(doc)
            .into_iter()
            .cloned()
            .collect()
    }

    #[test]
    fn dotted_keys_indices_and_quoted_keys() {
        let doc = json!({"metadata": {"labels": {"app.kubernetes.io/name": "gw"}},
            "spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}});
        assert_eq!(find(&doc, "spec.containers[1].image"), [json!("y")]);
        assert_eq!(find(&doc, "spec.containers[-1].name"), [json!("b")]);
        assert_eq!(
            find(&doc, "metadata.labels[\"app.kubernetes.io/name\"]"),
            [json!("gw")]
        );
        assert_eq!(
            find(&doc, "metadata.labels['app.kubernetes.io/name']"),
            [json!("gw")]
        );
        assert_eq!(
            find(&doc, r"metadata.labels.app\.kubernetes\.io/name"),
            [json!("gw")]
        );
        assert_eq!(
            find(&doc, "spec.containers[*].name"),
            [json!("a"), json!("b")]
        );
        assert_eq!(
            find(&doc, "spec.containers[?(@.name == 'b')].image"),
            [json!("y")]
        );
        assert_eq!(find(&doc, "$.spec.containers[0].name"), [json!("a")]);
        assert!(find(&doc, "spec.missing.deeper").is_empty());
        assert!(find(&doc, "spec.containers[5]").is_empty());
        assert_eq!(find(&doc, ""), std::slice::from_ref(&doc));
    }

    #[test]
    fn malformed_paths_are_errors() {
        assert!(Path::parse("a[").is_err());
        assert!(Path::parse("a..b").is_err());
        assert!(Path::parse("a[x]").is_err());
    }

    #[test]
    fn set_keys_split_on_unescaped_dots() {
        assert_eq!(
            set_path("a\\.b.c[1].d").unwrap(),
            vec![
                SetStep::Key("a.b".into()),
                SetStep::Key("c".into()),
                SetStep::Index(1),
                SetStep::Key("d".into())
            ]
        );
    }
}
