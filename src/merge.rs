//! The one deep merge of JSON-shaped maps, used for values files, `--set-json`, unit-test
//! values and the `merge` filters. Mappings merge key by key, recursively; anything else
//! is a leaf. Helm's *coalesce* (nulls delete keys, chart defaults under user values) is a
//! different operation and lives in [`crate::values::coalesce`].

use serde_json::{Map, Value};

/// Who wins where both sides hold a leaf (or a mapping meets a non-mapping).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    /// The incoming value replaces what is there (Helm's `-f` files, `mergeOverwrite`).
    Overwrite,
    /// What is there stays; the incoming side only fills in missing keys (Sprig's `merge`).
    Keep,
}

/// Merges `src` into `dst`, deeply.
pub(crate) fn deep_merge(
    dst: &mut Map<String, Value>,
    src: Map<String, Value>,
    conflict: Conflict,
) {
    for (k, v) in src {
        match (dst.get_mut(&k), v) {
            (Some(Value::Object(d)), Value::Object(s)) => deep_merge(d, s, conflict),
            (Some(_), v) if conflict == Conflict::Overwrite => {
                dst.insert(k, v);
            }
            (Some(_), _) => {}
            (None, v) => {
                dst.insert(k, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn mappings_merge_deeply_and_the_incoming_leaf_wins_on_overwrite() {
        let mut dst = map(json!({"a": {"x": 1, "y": 2}, "b": [1], "c": {"k": 1}}));
        let src = map(json!({"a": {"y": 3, "z": 4}, "b": [2], "c": 5}));
        deep_merge(&mut dst, src, Conflict::Overwrite);
        assert_eq!(
            Value::Object(dst),
            json!({"a": {"x": 1, "y": 3, "z": 4}, "b": [2], "c": 5})
        );
    }

    #[test]
    fn keep_only_fills_in_missing_keys() {
        let mut dst = map(json!({"a": {"x": 1}, "b": 1}));
        let src = map(json!({"a": {"x": 2, "y": 2}, "b": {"n": 1}, "c": 3}));
        deep_merge(&mut dst, src, Conflict::Keep);
        assert_eq!(
            Value::Object(dst),
            json!({"a": {"x": 1, "y": 2}, "b": 1, "c": 3})
        );
    }
}
