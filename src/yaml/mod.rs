//! The one home of YAML: parsing values files and other documents (with positions for
//! messages), converting to the JSON data model the rest of stoke works in, emitting, and
//! describing parse errors. No other module names a YAML crate: code elsewhere calls
//! [`from_str`], [`parse`], [`parse_stream`], [`parse_values_yaml`] and [`to_string`].

pub mod finite;
pub mod pos;

use anyhow::{Result, bail};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// A document in YAML's own model: mappings keep their order and any key type. Prefer the
/// JSON model ([`parse_json`]) unless order or non-string keys matter.
pub use serde_yaml::{Mapping, Value as Yaml};

/// Why a text is not the YAML expected: the message and, when known, where (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    message: String,
    line: Option<usize>,
    column: Option<usize>,
}

impl Error {
    fn from_backend(e: serde_yaml::Error) -> Error {
        let full = e.to_string();
        let (line, column) = match e.location() {
            Some(l) => (Some(l.line()), Some(l.column())),
            None => (None, None),
        };
        // The backend appends " at line X column Y"; keep the position apart.
        let message = match (line, full.rfind(" at line ")) {
            (Some(_), Some(i)) => full[..i].to_string(),
            _ => full,
        };
        Error {
            message,
            line,
            column,
        }
    }

    /// What is wrong, without the position.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The line of the problem, when known.
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// The column of the problem, when known.
    pub fn column(&self) -> Option<usize> {
        self.column
    }

    /// `ORIGIN:LINE:COL: invalid YAML: message`, the form every command reports.
    pub fn describe(&self, origin: &str) -> String {
        match (self.line, self.column) {
            (Some(l), Some(c)) => format!("{origin}:{l}:{c}: invalid YAML: {}", self.message),
            _ => format!("{origin}: invalid YAML: {}", self.message),
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{} at line {l} column {c}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for Error {}

fn described(origin: &str, e: serde_yaml::Error) -> anyhow::Error {
    anyhow::anyhow!("{}", Error::from_backend(e).describe(origin))
}

/// Parses one YAML document into `T`, keeping the error's position apart for callers that
/// word their own message (most call [`from_str`]).
pub fn try_from_str<T: DeserializeOwned>(text: &str) -> std::result::Result<T, Error> {
    serde_yaml::from_str(text).map_err(Error::from_backend)
}

/// Parses one YAML document into `T`; errors read `ORIGIN:LINE:COL: invalid YAML: ...`.
pub fn from_str<T: DeserializeOwned>(text: &str, origin: &str) -> Result<T> {
    serde_yaml::from_str(text).map_err(|e| described(origin, e))
}

/// Parses one YAML document in YAML's model.
pub fn parse(text: &str, origin: &str) -> Result<Yaml> {
    from_str(text, origin)
}

/// Parses one YAML document into the JSON model (see [`yaml_to_json`]).
pub fn parse_json(text: &str, origin: &str) -> Result<Value> {
    parse(text, origin).map(yaml_to_json)
}

/// Parses every document of a `---`-separated stream, in order.
pub fn parse_stream(text: &str, origin: &str) -> Result<Vec<Yaml>> {
    use serde::Deserialize as _;
    serde_yaml::Deserializer::from_str(text)
        .map(|d| Yaml::deserialize(d).map_err(|e| described(origin, e)))
        .collect()
}

/// Builds a `T` from a document already parsed.
pub fn from_yaml<T: DeserializeOwned>(doc: Yaml) -> Result<T> {
    Ok(serde_yaml::from_value(doc)?)
}

/// Turns `value` into YAML's model.
pub fn to_yaml<T: Serialize + ?Sized>(value: &T) -> Result<Yaml> {
    Ok(serde_yaml::to_value(value)?)
}

/// Writes `value` as a YAML document (block style, no leading `---`).
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    Ok(serde_yaml::to_string(value)?)
}

/// Parses YAML values text into a map; `origin` names the file in errors. An empty
/// document is an empty map; any other non-map document is an error.
pub fn parse_values_yaml(text: &str, origin: &str) -> Result<Map<String, Value>> {
    let doc = parse(text, origin)?;
    finite::refuse_non_finite(&doc, origin)?;
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
