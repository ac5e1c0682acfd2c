//! Conversions between Tera's values and serde_json's, which the rest of stoke uses.

use serde_json::Value as Json;
use tera::{Error, TeraResult, Value};

/// Tera value to JSON (undefined becomes null).
pub fn to_json(v: &Value) -> TeraResult<Json> {
    serde_json::to_value(v).map_err(|e| Error::message(format!("cannot convert value: {e}")))
}

/// JSON to a Tera value, keeping the JSON map's (sorted) key order.
pub(crate) fn from_json(v: &Json) -> Value {
    Value::from_serializable(v)
}
