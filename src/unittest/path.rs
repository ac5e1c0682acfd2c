//! Paths into a rendered document as helm-unittest writes them: `spec.ports[0].name`,
//! `metadata.labels["app.kubernetes.io/name"]`, `metadata.annotations['a.b']`,
//! `spec.containers[*].image`.

use anyhow::{Result, bail};
use serde_json::Value;

/// One step of a path.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// A map key.
    Key(String),
    /// A list index.
    Index(usize),
    /// Every list item (or map value).
    All,
}

/// Parses a path; an empty path is the document itself.
pub fn parse(path: &str) -> Result<Vec<Step>> {
    let chars: Vec<char> = path.chars().collect();
    let mut steps = Vec::new();
    let mut i = 0;
    let mut key = String::new();
    let flush = |key: &mut String, steps: &mut Vec<Step>| {
        if !key.is_empty() {
            steps.push(Step::Key(std::mem::take(key)));
        }
    };
    while i < chars.len() {
        match chars[i] {
            '.' => {
                flush(&mut key, &mut steps);
                i += 1;
            }
            '\\' if i + 1 < chars.len() => {
                key.push(chars[i + 1]);
                i += 2;
            }
            '[' => {
                flush(&mut key, &mut steps);
                let close = chars[i..].iter().position(|c| *c == ']').map(|p| p + i);
                let Some(close) = close else {
                    bail!("path `{path}`: `[` is not closed")
                };
                let inner: String = chars[i + 1..close].iter().collect();
                let inner = inner.trim();
                if inner == "*" {
                    steps.push(Step::All);
                } else if let Some(q) = inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
                    steps.push(Step::Key(q.to_string()));
                } else if let Some(q) = inner.strip_prefix('\'').and_then(|s| s.strip_suffix('\''))
                {
                    steps.push(Step::Key(q.to_string()));
                } else {
                    match inner.parse::<usize>() {
                        Ok(n) => steps.push(Step::Index(n)),
                        Err(_) => {
                            bail!("path `{path}`: `[{inner}]` is not an index, `*` or a quoted key")
                        }
                    }
                }
                i = close + 1;
            }
            c => {
                key.push(c);
                i += 1;
            }
        }
    }
    flush(&mut key, &mut steps);
    Ok(steps)
}

/// Every value the path reaches in `doc` (more than one only through `[*]`).
pub fn select<'a>(doc: &'a Value, steps: &[Step]) -> Vec<&'a Value> {
    let mut current = vec![doc];
    for step in steps {
        let mut next = Vec::new();
        for v in current {
            match (step, v) {
                (Step::Key(k), Value::Object(m)) => next.extend(m.get(k)),
                (Step::Index(i), Value::Array(a)) => next.extend(a.get(*i)),
                (Step::All, Value::Array(a)) => next.extend(a.iter()),
                (Step::All, Value::Object(m)) => next.extend(m.values()),
                _ => {}
            }
        }
        current = next;
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_as_helm_unittest_writes_them() {
        let doc = json!({"metadata": {"labels": {"app.kubernetes.io/name": "gw"}}, "spec": {"c": [{"image": "a"}, {"image": "b"}]}});
        let one = |p: &str| {
            select(&doc, &parse(p).unwrap())
                .into_iter()
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(
            one(r#"metadata.labels["app.kubernetes.io/name"]"#),
            [json!("gw")]
        );
        assert_eq!(
            one("metadata.labels['app.kubernetes.io/name']"),
            [json!("gw")]
        );
        assert_eq!(
            one(r"metadata.labels.app\.kubernetes\.io/name"),
            [json!("gw")]
        );
        assert_eq!(one("spec.c[1].image"), [json!("b")]);
        assert_eq!(one("spec.c[*].image"), [json!("a"), json!("b")]);
        assert!(one("spec.missing").is_empty());
        assert!(parse("a[").is_err());
    }
}
