//! Rendering a fleet in-process: 50 Ignition sites (charts/ignition, values/edge.yaml and a
//! small per-site file) through `stoke::fleet::template`, the chart loaded and compiled once
//! per iteration as `stoke fleet template` does. benches/fleet_vs_helm.py compares the whole
//! process with Helm.

use criterion::{Criterion, criterion_group, criterion_main};
use std::path::Path;

const SITES: usize = 50;

fn write_fleet(dir: &Path) -> std::path::PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::create_dir_all(dir.join("sites")).unwrap();
    let mut text = String::from("name: bench\nreleases:\n");
    for n in 0..SITES {
        std::fs::write(
            dir.join(format!("sites/site-{n:03}.yaml")),
            format!(
                "gateway:\n  dataVolumeStorageSize: {}Gi\n  env:\n    GATEWAY_SYSTEM_NAME: site-{n:03}\n",
                1 + n % 4
            ),
        )
        .unwrap();
        text.push_str(&format!(
            "  - name: site-{n:03}\n    namespace: plant-{n:03}\n    chart: {}\n    values: [{}, sites/site-{n:03}.yaml]\n",
            root.join("charts/ignition").display(),
            root.join("values/edge.yaml").display()
        ));
    }
    let path = dir.join("fleet.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

fn render_fleet(path: &Path) -> usize {
    let fleet = stoke::fleet::spec::load(path, "default").unwrap();
    let selector = stoke::fleet::Selector::default();
    let releases = fleet.select(&selector);
    let charts = stoke::fleet::ChartSet::load(&releases);
    let opts = stoke::fleet::FleetOptions::default();
    let mut bytes = 0;
    stoke::fleet::template::template(&releases, &charts, &opts, None, |_, r| {
        bytes += r.unwrap().text.unwrap().len();
    });
    bytes
}

fn fleet(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    let path = write_fleet(tmp.path());
    assert!(render_fleet(&path) > SITES * 1000);
    let mut group = c.benchmark_group("fleet");
    group.sample_size(10);
    group.bench_function("template/50_ignition_sites", |b| {
        b.iter(|| render_fleet(&path))
    });
    group.finish();
}

criterion_group!(benches, fleet);
criterion_main!(benches);
