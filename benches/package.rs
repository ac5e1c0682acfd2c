//! Packaging speed: packaging a chart the size of the Ignition chart, indexing a folder of
//! 1,000 packages (target: under one second), and resolving a version constraint over an
//! index of 10,000 entries.

use criterion::{Criterion, criterion_group, criterion_main};
use std::path::Path;

use stoke::chart::metadata::Metadata;
use stoke::package::index::{ChartVersion, IndexFile, IndexOptions, index_directory};
use stoke::package::{PackageOptions, build_archive};

#[path = "fixture.rs"]
mod fixture;

fn package(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = fixture::write(tmp.path());
    c.bench_function("package/build_archive/ignition_sized", |b| {
        b.iter(|| build_archive(&dir, &PackageOptions::default()).unwrap())
    });
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("charts/ignition");
    if shipped.join("Chart.yaml").is_file() {
        c.bench_function("package/build_archive/charts_ignition", |b| {
            b.iter(|| build_archive(&shipped, &PackageOptions::default()).unwrap())
        });
    }
}

fn index_thousand(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    let chart = tmp.path().join("src/gw");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(chart.join("values.yaml"), "replicas: 1\n").unwrap();
    std::fs::write(
        chart.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
    )
    .unwrap();
    let repo = tmp.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    for i in 0..1000 {
        let version = format!("{}.{}.{}", i / 100, (i / 10) % 10, i % 10);
        let options = PackageOptions {
            version: Some(version.clone()),
            app_version: None,
        };
        std::fs::write(
            chart.join("Chart.yaml"),
            "apiVersion: v2\nname: gw\nversion: 0.0.1\ndescription: gateway\n",
        )
        .unwrap();
        let (_, _, bytes) = build_archive(&chart, &options).unwrap();
        std::fs::write(repo.join(format!("gw-{version}.tgz")), bytes).unwrap();
    }
    let mut group = c.benchmark_group("index");
    group.sample_size(10);
    group.bench_function("index_directory/1000_packages", |b| {
        b.iter(|| {
            let (index, _) = index_directory(&repo, &IndexOptions::default()).unwrap();
            assert_eq!(index.entries["gw"].len(), 1000);
            index.to_yaml().unwrap()
        })
    });
    group.finish();
}

fn resolve_ten_thousand(c: &mut Criterion) {
    let mut index = IndexFile::new();
    for i in 0..10_000u64 {
        let version = format!("{}.{}.{}", i / 1000, (i / 100) % 10, i % 100);
        index.add(ChartVersion {
            metadata: Metadata {
                api_version: "v2".into(),
                name: "gw".into(),
                version,
                ..Default::default()
            },
            urls: vec!["x.tgz".into()],
            ..Default::default()
        });
    }
    index.sort();
    c.bench_function("resolve/10000_entries/caret_constraint", |b| {
        b.iter(|| {
            let v = index.resolve("gw", Some("^3.4"), false).unwrap();
            assert_eq!(v.metadata.version, "3.9.99");
        })
    });
    c.bench_function("resolve/10000_entries/oldest_match", |b| {
        b.iter(|| index.resolve("gw", Some("<0.0.5"), false).unwrap())
    });
}

criterion_group!(benches, package, index_thousand, resolve_ten_thousand);
criterion_main!(benches);
