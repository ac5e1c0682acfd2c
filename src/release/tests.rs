//! Specifications of the lifecycle actions, against the in-memory store (with injected
//! faults standing in for crashes) and, where the file format matters, a file store in a
//! temporary folder; the chart is built in memory. The binary-level crash tests
//! (tests/release_faults.rs) kill real processes at the failpoints instead.

use std::path::PathBuf;

use serde_json::{Map, Value, json};

use super::install::{InstallOptions, install};
use super::rollback::{RollbackOptions, rollback};
use super::uninstall::{UninstallOptions, uninstall};
use super::upgrade::{UpgradeOptions, ValuesMode, upgrade};
use super::*;
use crate::chart::{Chart, ChartFile};
use crate::record::ReleaseKey;
use crate::record::Status;
use crate::storage::file::FileStore;
use crate::storage::memory::{MemoryStore, Op};
use crate::storage::{LockWait, Store};
use crate::values::UserValues;

fn chart(version: &str) -> Chart {
    let files = vec![
        ChartFile {
            name: "Chart.yaml".into(),
            data: format!("apiVersion: v2\nname: demo\nversion: {version}\nappVersion: \"8.1\"\n")
                .into_bytes(),
        },
        ChartFile {
            name: "values.yaml".into(),
            data: b"replicas: 1\nimage:\n  tag: \"8.1\"\n  pull: IfNotPresent\n".to_vec(),
        },
        ChartFile {
            name: "templates/cm.yaml".into(),
            data: b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ release.name }}-cfg\ndata:\n  replicas: \"{{ values.replicas }}\"\n  tag: \"{{ values.image.tag }}\"\n  pull: \"{{ values.image.pull }}\"\n".to_vec(),
        },
        ChartFile {
            name: "templates/NOTES.txt".into(),
            data: b"Installed {{ release.name }} revision {{ release.revision }}".to_vec(),
        },
    ];
    crate::chart::load::from_files(files, PathBuf::from("demo"), None).unwrap()
}

fn values(v: Value) -> UserValues {
    UserValues {
        merged: match v {
            Value::Object(m) => m,
            _ => Map::new(),
        },
        sources: Vec::new(),
        ..UserValues::default()
    }
}

struct Fixture<S> {
    _tmp: Option<tempfile::TempDir>,
    store: S,
    key: ReleaseKey,
}

impl Fixture<MemoryStore> {
    fn new() -> Fixture<MemoryStore> {
        Fixture {
            _tmp: None,
            store: MemoryStore::new(),
            key: ReleaseKey::new("default", "gw").unwrap(),
        }
    }
}

impl Fixture<FileStore> {
    fn on_disk() -> Fixture<FileStore> {
        let tmp = tempfile::tempdir().unwrap();
        let store = FileStore::open(&tmp.path().join("store")).unwrap();
        Fixture {
            _tmp: Some(tmp),
            store,
            key: ReleaseKey::new("default", "gw").unwrap(),
        }
    }
}

impl<S: Store> Fixture<S> {
    fn env(&self) -> Env<'_> {
        Env {
            store: &self.store,
            target: None,
            wait: LockWait::FailFast,
        }
    }
    fn install(&self, c: &Chart, v: Value) -> anyhow::Result<Done> {
        let input = ChartInput {
            chart: c,
            values: values(v),
            capabilities: Default::default(),
        };
        install(&self.env(), &self.key, &input, &InstallOptions::default())
    }
    fn upgrade(&self, c: &Chart, v: Value, opts: UpgradeOptions) -> anyhow::Result<Done> {
        let input = ChartInput {
            chart: c,
            values: values(v),
            capabilities: Default::default(),
        };
        upgrade(&self.env(), &self.key, &input, &opts)
    }
    fn statuses(&self) -> Vec<(u64, Status, String)> {
        history::history(&self.store, &self.key, None)
            .unwrap()
            .into_iter()
            .map(|s| (s.revision, s.status, s.description))
            .collect()
    }
    fn cfg(&self, rev: u64) -> String {
        let r = self.store.revision(&self.key, rev).unwrap().unwrap();
        r.manifests[0].body.clone()
    }
}

#[test]
fn install_upgrade_rollback_record_helms_statuses_and_descriptions() {
    let f = Fixture::new();
    let c = chart("1.0.0");
    let done = f.install(&c, json!({"replicas": 2})).unwrap();
    assert_eq!(done.revision.revision, 1);
    assert_eq!(
        done.revision.notes.as_deref(),
        Some("Installed gw revision 1")
    );
    f.upgrade(&c, json!({"replicas": 3}), UpgradeOptions::default())
        .unwrap();
    f.upgrade(
        &chart("1.1.0"),
        json!({"replicas": 4}),
        UpgradeOptions::default(),
    )
    .unwrap();
    rollback(&f.env(), &f.key, &RollbackOptions::default()).unwrap();
    let s = |n, st, d: &str| (n, st, d.to_string());
    assert_eq!(
        f.statuses(),
        [
            s(1, Status::Superseded, "Install complete"),
            s(2, Status::Superseded, "Upgrade complete"),
            s(3, Status::Superseded, "Upgrade complete"),
            s(4, Status::Deployed, "Rollback to 2"),
        ]
    );
    assert_eq!(f.cfg(4), f.cfg(2), "a rollback restores the manifest");
    let r4 = f.store.revision(&f.key, 4).unwrap().unwrap();
    assert_eq!(r4.chart.version, "1.0.0");
    assert_eq!(r4.user_values, values(json!({"replicas": 3})).merged);
    let head = f.store.head(&f.key).unwrap().unwrap();
    assert_eq!((head.latest, head.deployed), (4, Some(4)));
}

#[test]
fn install_refuses_a_live_release_but_reinstalls_an_uninstalled_one() {
    let f = Fixture::new();
    let c = chart("1.0.0");
    f.install(&c, json!({})).unwrap();
    let err = f.install(&c, json!({})).unwrap_err().to_string();
    assert!(
        err.contains("cannot re-use a name that is still in use"),
        "{err}"
    );
    let opts = UninstallOptions {
        keep_history: true,
        ..Default::default()
    };
    uninstall(&f.env(), &f.key, &opts).unwrap();
    assert_eq!(f.statuses()[0].1, Status::Uninstalled);
    assert_eq!(f.statuses()[0].2, "Uninstallation complete");
    let err = f
        .upgrade(&c, json!({}), UpgradeOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("was uninstalled"), "{err}");
    f.install(&c, json!({})).unwrap();
    let st: Vec<Status> = f.statuses().into_iter().map(|s| s.1).collect();
    assert_eq!(st, [Status::Superseded, Status::Deployed]);
    uninstall(&f.env(), &f.key, &UninstallOptions::default()).unwrap();
    assert!(f.store.head(&f.key).unwrap().is_none());
}

#[test]
fn upgrade_values_modes_follow_helm() {
    let f = Fixture::new();
    let c = chart("1.0.0");
    f.install(&c, json!({"replicas": 2})).unwrap();
    // No values given: the previous user values carry over.
    f.upgrade(&c, json!({}), UpgradeOptions::default()).unwrap();
    assert!(f.cfg(2).contains("replicas: \"2\""), "{}", f.cfg(2));
    // Given values replace the previous user values.
    f.upgrade(
        &c,
        json!({"image": {"tag": "8.3"}}),
        UpgradeOptions::default(),
    )
    .unwrap();
    assert!(f.cfg(3).contains("replicas: \"1\"") && f.cfg(3).contains("8.3"));
    // --reuse-values merges over the previous ones.
    let reuse = UpgradeOptions {
        values_mode: ValuesMode::Reuse,
        ..Default::default()
    };
    f.upgrade(&c, json!({"replicas": 5}), reuse).unwrap();
    assert!(f.cfg(4).contains("replicas: \"5\"") && f.cfg(4).contains("tag: \"8.3\""));
    // --reset-values drops them.
    let reset = UpgradeOptions {
        values_mode: ValuesMode::Reset,
        ..Default::default()
    };
    f.upgrade(&c, json!({}), reset).unwrap();
    assert!(f.cfg(5).contains("replicas: \"1\"") && f.cfg(5).contains("tag: \"8.1\""));
    // --reset-then-reuse-values: the new chart's defaults, then the old user values.
    let rtr = UpgradeOptions {
        values_mode: ValuesMode::ResetThenReuse,
        ..Default::default()
    };
    f.upgrade(&c, json!({"replicas": 7}), UpgradeOptions::default())
        .unwrap();
    f.upgrade(&c, json!({"image": {"pull": "Always"}}), rtr)
        .unwrap();
    assert!(f.cfg(7).contains("replicas: \"7\"") && f.cfg(7).contains("Always"));
}

#[test]
fn history_max_prunes_only_the_oldest_superseded_revisions() {
    let f = Fixture::new();
    let c = chart("1.0.0");
    f.install(&c, json!({})).unwrap();
    // Revision 2 fails, and failed revisions are kept.
    let s = f.store.lock(&f.key, LockWait::FailFast).unwrap();
    let mut r2 = f.store.revision(&f.key, 1).unwrap().unwrap();
    r2.revision = 2;
    r2.status = Status::Failed;
    f.store.write_revision(&s, &r2).unwrap();
    drop(s);
    let opts = || UpgradeOptions {
        history_max: 3,
        ..Default::default()
    };
    for _ in 0..4 {
        f.upgrade(&c, json!({}), opts()).unwrap();
    }
    let kept: Vec<(u64, Status)> = f.statuses().into_iter().map(|s| (s.0, s.1)).collect();
    assert_eq!(
        kept,
        [
            (2, Status::Failed),
            (5, Status::Superseded),
            (6, Status::Deployed)
        ]
    );
    let unlimited = UpgradeOptions {
        history_max: 0,
        ..Default::default()
    };
    f.upgrade(&c, json!({}), unlimited).unwrap();
    assert_eq!(f.statuses().len(), 4);
}

#[test]
fn an_interrupted_upgrade_stays_visible_and_the_next_one_succeeds() {
    let f = Fixture::new();
    let c = chart("1.0.0");
    f.install(&c, json!({})).unwrap();
    // The upgrade writes its pending revision, then dies before recording it deployed.
    f.store.fail_nth(Op::WriteRevision, 2);
    f.upgrade(&c, json!({}), UpgradeOptions::default())
        .unwrap_err();
    let st = status::status(&f.store, &f.key, None).unwrap();
    assert_eq!((st.revision, st.status), (2, Status::PendingUpgrade));

    f.upgrade(&c, json!({}), UpgradeOptions::default()).unwrap();
    let got = f.statuses();
    assert_eq!(got[0].1, Status::Superseded);
    assert_eq!(got[1].1, Status::Failed);
    assert!(got[1].2.contains("Upgrade interrupted"), "{}", got[1].2);
    assert_eq!(got[2].1, Status::Deployed);
}

#[test]
fn a_crash_between_deploying_and_superseding_is_completed_by_the_next_operation() {
    let f = Fixture::new();
    let c = chart("1.0.0");
    f.install(&c, json!({})).unwrap();
    // Writes of the upgrade: pending revision 2, revision 2 deployed, revision 1
    // superseded, head. It dies at the third.
    f.store.fail_nth(Op::WriteRevision, 3);
    f.upgrade(&c, json!({}), UpgradeOptions::default())
        .unwrap_err();
    assert_eq!(
        f.store.revision(&f.key, 1).unwrap().unwrap().status,
        Status::Deployed,
        "both revisions say deployed"
    );
    // Lock-free readers already show one deployed revision.
    let st: Vec<Status> = f.statuses().into_iter().map(|s| s.1).collect();
    assert_eq!(st, [Status::Superseded, Status::Deployed]);
    rollback(&f.env(), &f.key, &RollbackOptions::default()).unwrap();
    let r1 = f.store.revision(&f.key, 1).unwrap().unwrap();
    assert_eq!(r1.status, Status::Superseded, "repaired on disk");
    let st: Vec<Status> = f.statuses().into_iter().map(|s| s.1).collect();
    assert_eq!(
        st,
        [Status::Superseded, Status::Superseded, Status::Deployed]
    );
}

#[test]
fn a_second_operation_on_a_release_fails_fast_but_other_releases_proceed() {
    let f = Fixture::new();
    let held = f.store.lock(&f.key, LockWait::FailFast).unwrap();
    let err = f
        .install(&chart("1.0.0"), json!({}))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("another operation on gw is in progress"),
        "{err}"
    );
    let other = ReleaseKey::new("default", "other").unwrap();
    assert!(f.store.lock(&other, LockWait::FailFast).is_ok());
    let start = std::time::Instant::now();
    let waited = f
        .store
        .lock(&f.key, LockWait::Up(std::time::Duration::from_millis(150)));
    assert!(waited.is_err());
    assert!(start.elapsed() >= std::time::Duration::from_millis(150));
    drop(held);
    assert!(
        f.store
            .lock(&f.key, LockWait::Up(std::time::Duration::from_secs(1)))
            .is_ok()
    );
}

#[test]
fn records_from_a_newer_stoke_and_damaged_records_are_refused_clearly() {
    let f = Fixture::on_disk();
    let c = chart("1.0.0");
    f.install(&c, json!({})).unwrap();
    f.upgrade(&c, json!({}), UpgradeOptions::default()).unwrap();
    let dir = f.store.root().join("releases/default/gw");
    let path = dir.join("rev-000002.json");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("\"format\": 1", "\"format\": 2", 1)).unwrap();
    let err = format!("{:#}", f.store.revision(&f.key, 2).unwrap_err());
    assert!(
        err.contains("format version 2") && err.contains("newer stoke"),
        "{err}"
    );
    std::fs::write(&path, &text[..text.len() / 2]).unwrap();
    let err = format!("{:#}", f.store.revision(&f.key, 2).unwrap_err());
    assert!(
        err.contains("rev-000002.json") && err.contains("damaged"),
        "{err}"
    );
    // The other records are intact.
    assert!(f.store.revision(&f.key, 1).unwrap().is_some());

    std::fs::write(f.store.root().join("store.json"), "{\"format\": 9}").unwrap();
    let err = format!("{:#}", FileStore::open(f.store.root()).unwrap_err());
    assert!(err.contains("format version 9"), "{err}");
}

#[test]
fn records_are_private_and_human_readable() {
    use std::os::unix::fs::PermissionsExt;
    let f = Fixture::on_disk();
    f.install(&chart("1.0.0"), json!({})).unwrap();
    let dir = f.store.root().join("releases/default/gw");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(f.store.root()), 0o700);
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join("rev-000001.json")), 0o600);
    assert_eq!(mode(&dir.join("head.json")), 0o600);
    let text = std::fs::read_to_string(dir.join("rev-000001.json")).unwrap();
    assert!(
        text.starts_with("{\n  \"format\": 1,\n  \"name\": \"gw\""),
        "{text}"
    );
}

/// Fails to deliver the upgrade to 9 replicas (as a full disk would) and accepts the rest,
/// such as the repair back to the deployed revision.
struct BrokenTarget;

impl crate::target::Target for BrokenTarget {
    fn apply(&self, c: &crate::target::Change) -> anyhow::Result<()> {
        if c.manifests
            .iter()
            .any(|m| m.body.contains("replicas: \"9\""))
        {
            anyhow::bail!("the output folder is full")
        }
        Ok(())
    }
    fn remove(&self, _: &ReleaseKey, _: &[crate::engine::Manifest]) -> anyhow::Result<()> {
        Ok(())
    }
    fn describe(&self) -> String {
        "a broken folder".into()
    }
}

#[test]
fn a_failing_target_marks_the_revision_failed_and_keeps_the_deployed_one_live() {
    let f = Fixture::new();
    let c = chart("1.0.0");
    f.install(&c, json!({})).unwrap();
    let broken = BrokenTarget;
    let env = Env {
        store: &f.store,
        target: Some(&broken),
        wait: LockWait::FailFast,
    };
    let input = ChartInput {
        chart: &c,
        values: values(json!({"replicas": 9})),
        capabilities: Default::default(),
    };
    let err = upgrade(&env, &f.key, &input, &UpgradeOptions::default()).unwrap_err();
    assert!(err.to_string().contains("the output folder is full"));
    let got = f.statuses();
    assert_eq!(
        got[0].1,
        Status::Deployed,
        "the previous revision stays live"
    );
    assert_eq!(got[1].1, Status::Failed);
    assert_eq!(got[1].2, "Upgrade \"gw\" failed: the output folder is full");
    let head = f.store.head(&f.key).unwrap().unwrap();
    assert_eq!((head.latest, head.deployed), (2, Some(1)));
    let st = status::status(&f.store, &f.key, None).unwrap();
    assert_eq!(st.status, Status::Failed);

    // The next upgrade starts from the deployed revision, not the failed one.
    f.upgrade(&c, json!({}), UpgradeOptions::default()).unwrap();
    let r3 = f.store.revision(&f.key, 3).unwrap().unwrap();
    assert!(r3.manifests[0].body.contains("replicas: \"1\""));
    let st: Vec<Status> = f.statuses().into_iter().map(|s| s.1).collect();
    assert_eq!(st, [Status::Superseded, Status::Failed, Status::Deployed]);
}

#[test]
fn an_upgrade_that_dies_at_any_write_is_repaired_by_the_next_one() {
    // An upgrade writes: pending revision, deployed revision, superseded previous, head.
    for n in 1..=4 {
        let f = Fixture::new();
        let c = chart("1.0.0");
        f.install(&c, json!({})).unwrap();
        f.store.fail_nth_write(n);
        f.upgrade(&c, json!({"replicas": 2}), UpgradeOptions::default())
            .unwrap_err();
        assert!(!f.store.fault_pending(), "write {n} was attempted");

        let done = f
            .upgrade(&c, json!({"replicas": 3}), UpgradeOptions::default())
            .unwrap();
        let head = f.store.head(&f.key).unwrap().unwrap();
        assert_eq!(head.deployed, Some(done.revision.revision), "write {n}");
        assert_eq!(head.latest, done.revision.revision, "write {n}");
        let deployed: Vec<u64> = f
            .store
            .revision_numbers(&f.key)
            .unwrap()
            .into_iter()
            .filter(|&r| f.store.revision(&f.key, r).unwrap().unwrap().status == Status::Deployed)
            .collect();
        assert_eq!(
            deployed,
            [done.revision.revision],
            "write {n}: one deployed revision"
        );
        assert!(f.cfg(done.revision.revision).contains("replicas: \"3\""));
    }
}
