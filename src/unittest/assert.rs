//! Evaluating one assertion against the documents (or raw text) it targets.

use base64::Engine as _;
use serde_json::Value;

use super::path;
use super::suite::Assertion;

/// The outcome of an assertion before negation: whether it held, and what was expected and
/// found, for the failure report.
#[derive(Debug, Clone)]
pub struct Check {
    /// Whether the assertion held.
    pub held: bool,
    /// What was expected, as text.
    pub expected: String,
    /// What was found, as text.
    pub actual: String,
}

impl Check {
    fn new(held: bool, expected: impl Into<String>, actual: impl Into<String>) -> Self {
        Check {
            held,
            expected: expected.into(),
            actual: actual.into(),
        }
    }
}

/// YAML text of a value for reports (no trailing newline).
pub fn show(v: &Value) -> String {
    crate::engine::yaml_emit::to_yaml(v)
}

/// Numbers compare by value, as YAML readers see them.
pub fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// Whether `part` is contained in `whole`: maps by subset of keys, recursively; anything
/// else by equality.
pub fn subset(part: &Value, whole: &Value) -> bool {
    match (part, whole) {
        (Value::Object(p), Value::Object(w)) => p
            .iter()
            .all(|(k, v)| w.get(k).is_some_and(|x| subset(v, x))),
        _ => same(part, whole),
    }
}

fn param<'a>(a: &'a Assertion, key: &str) -> Result<&'a Value, String> {
    a.params
        .get(key)
        .ok_or_else(|| format!("`{}` needs a `{key}` parameter", a.written))
}

fn param_str(a: &Assertion, key: &str) -> Result<String, String> {
    match param(a, key)? {
        Value::String(s) => Ok(s.clone()),
        other => Ok(show(other)),
    }
}

fn regex(a: &Assertion, key: &str) -> Result<regex::Regex, String> {
    let p = param_str(a, key)?;
    regex::Regex::new(&p).map_err(|e| format!("`{}`: bad pattern `{p}`: {e}", a.written))
}

fn decode_if_asked(a: &Assertion, v: &Value) -> Result<Value, String> {
    if !a
        .params
        .get("decodeBase64")
        .and_then(Value::as_bool)
        .unwrap_or(false)
    {
        return Ok(v.clone());
    }
    let s = v
        .as_str()
        .ok_or("decodeBase64: the value is not a string")?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s)
        .map_err(|e| format!("decodeBase64: not base64: {e}"))?;
    Ok(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
}

/// Values at the assertion's `path` in `doc` (an empty list when the path is absent).
fn at_path<'a>(a: &Assertion, doc: &'a Value) -> Result<(String, Vec<&'a Value>), String> {
    let p = param_str(a, "path")?;
    let steps = path::parse(&p).map_err(|e| e.to_string())?;
    Ok((p, path::select(doc, &steps)))
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::Bool(b) => !b,
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(_) => "int",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

fn type_matches(expected: &str, v: &Value) -> bool {
    let actual = type_name(v);
    match expected {
        "string" | "bool" | "null" | "float64" => {
            actual == expected || (expected == "float64" && v.is_number())
        }
        "boolean" => actual == "bool",
        "int" | "int64" | "integer" => actual == "int",
        "float" | "number" => v.is_number(),
        "map" | "object" | "map[string]interface {}" => v.is_object(),
        "slice" | "list" | "array" | "[]interface {}" => v.is_array(),
        _ => false,
    }
}

/// Evaluates a document assertion on one document.
pub fn on_document(a: &Assertion, doc: &Value) -> Result<Check, String> {
    Ok(match a.kind.as_str() {
        "equal" => {
            let (_, found) = at_path(a, doc)?;
            let want = param(a, "value")?;
            let actual = match found.as_slice() {
                [] => Value::Null,
                [one] => decode_if_asked(a, one)?,
                many => Value::Array(
                    many.iter()
                        .map(|v| decode_if_asked(a, v))
                        .collect::<Result<_, _>>()?,
                ),
            };
            Check::new(same(&actual, want), show(want), show(&actual))
        }
        "matchRegex" => {
            let (p, found) = at_path(a, doc)?;
            let re = regex(a, "pattern")?;
            let Some(v) = found.first() else {
                return Ok(Check::new(
                    false,
                    format!("`{p}` to match /{re}/"),
                    "the path does not exist",
                ));
            };
            let v = decode_if_asked(a, v)?;
            let Some(s) = v.as_str() else {
                return Err(format!("`{p}` is not a string: {}", show(&v)));
            };
            Check::new(re.is_match(s), format!("to match /{re}/"), s)
        }
        "contains" => {
            let (p, found) = at_path(a, doc)?;
            let content = param(a, "content")?;
            let any = a
                .params
                .get("any")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let Some(Value::Array(items)) = found.first() else {
                return Err(format!("`{p}` is not a list"));
            };
            let hits = items
                .iter()
                .filter(|i| {
                    if any {
                        subset(content, i)
                    } else {
                        same(content, i)
                    }
                })
                .count();
            let held = match a.params.get("count").and_then(Value::as_u64) {
                Some(n) => hits as u64 == n,
                None => hits > 0,
            };
            Check::new(held, show(content), show(&Value::Array(items.clone())))
        }
        "isNull" => {
            let (_, found) = at_path(a, doc)?;
            let v = found.first().copied().cloned().unwrap_or(Value::Null);
            Check::new(v.is_null(), "null", show(&v))
        }
        "isEmpty" | "isNullOrEmpty" => {
            let (_, found) = at_path(a, doc)?;
            let v = found.first().copied().cloned().unwrap_or(Value::Null);
            Check::new(
                is_empty(&v),
                "empty (null, \"\", 0, false, [] or {})",
                show(&v),
            )
        }
        "exists" => {
            let (p, found) = at_path(a, doc)?;
            Check::new(
                !found.is_empty(),
                format!("`{p}` to exist"),
                if found.is_empty() {
                    "absent".to_string()
                } else {
                    show(found[0])
                },
            )
        }
        "isKind" => {
            let want = param_str(a, "of")?;
            let kind = doc.get("kind").and_then(Value::as_str).unwrap_or("");
            Check::new(kind == want, want, kind)
        }
        "isAPIVersion" => {
            let want = param_str(a, "of")?;
            let v = doc.get("apiVersion").and_then(Value::as_str).unwrap_or("");
            Check::new(v == want, want, v)
        }
        "isSubset" => {
            let (p, found) = at_path(a, doc)?;
            let content = param(a, "content")?;
            let Some(v) = found.first() else {
                return Ok(Check::new(
                    false,
                    show(content),
                    format!("`{p}` does not exist"),
                ));
            };
            if !v.is_object() {
                return Err(format!("`{p}` is not a mapping"));
            }
            Check::new(subset(content, v), show(content), show(v))
        }
        "lengthEqual" => {
            let paths: Vec<String> = match (a.params.get("paths"), a.params.get("path")) {
                (Some(Value::Array(ps)), _) => ps
                    .iter()
                    .filter_map(|p| p.as_str().map(str::to_string))
                    .collect(),
                (_, Some(Value::String(p))) => vec![p.clone()],
                _ => return Err("`lengthEqual` needs `path` or `paths`".into()),
            };
            let mut lengths = Vec::new();
            for p in &paths {
                let steps = path::parse(p).map_err(|e| e.to_string())?;
                let len = match path::select(doc, &steps).first() {
                    Some(Value::Array(x)) => x.len(),
                    Some(Value::Object(m)) => m.len(),
                    Some(other) => return Err(format!("`{p}` has no length: {}", show(other))),
                    None => return Err(format!("`{p}` does not exist")),
                };
                lengths.push(len);
            }
            let held = match a.params.get("count").and_then(Value::as_u64) {
                Some(n) => lengths.iter().all(|l| *l as u64 == n),
                None => lengths.windows(2).all(|w| w[0] == w[1]),
            };
            let expected = a
                .params
                .get("count")
                .map(show)
                .unwrap_or_else(|| "equal lengths".into());
            Check::new(held, expected, format!("{lengths:?}"))
        }
        "isType" => {
            let (p, found) = at_path(a, doc)?;
            let want = param_str(a, "type")?;
            let Some(v) = found.first() else {
                return Ok(Check::new(false, want, format!("`{p}` does not exist")));
            };
            Check::new(type_matches(&want, v), want, type_name(v))
        }
        other => return Err(format!("`{other}` does not apply to a document")),
    })
}

/// Evaluates an assertion on a template's raw text (`equalRaw`, `matchRegexRaw`).
pub fn on_raw(a: &Assertion, text: &str) -> Result<Check, String> {
    Ok(match a.kind.as_str() {
        "equalRaw" => {
            let want = param_str(a, "value")?;
            Check::new(
                text == want || text.trim_end() == want.trim_end(),
                want,
                text,
            )
        }
        "matchRegexRaw" => {
            let re = regex(a, "pattern")?;
            Check::new(re.is_match(text), format!("to match /{re}/"), text)
        }
        other => return Err(format!("`{other}` does not apply to raw text")),
    })
}

/// `containsDocument`: some document of the template has the kind, apiVersion and (when
/// given) name and namespace.
pub fn contains_document(a: &Assertion, docs: &[Value]) -> Result<Check, String> {
    let kind = param_str(a, "kind")?;
    let api = param_str(a, "apiVersion")?;
    let name = a.params.get("name").and_then(Value::as_str);
    let ns = a.params.get("namespace").and_then(Value::as_str);
    let held = docs.iter().any(|d| {
        d.get("kind").and_then(Value::as_str) == Some(kind.as_str())
            && d.get("apiVersion").and_then(Value::as_str) == Some(api.as_str())
            && name.is_none_or(|n| d.pointer("/metadata/name").and_then(Value::as_str) == Some(n))
            && ns
                .is_none_or(|n| d.pointer("/metadata/namespace").and_then(Value::as_str) == Some(n))
    });
    let expected = format!(
        "{api} {kind}{}{}",
        name.map(|n| format!(" {n}")).unwrap_or_default(),
        ns.map(|n| format!(" in {n}")).unwrap_or_default()
    );
    let found: Vec<String> = docs
        .iter()
        .map(|d| {
            format!(
                "{} {} {}",
                d["apiVersion"].as_str().unwrap_or(""),
                d["kind"].as_str().unwrap_or(""),
                d.pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
            )
        })
        .collect();
    Ok(Check::new(held, expected, found.join("\n")))
}
