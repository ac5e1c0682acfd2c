//! Evaluating one assertion against the documents of one template, with helm-unittest's
//! meaning: every selected document must pass, a path that leads nowhere fails a positive
//! assertion and satisfies a negative one, and `not: true` inverts the check itself.

use base64::Engine as _;
use serde_json::Value as Json;

use super::path::Path;
use super::snapshot::SnapshotFile;
use super::suite::{Assertion, Kind};
use super::{Failure, values_equal};

/// One rendered document.
#[derive(Debug, Clone)]
pub struct Doc {
    /// Its position among the documents of its template.
    pub index: usize,
    /// The parsed document (null for text templates such as NOTES.txt).
    pub value: Json,
    /// The document's text as rendered.
    pub raw: String,
}

/// What an assertion needs beyond the documents.
pub struct Env<'a> {
    /// The test's name, which keys its snapshots.
    pub test: &'a str,
    /// The suite file's snapshots.
    pub snapshots: &'a mut SnapshotFile,
}

/// Checks `a` against one template: `all` are its documents, `selected` those the document
/// index or selector chose. Returns the failures; none means the assertion passed.
pub fn check(
    a: &Assertion,
    template: &str,
    all: &[Doc],
    selected: &[&Doc],
    env: &mut Env,
) -> Vec<Failure> {
    let neg = a.negative();
    let mut c = Checker {
        template,
        neg,
        failures: Vec::new(),
    };
    match &a.kind {
        Kind::Equal {
            path,
            value,
            decode_base64,
        } => c.per_value(selected, path, |c, doc, p, actual| {
            let actual = match text_of(actual, *decode_base64) {
                Ok(a) => a,
                Err(msg) => return Some(c.fail(doc, p, msg)),
            };
            if values_equal(value, &actual) == c.neg {
                let mut f = c.fail(doc, p, "to equal");
                f.expected = Some(yaml(value));
                if !c.neg {
                    f.actual = Some(yaml(&actual));
                    f.diff = true;
                }
                return Some(f);
            }
            None
        }),
        Kind::MatchRegex {
            path,
            pattern,
            decode_base64,
        } => {
            let re = regex::Regex::new(pattern).expect("checked when the suite was read");
            c.per_value(selected, path, |c, doc, p, actual| {
                let Json::String(_) = actual else {
                    return Some(c.error(
                        doc,
                        p,
                        format!("expected a string, got:\n{}", yaml(actual)),
                    ));
                };
                let text = match text_of(actual, *decode_base64) {
                    Ok(Json::String(s)) => s,
                    Ok(_) => unreachable!("strings stay strings"),
                    Err(msg) => return Some(c.fail(doc, p, msg)),
                };
                if re.is_match(&text) == c.neg {
                    let mut f = c.fail(doc, p, "to match");
                    f.expected = Some(pattern.clone());
                    f.actual = Some(text);
                    return Some(f);
                }
                None
            })
        }
        Kind::Contains {
            path,
            content,
            count,
            any,
        } => c.per_value(selected, path, |c, doc, p, actual| {
            let Json::Array(items) = actual else {
                return Some(c.error(doc, p, format!("expected a list, got:\n{}", yaml(actual))));
            };
            let found = items
                .iter()
                .filter(|item| match (item, content, any) {
                    (Json::Object(i), Json::Object(want), true) => is_subset(i, want),
                    _ => values_equal(item, content),
                })
                .count();
            let ok = match count {
                Some(n) => found as i64 == *n,
                None => found > 0,
            };
            if ok == c.neg {
                let what = match count {
                    Some(n) => format!("to contain {n} time(s) (found {found})"),
                    None => "to contain".to_string(),
                };
                let mut f = c.fail(doc, p, what);
                f.expected = Some(yaml(&Json::Array(vec![content.clone()])));
                f.actual = Some(yaml(actual));
                return Some(f);
            }
            None
        }),
        Kind::IsNullOrEmpty { path } => c.per_value_or_null(selected, path, |c, doc, p, actual| {
            let empty = match actual {
                Json::Null => true,
                Json::String(s) => s.is_empty(),
                Json::Array(a) => a.is_empty(),
                Json::Object(m) => m.is_empty(),
                Json::Bool(b) => !b,
                Json::Number(n) => n.as_f64() == Some(0.0),
            };
            if empty == c.neg {
                let mut f = c.fail(doc, p, "to be null or empty");
                f.actual = Some(yaml(actual));
                return Some(f);
            }
            None
        }),
        Kind::Exists { path } => {
            let parsed = Path::parse(path).expect("checked when the suite was read");
            for doc in selected {
                let exists = !parsed.find(&doc.value).is_empty();
                if exists == c.neg {
                    let f = c.fail(Some(doc), Some(path), "to exist");
                    c.failures.push(f);
                }
            }
            c.no_documents(selected, "to exist");
        }
        Kind::IsNull { path } => {
            let parsed = Path::parse(path).expect("checked when the suite was read");
            for doc in selected {
                let found = parsed.find(&doc.value);
                let null = found.iter().all(|v| v.is_null());
                if null == c.neg {
                    let mut f = c.fail(Some(doc), Some(path), "to be null or absent");
                    if let Some(v) = found.first() {
                        f.actual = Some(yaml(v));
                    }
                    c.failures.push(f);
                }
            }
            c.no_documents(selected, "to be null or absent");
        }
        Kind::IsKind { of } | Kind::IsApiVersion { of } => {
            let (field, what) = match &a.kind {
                Kind::IsKind { .. } => ("kind", "to be kind"),
                _ => ("apiVersion", "to be apiVersion"),
            };
            for doc in selected {
                let actual = doc.value.get(field).cloned().unwrap_or(Json::Null);
                if (actual.as_str() == Some(of.as_str())) == c.neg {
                    let mut f = c.fail(Some(doc), None, what);
                    f.expected = Some(of.clone());
                    if !c.neg {
                        f.actual = Some(yaml(&actual));
                    }
                    c.failures.push(f);
                }
            }
            c.no_documents(selected, what);
        }
        Kind::HasDocuments {
            count,
            filter_aware,
        } => {
            let n = if *filter_aware {
                selected.len()
            } else {
                all.len()
            };
            if (n == *count) == c.neg {
                let mut f = c.fail(None, None, "documents count to be");
                f.expected = Some(count.to_string());
                f.actual = Some(n.to_string());
                c.failures.push(f);
            }
        }
        Kind::IsSubset { path, content } => c.per_value(selected, path, |c, doc, p, actual| {
            let (Json::Object(have), Json::Object(want)) = (actual, content) else {
                return Some(c.error(
                    doc,
                    p,
                    format!(
                        "expected a mapping at the path and as `content`, got:\n{}",
                        yaml(actual)
                    ),
                ));
            };
            if is_subset(have, want) == c.neg {
                let mut f = c.fail(doc, p, "to contain");
                f.expected = Some(yaml(content));
                f.actual = Some(yaml(actual));
                return Some(f);
            }
            None
        }),
        Kind::LengthEqual { paths, count } => {
            for doc in selected {
                let mut lengths: Vec<(String, usize)> = Vec::new();
                for p in paths {
                    let parsed = Path::parse(p).expect("checked when the suite was read");
                    let found = parsed.find(&doc.value);
                    if found.is_empty() {
                        // helm-unittest counts an absent path as an empty list.
                        lengths.push((p.clone(), 0));
                    }
                    for v in found {
                        match v {
                            Json::Null => lengths.push((p.clone(), 0)),
                            Json::Array(a) => lengths.push((p.clone(), a.len())),
                            // A mapping counts its keys (helm-unittest only measures lists).
                            Json::Object(m) => lengths.push((p.clone(), m.len())),
                            other => {
                                let e = c.error(
                                    Some(doc),
                                    Some(p),
                                    format!("expected a list or a mapping, got:\n{}", yaml(other)),
                                );
                                c.failures.push(e);
                            }
                        }
                    }
                }
                let ok = match count {
                    Some(n) => !lengths.is_empty() && lengths.iter().all(|(_, l)| l == n),
                    None => !lengths.is_empty() && lengths.iter().all(|(_, l)| *l == lengths[0].1),
                };
                if ok == c.neg {
                    let mut f = c.fail(Some(doc), Some(&paths.join(", ")), "to match count");
                    f.expected = Some(count.map_or("equal lengths".into(), |n| n.to_string()));
                    f.actual = Some(
                        lengths
                            .iter()
                            .map(|(p, l)| format!("{p}: {l}"))
                            .collect::<Vec<_>>()
                            .join("\n"),
                    );
                    c.failures.push(f);
                }
            }
            c.no_documents(selected, "to match count");
        }
        Kind::IsType { path, type_name } => {
            let want = normalize_type(type_name);
            c.per_value(selected, path, |c, doc, p, actual| {
                let have = type_of(actual);
                if (have == want) == c.neg {
                    let mut f = c.fail(doc, p, "to be of type");
                    f.expected = Some(type_name.clone());
                    f.actual = Some(have.to_string());
                    return Some(f);
                }
                None
            })
        }
        Kind::EqualRaw { value } => {
            for doc in selected {
                let actual = uniform(&doc.raw);
                if (actual == *value) == c.neg {
                    let mut f = c.fail(Some(doc), None, "to equal");
                    f.expected = Some(value.clone());
                    if !c.neg {
                        f.actual = Some(actual);
                        f.diff = true;
                    }
                    c.failures.push(f);
                }
            }
            c.no_documents(selected, "to equal");
        }
        Kind::MatchRegexRaw { pattern } => {
            let re = regex::Regex::new(pattern).expect("checked when the suite was read");
            for doc in selected {
                let actual = uniform(&doc.raw);
                if re.is_match(&actual) == c.neg {
                    let mut f = c.fail(Some(doc), None, "to match");
                    f.expected = Some(pattern.clone());
                    f.actual = Some(actual);
                    c.failures.push(f);
                }
            }
            c.no_documents(selected, "to match");
        }
        Kind::MatchSnapshot {
            path,
            match_regex,
            not_match_regex,
        } => c.per_value(selected, path, |c, doc, p, actual| {
            let text = super::snapshot::to_yaml(actual);
            let compared = env.snapshots.compare(env.test, text.clone());
            let by_pattern = match_regex.is_some() || not_match_regex.is_some();
            let ok = if by_pattern {
                let must = match_regex
                    .as_ref()
                    .is_none_or(|r| regex::Regex::new(r).is_ok_and(|re| re.is_match(&text)));
                let must_not = not_match_regex
                    .as_ref()
                    .is_none_or(|r| regex::Regex::new(r).is_ok_and(|re| !re.is_match(&text)));
                must && must_not
            } else {
                compared.passed
            };
            if ok == c.neg {
                let what = if by_pattern {
                    "to match the snapshot patterns".to_string()
                } else {
                    format!("to match snapshot {}", compared.index)
                };
                let mut f = c.fail(doc, p, what);
                f.expected = Some(compared.cached.clone());
                if !c.neg {
                    f.actual = Some(compared.current.clone());
                    f.diff = !by_pattern;
                }
                return Some(f);
            }
            None
        }),
        Kind::MatchSnapshotRaw => {
            for doc in selected {
                let text = super::snapshot::to_yaml(&Json::String(uniform(&doc.raw)));
                let compared = env.snapshots.compare(env.test, text);
                if compared.passed == c.neg {
                    let mut f = c.fail(
                        Some(doc),
                        None,
                        format!("to match snapshot {}", compared.index),
                    );
                    f.expected = Some(compared.cached);
                    if !c.neg {
                        f.actual = Some(compared.current);
                        f.diff = true;
                    }
                    c.failures.push(f);
                }
            }
        }
        Kind::ContainsDocument {
            kind,
            api_version,
            name,
            namespace,
            any: _,
        } => {
            let found = selected.iter().any(|d| {
                let v = &d.value;
                v.get("kind").and_then(Json::as_str) == Some(kind)
                    && v.get("apiVersion").and_then(Json::as_str) == Some(api_version)
                    && name.as_ref().is_none_or(|n| {
                        v.pointer("/metadata/name").and_then(Json::as_str) == Some(n)
                    })
                    && namespace.as_ref().is_none_or(|n| {
                        v.pointer("/metadata/namespace").and_then(Json::as_str) == Some(n)
                    })
            });
            if found == c.neg {
                let mut f = c.fail(None, None, "to contain document");
                let mut want = format!("kind: {kind}\napiVersion: {api_version}");
                if let Some(n) = name {
                    want.push_str(&format!("\nname: {n}"));
                }
                if let Some(n) = namespace {
                    want.push_str(&format!("\nnamespace: {n}"));
                }
                f.expected = Some(want);
                c.failures.push(f);
            }
        }
        Kind::Compare {
            path,
            value,
            greater,
        } => c.per_value(selected, path, |c, doc, p, actual| {
            let order = match (actual, value) {
                (Json::Number(a), Json::Number(b)) => a.as_f64().partial_cmp(&b.as_f64()),
                (Json::String(a), Json::String(b)) => Some(a.cmp(b)),
                _ => {
                    return Some(c.error(
                        doc,
                        p,
                        format!("cannot compare {} with {}", type_of(actual), type_of(value)),
                    ));
                }
            };
            let holds = match order {
                Some(std::cmp::Ordering::Equal) => true,
                Some(std::cmp::Ordering::Greater) => *greater,
                Some(std::cmp::Ordering::Less) => !*greater,
                None => false,
            };
            if holds == c.neg {
                let what = if *greater {
                    "to be greater than or equal to"
                } else {
                    "to be less than or equal to"
                };
                let mut f = c.fail(doc, p, what);
                f.expected = Some(yaml(value));
                f.actual = Some(yaml(actual));
                return Some(f);
            }
            None
        }),
        Kind::FailedTemplate { .. } => unreachable!("failedTemplate is checked against the render"),
    }
    c.failures
}

struct Checker<'t> {
    template: &'t str,
    neg: bool,
    failures: Vec<Failure>,
}

impl Checker<'_> {
    fn fail(&self, doc: Option<&Doc>, path: Option<&str>, what: impl Into<String>) -> Failure {
        let what = what.into();
        Failure {
            template: Some(self.template.to_string()),
            document: doc.map(|d| d.index),
            path: path.map(str::to_string),
            message: format!("Expected{} {what}", if self.neg { " NOT" } else { "" }),
            expected: None,
            actual: None,
            diff: false,
        }
    }

    /// A failure that is not about the expectation (wrong type, bad input): `not` does not
    /// turn it into a pass.
    fn error(&self, doc: Option<&Doc>, path: Option<&str>, msg: String) -> Failure {
        Failure {
            template: Some(self.template.to_string()),
            document: doc.map(|d| d.index),
            path: path.map(str::to_string),
            message: format!("Error: {msg}"),
            expected: None,
            actual: None,
            diff: false,
        }
    }

    fn no_documents(&mut self, selected: &[&Doc], what: &str) {
        if selected.is_empty() && !self.neg {
            let f = self.fail(None, None, what);
            self.failures.push(Failure {
                message: format!("{}, but the template rendered no documents", f.message),
                ..f
            });
        }
    }

    /// Like [`Checker::per_value`], but a path that leads nowhere is checked as a null value
    /// (for the null/empty assertions, where absent and null mean the same).
    fn per_value_or_null<F>(&mut self, selected: &[&Doc], path: &str, mut each: F)
    where
        F: FnMut(&Checker, Option<&Doc>, Option<&str>, &Json) -> Option<Failure>,
    {
        let parsed = Path::parse(path).expect("checked when the suite was read");
        let shown = if path.is_empty() { None } else { Some(path) };
        for doc in selected {
            let values = parsed.find(&doc.value);
            let values = if values.is_empty() {
                vec![&Json::Null]
            } else {
                values
            };
            for v in values {
                if let Some(f) = each(self, Some(doc), shown, v) {
                    self.failures.push(f);
                }
            }
        }
        self.no_documents(selected, "to be checked");
    }

    /// Runs `each` on every value `path` reaches in every selected document. A document
    /// where the path leads nowhere fails a positive assertion and satisfies a negative one.
    fn per_value<F>(&mut self, selected: &[&Doc], path: &str, mut each: F)
    where
        F: FnMut(&Checker, Option<&Doc>, Option<&str>, &Json) -> Option<Failure>,
    {
        let parsed = Path::parse(path).expect("checked when the suite was read");
        let shown = if path.is_empty() { None } else { Some(path) };
        for doc in selected {
            let values = parsed.find(&doc.value);
            if values.is_empty() {
                if !self.neg {
                    let f = self.error(
                        Some(doc),
                        shown,
                        format!("unknown path `{path}`: it leads to no value"),
                    );
                    self.failures.push(f);
                }
                continue;
            }
            for v in values {
                if let Some(f) = each(self, Some(doc), shown, v) {
                    self.failures.push(f);
                }
            }
        }
        let what = "to pass";
        if selected.is_empty() && !self.neg {
            let f = self.fail(None, shown, what);
            self.failures.push(Failure {
                message: "Error: no documents to check: the template rendered none (or none was selected)"
                    .into(),
                ..f
            });
        }
    }
}

/// A string value with decoding and helm-unittest's whitespace normalisation applied; other
/// values unchanged.
fn text_of(v: &Json, decode_base64: bool) -> Result<Json, String> {
    let Json::String(s) = v else {
        return Ok(v.clone());
    };
    let s = if decode_base64 {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(s.trim())
            .map_err(|e| format!("cannot decode the value as base64: {e}"))?;
        String::from_utf8_lossy(&bytes).into_owned()
    } else {
        s.clone()
    };
    Ok(Json::String(uniform(&s)))
}

/// Drops spaces before line ends and leading blank lines, as helm-unittest compares text.
pub(crate) fn uniform(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, line) in s.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let line = line.strip_suffix('\r').unwrap_or(line);
        out.push_str(line.trim_end_matches(' '));
    }
    // The last line keeps trailing spaces only if no newline follows it.
    if !s.ends_with('\n') {
        let last = s.rsplit('\n').next().unwrap_or("");
        let trimmed = last.trim_end_matches(' ');
        out.push_str(&last[trimmed.len()..]);
    }
    out.trim_start_matches('\n').to_string()
}

fn is_subset(have: &serde_json::Map<String, Json>, want: &serde_json::Map<String, Json>) -> bool {
    want.iter()
        .all(|(k, v)| have.get(k).is_some_and(|h| values_equal(h, v)))
}

/// The YAML text of a value, as snapshots and messages show it.
pub fn yaml(v: &Json) -> String {
    match v {
        Json::String(s) if !s.contains('\n') => s.clone(),
        _ => crate::yaml::to_string(v)
            .unwrap_or_default()
            .trim_end_matches('\n')
            .to_string(),
    }
}

/// Go's type names as helm-unittest reports them, so suites written for it keep working.
fn type_of(v: &Json) -> &'static str {
    match v {
        Json::Null => "nil",
        Json::Bool(_) => "bool",
        Json::Number(n) if n.is_i64() || n.is_u64() => "int",
        Json::Number(_) => "float64",
        Json::String(_) => "string",
        Json::Array(_) => "[]interface {}",
        Json::Object(_) => "map[string]interface {}",
    }
}

fn normalize_type(t: &str) -> &'static str {
    match t.trim() {
        "bool" | "boolean" => "bool",
        "int" | "int64" | "integer" => "int",
        "float64" | "float" => "float64",
        "string" => "string",
        "nil" | "null" | "" => "nil",
        "[]interface {}" | "[]interface{}" | "[]any" | "slice" | "list" | "array" => {
            "[]interface {}"
        }
        "map[string]interface {}"
        | "map[string]interface{}"
        | "map[string]any"
        | "map"
        | "object" => "map[string]interface {}",
        _ => "unknown type",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_drops_trailing_spaces_and_leading_newlines() {
        assert_eq!(uniform("\n\na  \nb \n"), "a\nb\n");
        assert_eq!(uniform("x"), "x");
    }

    #[test]
    fn go_type_names_and_friendly_aliases_agree() {
        assert_eq!(normalize_type("map"), type_of(&serde_json::json!({})));
        assert_eq!(
            normalize_type("[]interface {}"),
            type_of(&serde_json::json!([]))
        );
        assert_eq!(normalize_type("float64"), type_of(&serde_json::json!(1.5)));
        assert_eq!(normalize_type("int"), type_of(&serde_json::json!(3)));
    }
}
