//! Release store speed: upgrade with 10, 1,000 and 10,000 revisions of history (must stay
//! flat), list with 10,000 releases (target under 200 ms), and install of an Ignition-sized
//! chart as a whole `stoke install` process (target under 20 ms).
//!
//! Fixtures are written without flushing to disk (fast to build); the measured operations
//! use the durable store, so upgrade times include the real fsyncs, and the `nofsync`
//! variant shows the cost of the store's own work alone.

use std::path::Path;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use serde_json::json;
use stoke::record::Status;
use stoke::record::{Head, ReleaseKey};
use stoke::release::upgrade::{UpgradeOptions, upgrade};
use stoke::release::{ChartInput, Env};
use stoke::storage::file::FileStore;
use stoke::storage::{LockWait, Store};

#[path = "fixture.rs"]
mod fixture;

fn small_chart(dir: &Path) -> stoke::chart::Chart {
    let c = dir.join("chart");
    std::fs::create_dir_all(c.join("templates")).unwrap();
    std::fs::write(
        c.join("Chart.yaml"),
        "apiVersion: v2\nname: demo\nversion: 1.0.0\nappVersion: \"8.1\"\n",
    )
    .unwrap();
    std::fs::write(c.join("values.yaml"), "replicas: 1\n").unwrap();
    std::fs::write(
        c.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ release.name }}\ndata:\n  replicas: \"{{ values.replicas }}\"\n",
    )
    .unwrap();
    stoke::chart::load::load(&c).unwrap()
}

fn input(chart: &stoke::chart::Chart) -> ChartInput<'_> {
    ChartInput {
        chart,
        values: stoke::values::UserValues {
            merged: json!({"replicas": 2}).as_object().unwrap().clone(),
            sources: Vec::new(),
            ..Default::default()
        },
        capabilities: Default::default(),
    }
}

/// A release with `n` revisions: 1..n-1 superseded, n deployed.
fn release_with_history(store: &FileStore, chart: &stoke::chart::Chart, key: &ReleaseKey, n: u64) {
    let env = Env {
        store,
        target: None,
        wait: LockWait::FailFast,
    };
    let opts = stoke::release::install::InstallOptions::default();
    let first = stoke::release::install::install(&env, key, &input(chart), &opts).unwrap();
    let lock = store.lock(key, LockWait::FailFast).unwrap();
    let mut rev = first.revision;
    for r in 1..=n {
        rev.revision = r;
        rev.status = if r == n {
            Status::Deployed
        } else {
            Status::Superseded
        };
        store.write_revision(&lock, &rev).unwrap();
    }
    store
        .write_head(
            &lock,
            &Head {
                key: key.clone(),
                latest: n,
                deployed: Some(n),
                summary: rev.summary(),
            },
        )
        .unwrap();
}

fn upgrades(c: &mut Criterion) {
    let mut group = c.benchmark_group("upgrade");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_millis(500));
    for durable in [true, false] {
        for n in [10u64, 1_000, 10_000] {
            let tmp = tempfile::tempdir().unwrap();
            let chart = small_chart(tmp.path());
            let fixture_store = FileStore::open(&tmp.path().join("store"))
                .unwrap()
                .without_fsync();
            let key = ReleaseKey::new("default", "gw").unwrap();
            release_with_history(&fixture_store, &chart, &key, n);
            let store = if durable {
                FileStore::open(&tmp.path().join("store")).unwrap()
            } else {
                fixture_store.clone()
            };
            let env = Env {
                store: &store,
                target: None,
                wait: LockWait::FailFast,
            };
            let opts = UpgradeOptions {
                history_max: 0,
                ..UpgradeOptions::default()
            };
            let inp = input(&chart);
            let label = if durable { "fsync" } else { "nofsync" };
            group.bench_with_input(BenchmarkId::new(label, n), &n, |b, _| {
                b.iter(|| upgrade(&env, &key, &inp, &opts).unwrap())
            });
        }
    }
    group.finish();
}

fn list(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    let chart = small_chart(tmp.path());
    let store = FileStore::open(&tmp.path().join("store"))
        .unwrap()
        .without_fsync();
    let env = Env {
        store: &store,
        target: None,
        wait: LockWait::FailFast,
    };
    let opts = stoke::release::install::InstallOptions::default();
    let first = stoke::release::install::install(
        &env,
        &ReleaseKey::new("default", "r0").unwrap(),
        &input(&chart),
        &opts,
    )
    .unwrap()
    .revision;
    for i in 1..10_000 {
        let key = ReleaseKey::new(&format!("ns{}", i % 10), &format!("r{i}")).unwrap();
        let lock = store.lock(&key, LockWait::FailFast).unwrap();
        let mut rev = first.clone();
        rev.name = key.name.clone();
        rev.namespace = key.namespace.clone();
        store.write_revision(&lock, &rev).unwrap();
        store
            .write_head(
                &lock,
                &Head {
                    key: key.clone(),
                    latest: 1,
                    deployed: Some(1),
                    summary: rev.summary(),
                },
            )
            .unwrap();
    }
    let all = stoke::release::list::ListOptions {
        all: true,
        ..Default::default()
    };
    assert_eq!(
        stoke::release::list::list(&store, &all).unwrap().len(),
        10_000
    );
    let mut group = c.benchmark_group("list");
    group.sample_size(10);
    group.bench_function("10000_releases", |b| {
        b.iter(|| stoke::release::list::list(&store, &all).unwrap())
    });
    group.finish();
}

fn install_process(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    let fixture_chart = fixture::write(tmp.path());
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let bin = env!("CARGO_BIN_EXE_stoke");
    let store = tmp.path().join("store");
    let mut i = 0u64;
    let mut group = c.benchmark_group("install");
    group.sample_size(20);
    let cases = [
        ("ignition_sized_whole_process", fixture_chart.clone(), None),
        (
            "charts_ignition_dev_whole_process",
            root.join("charts/ignition"),
            Some(root.join("values/dev.yaml")),
        ),
    ];
    for (name, chart, values) in cases {
        group.bench_function(name, |b| {
            b.iter(|| {
                i += 1;
                let mut cmd = std::process::Command::new(bin);
                cmd.args(["install", &format!("gw{i}")]).arg(&chart);
                if let Some(v) = &values {
                    cmd.arg("-f").arg(v);
                }
                let st = cmd
                    .env("STOKE_STORE", &store)
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .status()
                    .unwrap();
                assert!(st.success());
            })
        });
    }
    group.finish();
}

criterion_group!(benches, upgrades, list, install_process);
criterion_main!(benches);
