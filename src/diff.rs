//! What changes between two sets of resources, resource by resource, as unified diffs of
//! their YAML: the data behind `stoke diff` ([`crate::release::diff`] finds the two sets).
//! Secret `data` and `stringData` values are always masked: a diff says whether a secret
//! value changed and its size, never the value.

use std::collections::BTreeMap;

use serde::Serialize;
use similar::TextDiff;

use crate::manifest::Manifest;
use crate::yaml::Yaml;

/// How a resource changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    /// Only in the new set.
    Added,
    /// Only in the old set.
    Removed,
    /// In both, with different content.
    Changed,
}

/// The difference for one resource.
#[derive(Debug, Clone, Serialize)]
pub struct ResourceDiff {
    /// Kind.
    pub kind: String,
    /// Name.
    pub name: String,
    /// Namespace, when the manifest sets one.
    pub namespace: Option<String>,
    /// What happened to it.
    pub change: Change,
    /// Unified diff of the YAML (Secret values masked).
    pub diff: String,
}

type Key = (String, String, String);

fn key_of(m: &Manifest) -> Key {
    (
        m.kind.clone(),
        m.namespace.clone().unwrap_or_default(),
        m.name.clone(),
    )
}

/// Compares two resource sets; unchanged resources are left out. Order: the new set's
/// install order, then removed resources in the old set's order.
pub fn diff_manifests(
    old: &[Manifest],
    new: &[Manifest],
    old_label: &str,
    new_label: &str,
) -> Vec<ResourceDiff> {
    let old_by: BTreeMap<Key, &Manifest> = old.iter().map(|m| (key_of(m), m)).collect();
    let new_by: BTreeMap<Key, &Manifest> = new.iter().map(|m| (key_of(m), m)).collect();
    let mut out = Vec::new();
    let mut push = |m: &Manifest, change, a: Option<&Manifest>, b: Option<&Manifest>| {
        let (ta, tb) = masked_pair(a, b);
        if change == Change::Changed && ta == tb {
            return;
        }
        let diff = TextDiff::from_lines(&ta, &tb)
            .unified_diff()
            .context_radius(3)
            .header(old_label, new_label)
            .to_string();
        out.push(ResourceDiff {
            kind: m.kind.clone(),
            name: m.name.clone(),
            namespace: m.namespace.clone(),
            change,
            diff,
        });
    };
    for m in new {
        match old_by.get(&key_of(m)) {
            None => push(m, Change::Added, None, Some(m)),
            Some(o) => push(m, Change::Changed, Some(o), Some(m)),
        }
    }
    for m in old {
        if !new_by.contains_key(&key_of(m)) {
            push(m, Change::Removed, Some(m), None);
        }
    }
    out
}

/// The YAML texts to compare: bodies as rendered, except Secrets, whose values are masked
/// consistently across the pair (equal values mask equally, different values differently).
fn masked_pair(a: Option<&Manifest>, b: Option<&Manifest>) -> (String, String) {
    let is_secret = a.or(b).is_some_and(|m| m.kind == "Secret");
    if !is_secret {
        return (
            a.map(|m| m.body.clone()).unwrap_or_default(),
            b.map(|m| m.body.clone()).unwrap_or_default(),
        );
    }
    let parse = |m: Option<&Manifest>| {
        m.map(|m| crate::yaml::try_from_str::<Yaml>(&m.body).unwrap_or(Yaml::Null))
    };
    let (mut ya, mut yb) = (parse(a), parse(b));
    let other_a = ya.clone();
    let other_b = yb.clone();
    let text = |y: &Option<Yaml>| {
        y.as_ref()
            .map(|v| crate::yaml::to_string(v).unwrap_or_default())
            .unwrap_or_default()
    };
    if let Some(v) = ya.as_mut() {
        mask_secret(v, other_b.as_ref(), "old");
    }
    if let Some(v) = yb.as_mut() {
        mask_secret(v, other_a.as_ref(), "new");
    }
    (text(&ya), text(&yb))
}

fn secret_len(field: &str, v: &Yaml) -> usize {
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
pub fn mask_secret(secret: &mut Yaml, other: Option<&Yaml>, side: &str) {
    for field in ["data", "stringData"] {
        let theirs = other.and_then(|o| o.get(field));
        let Some(map) = secret.get_mut(field).and_then(|d| d.as_mapping_mut()) else {
            continue;
        };
        for (k, v) in map.iter_mut() {
            let len = secret_len(field, v);
            let same = theirs.and_then(|t| t.get(k)).is_some_and(|t| t == v);
            let mask = if same || theirs.and_then(|t| t.get(k)).is_none() {
                format!("(masked, {len} bytes)")
            } else {
                format!("(masked, {len} bytes, {side} value)")
            };
            *v = Yaml::String(mask);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(kind: &str, name: &str, body: &str) -> Manifest {
        Manifest {
            source: "c/templates/x.yaml".into(),
            api_version: "v1".into(),
            kind: kind.into(),
            name: name.into(),
            namespace: None,
            body: body.into(),
        }
    }

    #[test]
    fn reports_added_removed_and_changed_resources_only() {
        let old = [
            m("ConfigMap", "a", "kind: ConfigMap\ndata:\n  x: \"1\"\n"),
            m("ConfigMap", "gone", "kind: ConfigMap\n"),
            m("Service", "same", "kind: Service\n"),
        ];
        let new = [
            m("ConfigMap", "a", "kind: ConfigMap\ndata:\n  x: \"2\"\n"),
            m("Service", "same", "kind: Service\n"),
            m("Service", "new", "kind: Service\n"),
        ];
        let d = diff_manifests(&old, &new, "revision 1", "revision 2");
        let summary: Vec<(&str, Change)> = d.iter().map(|r| (r.name.as_str(), r.change)).collect();
        assert_eq!(
            summary,
            [
                ("a", Change::Changed),
                ("new", Change::Added),
                ("gone", Change::Removed)
            ]
        );
        assert!(
            d[0].diff.contains("-  x: \"1\"\n+  x: \"2\""),
            "{}",
            d[0].diff
        );
        assert!(d[0].diff.starts_with("--- revision 1\n+++ revision 2\n"));
    }

    #[test]
    fn secret_values_never_appear_but_their_changes_do() {
        let old = [m(
            "Secret",
            "s",
            "kind: Secret\ndata:\n  password: aHVudGVyMg==\n  user: YWRtaW4=\n",
        )];
        let new = [m(
            "Secret",
            "s",
            "kind: Secret\ndata:\n  password: c3dvcmRmaXNo\n  user: YWRtaW4=\n",
        )];
        let d = diff_manifests(&old, &new, "a", "b");
        assert_eq!(d.len(), 1);
        let text = &d[0].diff;
        for secret in ["aHVudGVyMg==", "c3dvcmRmaXNo", "YWRtaW4="] {
            assert!(!text.contains(secret), "{text}");
        }
        assert!(
            text.contains("-  password: (masked, 7 bytes, old value)"),
            "{text}"
        );
        assert!(
            text.contains("+  password: (masked, 9 bytes, new value)"),
            "{text}"
        );
        assert!(
            !text.contains("-  user"),
            "unchanged keys are not reported: {text}"
        );

        let same = diff_manifests(&old, &old, "a", "b");
        assert!(same.is_empty());
    }
}
