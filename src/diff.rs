//! What changes between two sets of resources, resource by resource, as unified diffs of
//! their YAML: the data behind `stoke diff` ([`crate::release::diff`] finds the two sets).
//! Secret `data` and `stringData` values are always masked: a diff says whether a secret
//! value changed and its size, never the value.

use std::collections::BTreeMap;

use serde::Serialize;
use similar::TextDiff;

use crate::manifest::Manifest;
pub use crate::mask::mask_secret;
use crate::mask::{holds_secret, masked_body};

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

/// The YAML texts to compare: bodies as rendered, except Secrets (alone or inside a List),
/// whose values are masked consistently across the pair (equal values mask equally,
/// different values differently).
fn masked_pair(a: Option<&Manifest>, b: Option<&Manifest>) -> (String, String) {
    let secret = |m: Option<&Manifest>| m.is_some_and(|m| holds_secret(&m.kind, &m.body));
    if !secret(a) && !secret(b) {
        return (
            a.map(|m| m.body.clone()).unwrap_or_default(),
            b.map(|m| m.body.clone()).unwrap_or_default(),
        );
    }
    let side = |m: Option<&Manifest>, o: Option<&Manifest>, name: &str| {
        m.map(|m| masked_body(&m.body, o.map(|o| o.body.as_str()), name))
            .unwrap_or_default()
    };
    (side(a, b, "old"), side(b, a, "new"))
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
