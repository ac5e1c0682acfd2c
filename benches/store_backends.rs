//! Store speed of the in-memory, PostgreSQL and Kubernetes backends, one set of cases:
//! list with 10,000 releases, upgrade with 100 and 10,000 revisions of history (must stay flat), and status at 10,000 revisions. The Kubernetes
//! store runs against a real kube-apiserver and etcd from .ci/kube-up (each fresh store is
//! a cluster of its own, so the cases do not see each other's Secrets).

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use serde_json::json;
use stoke::record::{Head, ReleaseKey, Status};
use stoke::release::upgrade::{UpgradeOptions, upgrade};
use stoke::release::{ChartInput, Env};
use stoke::storage::kubernetes::KubeStore;
use stoke::storage::memory::MemoryStore;
use stoke::storage::{LockWait, Store};

#[path = "../tests/common/postgres.rs"]
mod postgres;

#[path = "../tests/common/kube.rs"]
#[allow(dead_code)]
mod kube;

/// The repository root, for tests/common/kube.rs to find .ci/kube-up.
fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn clusters_keep(kept: &mut Vec<kube::TestCluster>, c: kube::TestCluster) {
    kept.push(c);
}

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

/// Installs `key` and gives it `n` revisions: 1..n-1 superseded, n deployed.
fn release_with_history(store: &dyn Store, chart: &stoke::chart::Chart, key: &ReleaseKey, n: u64) {
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

fn bench_backend(c: &mut Criterion, name: &str, fresh: &dyn Fn() -> Box<dyn Store>) {
    let tmp = tempfile::tempdir().unwrap();
    let chart = small_chart(tmp.path());

    let mut group = c.benchmark_group(format!("{name}_upgrade"));
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_millis(500));
    let mut kept = Vec::new();
    for n in [100u64, 10_000] {
        let store = fresh();
        let key = ReleaseKey::new("default", "gw").unwrap();
        release_with_history(store.as_ref(), &chart, &key, n);
        let env = Env {
            store: store.as_ref(),
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
    let mut group = c.benchmark_group(format!("{name}_status"));
    group.sample_size(50);
    group.bench_function("at_10000_revisions", |b| {
        b.iter(|| stoke::release::status::status(deep.as_ref(), &key, None).unwrap())
    });
    group.finish();

    let store = fresh();
    let env = Env {
        store: store.as_ref(),
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
        let key = ReleaseKey::new("default", &format!("r{i}")).unwrap();
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
        stoke::release::list::list(store.as_ref(), &all)
            .unwrap()
            .len(),
        10_000
    );
    let mut group = c.benchmark_group(format!("{name}_list"));
    group.sample_size(10);
    group.bench_function("10000_releases", |b| {
        b.iter(|| stoke::release::list::list(store.as_ref(), &all).unwrap())
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    bench_backend(c, "memory", &|| Box::new(MemoryStore::new()));
    // The server runs with fsync off: the numbers are the store's and the protocol's cost.
    let pg = postgres::Postgres::start();
    bench_backend(c, "postgres", &|| {
        let db = pg.create_database();
        Box::new(stoke::storage::postgres::PostgresStore::open(&pg.url(&db)).unwrap())
    });
    // One API server for the whole bench; every fresh store is a namespace of its own
    // (the Kubernetes store keeps a release's records in the release's namespace, so the
    // bench's releases all live in `default` of a cluster started for this run).
    let clusters = RefCell::new(Vec::new());
    bench_backend(c, "kubernetes", &|| {
        let cluster = kube::TestCluster::start();
        let opts = stoke::kube::config::KubeOptions {
            kubeconfig: Some(cluster.kubeconfig().to_path_buf()),
            context: None,
        };
        let connected = stoke::kube::client::Cluster::connect(&opts)
            .unwrap()
            .unwrap();
        let store: Box<dyn Store> = Box::new(KubeStore::new(connected));
        clusters_keep(&mut clusters.borrow_mut(), cluster);
        store
    });
}

criterion_group!(store_backends, benches);
criterion_main!(store_backends);
