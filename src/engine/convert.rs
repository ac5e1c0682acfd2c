//! Conversions between Tera's values and serde_json's, which the rest of stoke uses.

use std::sync::Arc;

use serde_json::Value as Json;
use tera::value::Key;
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
        entries.insert(key(k), from_json(v));
    }
    Value::from_map(entries)
}

fn key(k: &str) -> Key<'static> {
    Key::String(Arc::from(k))
}

/// A JSON map kept with its conversion, to convert maps like it for less: the renders of a
/// fleet's releases convert values that differ from one another in a few places.
pub(crate) struct Like {
    json: serde_json::Map<String, Json>,
    value: Value,
}

impl Like {
    /// Keeps `json` and its conversion.
    pub(crate) fn new(json: serde_json::Map<String, Json>) -> Like {
        let value = from_json_map(&json);
        Like { json, value }
    }

    /// The kept map's conversion.
    pub(crate) fn value(&self) -> Value {
        self.value.clone()
    }

    /// `map` converted as [`from_json_map`] converts it, sharing with the kept conversion
    /// every subtree equal to the kept one at the same place, and every key.
    pub(crate) fn convert(&self, map: &serde_json::Map<String, Json>) -> Value {
        match self.value.as_map() {
            Some(theirs) => map_like(map, &self.json, theirs),
            None => from_json_map(map),
        }
    }
}

/// `map` converted, taking from `like` (converted as `like_value`, entry for entry in the
/// same order: both follow the JSON map's sorted keys) what is equal.
fn map_like(
    map: &serde_json::Map<String, Json>,
    like: &serde_json::Map<String, Json>,
    like_value: &tera::Map,
) -> Value {
    let mut entries = tera::Map::with_capacity(map.len());
    let mut theirs = like.iter().zip(like_value.iter()).peekable();
    for (k, v) in map {
        while theirs
            .peek()
            .is_some_and(|((lk, _), _)| lk.as_str() < k.as_str())
        {
            theirs.next();
        }
        match theirs.peek() {
            Some(((lk, lv), (tk, tv))) if *lk == k => {
                let converted = if v == *lv {
                    (*tv).clone()
                } else {
                    match (v, *lv, tv.as_map()) {
                        (Json::Object(m), Json::Object(lm), Some(tm)) => map_like(m, lm, tm),
                        _ => from_json(v),
                    }
                };
                entries.insert((*tk).clone(), converted);
            }
            _ => {
                entries.insert(key(k), from_json(v));
            }
        }
    }
    Value::from_map(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_map_converted_like_another_is_converted_exactly_as_alone() {
        let kept = serde_json::json!({
            "gateway": {"env": {"A": "1", "B": "2"}, "replicas": 1, "image": {"tag": "8.3"}},
            "list": [1, {"x": null}], "same": {"deep": {"er": true}}, "gone": 1, "s": "t"
        });
        let like = Like::new(kept.as_object().unwrap().clone());
        let others = [
            kept.clone(),
            serde_json::json!({}),
            serde_json::json!({"gateway": {"env": {"A": "1", "C": "3"}, "replicas": 2, "image": {"tag": "8.3"}},
                "list": [1, {"x": 1}], "same": {"deep": {"er": true}}, "new": {"a": [1]}, "s": 5}),
            serde_json::json!({"gateway": "scalar now", "same": {"deep": "changed"}, "a": 1, "zz": {}}),
            serde_json::json!({"gateway": {"env": {}}, "list": {"now": "a map"}, "same": {"deep": {"er": 1.5}}}),
        ];
        for other in others {
            let map = other.as_object().unwrap();
            let converted = like.convert(map);
            let alone = from_json_map(map);
            assert_eq!(converted, alone, "{other}");
            assert_eq!(format!("{converted}"), format!("{alone}"), "{other}");
            assert_eq!(to_json(&converted).unwrap(), other);
        }
    }

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
