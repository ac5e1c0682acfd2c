//! Helm's hook annotations, read as Helm reads them so existing charts work unchanged:
//! `helm.sh/hook` (a comma-separated list of events), `helm.sh/hook-weight` (an integer,
//! lower runs first) and `helm.sh/hook-delete-policy` (`before-hook-creation`, the default,
//! `hook-succeeded`, `hook-failed`). Hook objects are not part of a release's resources:
//! they run at their events and are recorded apart.

use anyhow::{Result, bail};
use serde_json::Value;

use crate::manifest::Manifest;

/// When a hook runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Event {
    /// Before an install's resources are applied.
    PreInstall,
    /// After they are applied (and ready, with --wait).
    PostInstall,
    /// Before an upgrade.
    PreUpgrade,
    /// After an upgrade.
    PostUpgrade,
    /// Before a rollback.
    PreRollback,
    /// After a rollback.
    PostRollback,
    /// Before an uninstall deletes anything.
    PreDelete,
    /// After it deleted everything.
    PostDelete,
    /// `stoke test`.
    Test,
}

impl Event {
    /// Helm's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Event::PreInstall => "pre-install",
            Event::PostInstall => "post-install",
            Event::PreUpgrade => "pre-upgrade",
            Event::PostUpgrade => "post-upgrade",
            Event::PreRollback => "pre-rollback",
            Event::PostRollback => "post-rollback",
            Event::PreDelete => "pre-delete",
            Event::PostDelete => "post-delete",
            Event::Test => "test",
        }
    }

    fn parse(s: &str) -> Option<Event> {
        Some(match s {
            "pre-install" => Event::PreInstall,
            "post-install" => Event::PostInstall,
            "pre-upgrade" => Event::PreUpgrade,
            "post-upgrade" => Event::PostUpgrade,
            "pre-rollback" => Event::PreRollback,
            "post-rollback" => Event::PostRollback,
            "pre-delete" => Event::PreDelete,
            "post-delete" => Event::PostDelete,
            // Helm 2's name for test hooks, still accepted by Helm 3 and 4.
            "test" | "test-success" => Event::Test,
            _ => return None,
        })
    }
}

/// When a hook object is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeletePolicy {
    /// Delete a previous object of the same name before creating the hook.
    pub before_creation: bool,
    /// Delete the hook once it succeeded.
    pub on_success: bool,
    /// Delete the hook once it failed.
    pub on_failure: bool,
}

/// One hook object of a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Hook {
    /// The rendered object.
    pub manifest: Manifest,
    /// The events it runs at.
    pub events: Vec<Event>,
    /// Its weight; lower runs first.
    pub weight: i64,
    /// When it is deleted.
    pub delete: DeletePolicy,
}

fn annotation<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.pointer("/metadata/annotations")?.get(key)?.as_str()
}

/// Reads the hook annotations of one parsed object; `None` when it is not a hook.
pub fn parse(manifest: &Manifest, obj: &Value) -> Result<Option<Hook>> {
    let Some(list) = annotation(obj, "helm.sh/hook") else {
        return Ok(None);
    };
    let what = || {
        format!(
            "{} {} (from {})",
            manifest.kind, manifest.name, manifest.source
        )
    };
    let mut events = Vec::new();
    for e in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        match Event::parse(e) {
            Some(ev) => events.push(ev),
            None => bail!(
                "{}: unknown hook event `{e}` in helm.sh/hook (use pre-install, post-install, pre-upgrade, post-upgrade, pre-rollback, post-rollback, pre-delete, post-delete or test)",
                what()
            ),
        }
    }
    let weight = match annotation(obj, "helm.sh/hook-weight").map(str::trim) {
        None | Some("") => 0,
        Some(w) => w.parse().map_err(|_| {
            anyhow::anyhow!(
                "{}: helm.sh/hook-weight `{w}` is not an integer (write it as a quoted number, e.g. \"-5\")",
                what()
            )
        })?,
    };
    let mut delete = DeletePolicy::default();
    match annotation(obj, "helm.sh/hook-delete-policy") {
        None => delete.before_creation = true,
        Some(list) => {
            for p in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                match p {
                    "before-hook-creation" => delete.before_creation = true,
                    "hook-succeeded" => delete.on_success = true,
                    "hook-failed" => delete.on_failure = true,
                    _ => bail!(
                        "{}: unknown helm.sh/hook-delete-policy `{p}` (use before-hook-creation, hook-succeeded or hook-failed)",
                        what()
                    ),
                }
            }
        }
    }
    Ok(Some(Hook {
        manifest: manifest.clone(),
        events,
        weight,
        delete,
    }))
}

/// Splits manifests into the release's resources and its hooks (kept in order), for
/// `get manifest` and `get hooks`; a document that does not parse counts as a resource.
pub fn partition(manifests: &[Manifest]) -> (Vec<Manifest>, Vec<Manifest>) {
    manifests.iter().cloned().partition(|m| {
        let hook = crate::kube::object::parse(m)
            .ok()
            .is_some_and(|obj| annotation(&obj, "helm.sh/hook").is_some());
        !hook
    })
}

/// The hooks of `event` in the order they run: by weight, then in install order (the
/// order of `hooks`), then by name, as Helm orders them.
pub fn for_event(hooks: &[Hook], event: Event) -> Vec<&Hook> {
    let mut chosen: Vec<(usize, &Hook)> = hooks
        .iter()
        .enumerate()
        .filter(|(_, h)| h.events.contains(&event))
        .collect();
    chosen.sort_by(|(ia, a), (ib, b)| {
        a.weight
            .cmp(&b.weight)
            .then(ia.cmp(ib))
            .then_with(|| a.manifest.name.cmp(&b.manifest.name))
    });
    chosen.into_iter().map(|(_, h)| h).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(name: &str) -> Manifest {
        Manifest {
            source: "c/templates/hooks.yaml".into(),
            api_version: "batch/v1".into(),
            kind: "Job".into(),
            name: name.into(),
            namespace: None,
            body: String::new(),
        }
    }

    fn hook(name: &str, ann: Value) -> Option<Hook> {
        parse(
            &m(name),
            &json!({"metadata": {"name": name, "annotations": ann}}),
        )
        .unwrap()
    }

    #[test]
    fn an_object_without_the_hook_annotation_is_not_a_hook() {
        assert!(hook("a", json!({"x": "y"})).is_none());
    }

    #[test]
    fn events_weights_and_policies_are_read_as_helm_reads_them() {
        let h = hook(
            "a",
            json!({"helm.sh/hook": "pre-install, pre-upgrade", "helm.sh/hook-weight": "-5",
                   "helm.sh/hook-delete-policy": "hook-succeeded,hook-failed"}),
        )
        .unwrap();
        assert_eq!(h.events, vec![Event::PreInstall, Event::PreUpgrade]);
        assert_eq!(h.weight, -5);
        assert_eq!(
            h.delete,
            DeletePolicy {
                before_creation: false,
                on_success: true,
                on_failure: true
            }
        );
        let d = hook("b", json!({"helm.sh/hook": "test"})).unwrap();
        assert!(
            d.delete.before_creation,
            "before-hook-creation is the default"
        );
        assert_eq!(d.weight, 0);
    }

    #[test]
    fn bad_annotations_are_errors_naming_the_object() {
        let err = parse(
            &m("j"),
            &json!({"metadata": {"annotations": {"helm.sh/hook": "pre-instal"}}}),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("Job j") && err.contains("`pre-instal`"),
            "{err}"
        );
        let err = parse(&m("j"), &json!({"metadata": {"annotations": {"helm.sh/hook": "test", "helm.sh/hook-weight": "high"}}}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("`high`"), "{err}");
    }

    #[test]
    fn hooks_run_by_weight_then_in_order() {
        let hooks = vec![
            hook(
                "late",
                json!({"helm.sh/hook": "post-install", "helm.sh/hook-weight": "10"}),
            )
            .unwrap(),
            hook(
                "first",
                json!({"helm.sh/hook": "post-install", "helm.sh/hook-weight": "-1"}),
            )
            .unwrap(),
            hook("other", json!({"helm.sh/hook": "pre-install"})).unwrap(),
            hook("middle", json!({"helm.sh/hook": "post-install"})).unwrap(),
        ];
        let names: Vec<&str> = for_event(&hooks, Event::PostInstall)
            .iter()
            .map(|h| h.manifest.name.as_str())
            .collect();
        assert_eq!(names, ["first", "middle", "late"]);
    }
}
