//! Conversions between Tera's values and serde_json's, which the rest of stoke uses.

use serde_json::Value as Json;
use tera::{Error, TeraResult, Value};

/// Tera value to JSON (undefined becomes null).
pub fn to_json(v: &Value) -> TeraResult<Json> {
    serde_json::to_value(v).map_err(|e| Error::message(format!("cannot convert value: {e}")))
}

/// JSON to a Tera value, keeping the JSON map's (sorted) key order: the value Tera's own
/// `Value::from_serializable` makes of it, built directly (every render converts the whole
/// of the values this way, and the serializer's round trip cost several times more).
pub(crate) fn from_json(v: &Json) -> Value {
    match v {
        Json::Null => Value::none(),
        Json::Bool(b) => Value::from(*b),
        Json::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => Value::from(u),
            (None, Some(i)) => Value::from(i),
            _ => Value::from(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Value::from(s.as_str()),
        Json::Array(items) => Value::from(items.iter().map(from_json).collect::<Vec<Value>>()),
        Json::Object(map) => from_json_map(map),
    }
}

/// A JSON object as a Tera map, as [`from_json`] converts it.
pub(crate) fn from_json_map(map: &serde_json::Map<String, Json>) -> Value {
    let mut entries = tera::Map::with_capacity(map.len());
    for (k, v) in map {
        entries.insert(tera::value::Key::from(k.clone()), from_json(v));
    }
    Value::from(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_direct_conversion_is_teras_own() {
        let v = serde_json::json!({
            "z": null, "a": true, "n": [1, -2, 3.5, 18446744073709551615u64, -9223372036854775808i64],
            "s": "text", "empty": {}, "list": [], "deep": {"b": {"c": ["x", {"d": false}]}},
            "float": 1e300, "zero": 0.0
        });
        let direct = from_json(&v);
        let via_serde = Value::from_serializable(&v);
        assert_eq!(direct, via_serde);
        assert_eq!(format!("{direct}"), format!("{via_serde}"));
        assert_eq!(to_json(&direct).unwrap(), v);
    }
}
