//! Store speed of every backend (file, in-memory, PostgreSQL, Kubernetes), one set of
//! cases: list with 10,000 releases (target under 200 ms on the file store), upgrade with
//! 100 and 10,000 revisions of history (must stay flat), and status at 10,000 revisions.
//! The Kubernetes store runs against a real kube-apiserver and etcd from .ci/kube-up (each
//! fresh store is a cluster of its own, so the cases do not see each other's Secrets).
//!
//! The file store runs twice: `file` is the durable store, so upgrade times include the
//! real fsyncs, and `file_nofsync` shows the cost of the store's own work alone; on both,
//! fixtures are written without flushing to disk (fast to build). One more file-store
//! group, `file_install`, times `stoke install` of an Ignition-sized chart as a whole
//! process (target under 20 ms).
//!
//! `cargo bench --bench store_backends -- file` runs the file store's cases only.

use std::cell::RefCell;
use std::path::Path;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use serde_json::json;
use stoke::record::{Head, ReleaseKey, Status};
use stoke::release::upgrade::{UpgradeOptions, upgrade};
use stoke::release::{ChartInput, Env};
use stoke::storage::file::FileStore;
use stoke::storage::kubernetes::KubeStore;
use stoke::storage::memory::MemoryStore;
use stoke::storage::{LockWait, Store};

#[path = "fixture.rs"]
mod fixture;

// The test harness, for its PostgreSQL server and API server.
#[path = "../tests/common/mod.rs"]
mod common;

use common::{kube, postgres, repo};

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

/// A fresh, empty store: the one measured and, when it differs, one onto the same records
/// that writes the fixtures faster (the file store without fsync).
struct Fresh {
    measured: Box<dyn Store>,
    fixtures: Option<Box<dyn Store>>,
}

impl Fresh {
    fn one(store: Box<dyn Store>) -> Fresh {
        Fresh {
            measured: store,
            fixtures: None,
        }
    }

    fn fixtures(&self) -> &dyn Store {
        self.fixtures.as_deref().unwrap_or(self.measured.as_ref())
    }
}

fn bench_backend(c: &mut Criterion, name: &str, fresh: &dyn Fn() -> Fresh) {
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
        release_with_history(store.fixtures(), &chart, &key, n);
        let env = Env {
            store: store.measured.as_ref(),
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
        b.iter(|| stoke::release::status::status(deep.measured.as_ref(), &key, None).unwrap())
    });
    group.finish();

    let fresh_store = fresh();
    let store = fresh_store.fixtures();
    let env = Env {
        store,
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
    let store = fresh_store.measured.as_ref();
    assert_eq!(
        stoke::release::list::list(store, &all).unwrap().len(),
        10_000
    );
    let mut group = c.benchmark_group(format!("{name}_list"));
    group.sample_size(10);
    group.bench_function("10000_releases", |b| {
        b.iter(|| stoke::release::list::list(store, &all).unwrap())
    });
    group.finish();
}

/// `stoke install` as a whole process on the file store: an Ignition-sized fixture chart
/// and the shipped charts/ignition with values/dev.yaml.
fn install_process(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    let fixture_chart = fixture::write(tmp.path());
    let root = repo();
    let bin = env!("CARGO_BIN_EXE_stoke");
    let store = tmp.path().join("store");
    let mut i = 0u64;
    let mut group = c.benchmark_group("file_install");
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

/// A file store in a folder of its own (kept until the bench ends), measured durable
/// unless `fsync` is false; fixtures are always written without fsync.
fn file_store(dirs: &RefCell<Vec<tempfile::TempDir>>, fsync: bool) -> Fresh {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let fast = FileStore::open(&path).unwrap().without_fsync();
    let measured: Box<dyn Store> = if fsync {
        Box::new(FileStore::open(&path).unwrap())
    } else {
        Box::new(fast.clone())
    };
    dirs.borrow_mut().push(dir);
    Fresh {
        measured,
        fixtures: Some(Box::new(fast)),
    }
}

/// Criterion's filter (the first argument that is not an option), which its ids
/// `BACKEND_GROUP/CASE` must match. Criterion applies it to the measurements only; it is
/// read here too so a filtered run does not build the fixtures (or start the servers) of
/// the backends it will not measure.
fn filter() -> Option<regex::Regex> {
    const WITH_VALUE: &[&str] = &[
        "--save-baseline",
        "-s",
        "--baseline",
        "-b",
        "--baseline-lenient",
        "--load-baseline",
        "--measurement-time",
        "--warm-up-time",
        "--sample-size",
        "--nresamples",
        "--noise-threshold",
        "--confidence-level",
        "--significance-level",
        "--profile-time",
        "--output-format",
        "--color",
        "-c",
        "--plotting-backend",
        "--format",
    ];
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if WITH_VALUE.contains(&a.as_str()) {
            args.next();
        } else if !a.starts_with('-') {
            return Some(regex::Regex::new(&a).expect("the bench filter is a regular expression"));
        }
    }
    None
}

/// Whether any of `groups` is measured under the filter.
fn wanted(filter: &Option<regex::Regex>, groups: &[String]) -> bool {
    filter
        .as_ref()
        .is_none_or(|f| groups.iter().any(|g| f.is_match(g)))
}

fn benches(c: &mut Criterion) {
    let filter = filter();
    let backend = |name: &str| {
        let groups = ["upgrade/", "status/", "list/"].map(|g| format!("{name}_{g}"));
        wanted(&filter, &groups)
    };
    let dirs = RefCell::new(Vec::new());
    if backend("file") {
        bench_backend(c, "file", &|| file_store(&dirs, true));
    }
    if backend("file_nofsync") {
        bench_backend(c, "file_nofsync", &|| file_store(&dirs, false));
    }
    if wanted(&filter, &["file_install/".to_string()]) {
        install_process(c);
    }
    if backend("memory") {
        bench_backend(c, "memory", &|| Fresh::one(Box::new(MemoryStore::new())));
    }
    if backend("postgres") {
        // The server runs with fsync off: the numbers are the store's and the protocol's
        // cost.
        let pg = postgres::Postgres::start();
        bench_backend(c, "postgres", &|| {
            let db = pg.create_database();
            Fresh::one(Box::new(
                stoke::storage::postgres::PostgresStore::open(&pg.url(&db)).unwrap(),
            ))
        });
    }
    if backend("kubernetes") {
        // Every fresh store is an API server of its own: the Kubernetes store keeps a
        // release's records in the release's namespace, and the bench's releases all live
        // in `default`. The clusters run until the bench ends.
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
            clusters.borrow_mut().push(cluster);
            Fresh::one(store)
        });
    }
}

criterion_group!(store_backends, benches);
criterion_main!(store_backends);
