//! The one home of YAML: parsing values files and other documents (with positions for
//! messages), converting to the JSON data model the rest of stoke works in, and describing
//! parse errors. No other module names a YAML crate.

pub mod pos;

use anyhow::{Result, bail};
use serde_json::{Map, Value};

/// Parses YAML values text into a map; `origin` names the file in errors. An empty
/// document is an empty map; any other non-map document is an error.
pub fn parse_values_yaml(text: &str, origin: &str) -> Result<Map<String, Value>> {
    let doc: serde_yaml::Value = serde_yaml::from_str(text)
        .map_err(|e| anyhow::anyhow!("{}", crate::yaml::pos::describe_yaml_error(origin, &e)))?;
    match yaml_to_json(doc) {
        Value::Object(map) => Ok(map),
        Value::Null => Ok(Map::new()),
        other => bail!(
            "{origin}: values must be a mapping of keys to values, found {}",
            kind_name(&other)
        ),
    }
}

/// Converts a YAML value into JSON's model: keys become strings, tags are dropped.
pub fn yaml_to_json(v: serde_yaml::Value) -> Value {
    use serde_yaml::Value as Y;
    match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                serde_json::Number::from_f64(f)
                    .map(Value::Number)
                    .unwrap_or(Value::Null)
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(yaml_to_json).collect()),
        Y::Mapping(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (yaml_key_to_string(k), yaml_to_json(v)))
                .collect(),
        ),
        Y::Tagged(t) => yaml_to_json(t.value),
    }
}

fn yaml_key_to_string(k: serde_yaml::Value) -> String {
    use serde_yaml::Value as Y;
    match k {
        Y::String(s) => s,
        Y::Null => "null".into(),
        Y::Bool(b) => b.to_string(),
        Y::Number(n) => n.to_string(),
        other => serde_yaml::to_string(&other)
            .unwrap_or_default()
            .trim()
            .to_string(),
    }
}

/// A short name for a value's type, for messages.
pub fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}
