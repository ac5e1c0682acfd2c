//! PostgreSQL store speed, on a throwaway local server (tests/common/postgres.rs): list with
//! 10,000 releases (target under 1 s), upgrade with 100 and 10,000 revisions of history (must
//! stay flat), and status. The server runs with fsync off, so the numbers are the store's
//! and the protocol's own cost, not a disk's.

use std::path::Path;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use serde_json::json;
use stoke::release::record::Status;
use stoke::release::upgrade::{UpgradeOptions, upgrade};
use stoke::release::{ChartInput, Env};
use stoke::storage::postgres::PostgresStore;
use stoke::storage::{Head, LockWait, ReleaseKey, Store};

#[path = "../tests/common/postgres.rs"]
mod postgres;

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

fn fresh_store(pg: &postgres::Postgres) -> PostgresStore {
    let db = pg.create_database();
    PostgresStore::open(&pg.url(&db)).unwrap()
}

/// Installs `key` and gives it `n` revisions: 1..n-1 superseded, n deployed.
fn release_with_history(
    store: &PostgresStore,
    chart: &stoke::chart::Chart,
    key: &ReleaseKey,
    n: u64,
) {
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

fn benches(c: &mut Criterion) {
    let pg = postgres::Postgres::start();
    let tmp = tempfile::tempdir().unwrap();
    let chart = small_chart(tmp.path());

    let mut group = c.benchmark_group("postgres_upgrade");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_millis(500));
    let mut kept = Vec::new();
    for n in [100u64, 10_000] {
        let store = fresh_store(&pg);
        let key = ReleaseKey::new("default", "gw").unwrap();
        release_with_history(&store, &chart, &key, n);
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
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| upgrade(&env, &key, &inp, &opts).unwrap())
        });
        kept.push(store);
    }
    group.finish();
    // Status of the release with 10,000 revisions: one index row and one record.
    let deep = kept.last().unwrap();
    let key = ReleaseKey::new("default", "gw").unwrap();
    let mut group = c.benchmark_group("postgres_status");
    group.sample_size(50);
    group.bench_function("at_10000_revisions", |b| {
        b.iter(|| stoke::release::status::status(deep, &key, None).unwrap())
    });
    group.finish();

    let store = fresh_store(&pg);
    let env = Env {
        store: &store,
        target: None,
        wait: LockWait::FailFast,
    };
    let first = stoke::release::install::install(
        &env,
        &ReleaseKey::new("default", "r0").unwrap(),
        &input(&chart),
        &Default::default(),
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
    let mut group = c.benchmark_group("postgres_list");
    group.sample_size(10);
    group.bench_function("10000_releases", |b| {
        b.iter(|| stoke::release::list::list(&store, &all).unwrap())
    });
    group.finish();
}

criterion_group!(store_postgres, benches);
criterion_main!(store_postgres);
