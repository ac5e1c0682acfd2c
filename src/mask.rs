//! Masking Secret values wherever stoke shows manifests to a person: dry runs, diffs.
//! Only `get manifest` and `get all` print a revision as stored, since asking for the
//! record is asking for its secrets. A Secret may also travel inside a `kind: List` (or any
//! `*List`), so list items are masked too.

use crate::manifest::Manifest;
use crate::yaml::Yaml as Value;

/// Whether a manifest body holds a Secret, so it must be masked when shown and written
/// private. A `kind: List` can carry Secrets among its items, so any document with an item
/// of that kind counts.
pub fn holds_secret(kind: &str, body: &str) -> bool {
    kind == "Secret"
        || body
            .lines()
            .any(|l| l.trim_start().trim_start_matches("- ").trim() == "kind: Secret")
}

/// The manifests with every Secret's `data` and `stringData` values masked.
pub fn mask_manifests(manifests: &[Manifest]) -> Vec<Manifest> {
    manifests
        .iter()
        .map(|m| {
            let mut m = m.clone();
            if holds_secret(&m.kind, &m.body) {
                m.body = masked_body(&m.body, None, "");
            }
            m
        })
        .collect()
}

/// The manifests as one YAML stream with `# Source:` lines, Secret values masked: what a
/// dry run shows of the objects it would apply (`get manifest` prints the stored revision
/// as it is).
pub fn masked_manifest_text(manifests: &[Manifest]) -> String {
    crate::manifest::manifest_text(&mask_manifests(manifests))
}

/// `body` re-serialised with its Secrets masked against `other` (the document it is
/// compared with, if any). A body that does not parse is replaced entirely: it cannot be
/// shown safely.
pub fn masked_body(body: &str, other: Option<&str>, side: &str) -> String {
    let Ok(mut doc) = crate::yaml::try_from_str::<Value>(body) else {
        return "(a Secret that does not parse as YAML; masked entirely)\n".into();
    };
    let theirs = other.and_then(|o| crate::yaml::try_from_str::<Value>(o).ok());
    mask_document(&mut doc, theirs.as_ref(), side);
    crate::yaml::to_string(&doc).unwrap_or_default()
}

fn is_secret(v: &Value) -> bool {
    v.get("kind").and_then(Value::as_str) == Some("Secret")
}

fn item_id(v: &Value) -> (Option<&str>, Option<&str>) {
    (
        v.get("kind").and_then(Value::as_str),
        v.get("metadata")
            .and_then(|m| m.get("name"))
            .and_then(Value::as_str),
    )
}

/// Masks `doc` if it is a Secret, and every Secret among its `items` (a List); `other` is
/// the same document on the other side of a diff, so equal values mask equally and
/// different ones say which side they are.
pub fn mask_document(doc: &mut Value, other: Option<&Value>, side: &str) {
    if is_secret(doc) {
        mask_secret(doc, other, side);
    }
    if let Some(items) = doc.get_mut("items").and_then(Value::as_sequence_mut) {
        let theirs = other
            .and_then(|o| o.get("items"))
            .and_then(Value::as_sequence);
        for item in items.iter_mut() {
            let id = item_id(item);
            let match_ = theirs.and_then(|t| t.iter().find(|o| item_id(o) == id));
            let match_ = match_.cloned();
            mask_document(item, match_.as_ref(), side);
        }
    }
}

fn secret_len(field: &str, v: &Value) -> usize {
    let s = v.as_str().unwrap_or_default();
    if field == "data" {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(s.trim())
            .map(|b| b.len())
            .unwrap_or(s.len())
    } else {
        s.len()
    }
}

/// Replaces every value under `data` and `stringData` of a Secret with a mask that tells
/// the size and whether it differs from the same key in `other`.
pub fn mask_secret(secret: &mut Value, other: Option<&Value>, side: &str) {
    for field in ["data", "stringData"] {
        let theirs = other.and_then(|o| o.get(field));
        let Some(map) = secret.get_mut(field).and_then(|d| d.as_mapping_mut()) else {
            continue;
        };
        for (k, v) in map.iter_mut() {
            let len = secret_len(field, v);
            let same = theirs.and_then(|t| t.get(k)).is_some_and(|t| t == v);
            let mask = if same || side.is_empty() || theirs.and_then(|t| t.get(k)).is_none() {
                format!("(masked, {len} bytes)")
            } else {
                format!("(masked, {len} bytes, {side} value)")
            };
            *v = Value::String(mask);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_recognised_alone_and_inside_lists() {
        assert!(holds_secret("Secret", ""));
        assert!(holds_secret(
            "List",
            "items:\n- apiVersion: v1\n  kind: Secret\n"
        ));
        assert!(!holds_secret("ConfigMap", "data:\n  kind: Secretive\n"));
    }

    #[test]
    fn secrets_inside_lists_are_masked() {
        let body = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: s\n  stringData:\n    password: hunter2\n";
        let out = masked_body(body, None, "");
        assert!(!out.contains("hunter2"), "{out}");
        assert!(out.contains("(masked, 7 bytes)"), "{out}");
    }
}
