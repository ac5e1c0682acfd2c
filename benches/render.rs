//! Rendering speed: a chart the size of the official Ignition chart, in-process and as a
//! whole `stoke template` process, plus the process's peak memory (printed once).

use criterion::{Criterion, criterion_group, criterion_main};
use std::process::Command;

#[path = "fixture.rs"]
mod fixture;

fn in_process(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = fixture::write(tmp.path());
    let chart = stoke::chart::load::load(&dir).unwrap();
    let user = stoke::values::UserValues::default();
    let opts = stoke::engine::RenderOptions::default();
    let out = stoke::pipeline::render_chart(&chart, &user, &opts, false).unwrap();
    assert_eq!(out.rendered.manifests.len(), 30);
    c.bench_function("render/in_process/ignition_sized", |b| {
        b.iter(|| stoke::pipeline::render_chart(&chart, &user, &opts, false).unwrap())
    });
}

/// Peak resident memory of one `stoke template` run, measured by GNU time (Debian package
/// `time`). Measuring our own child would count this benchmark's memory too: a child
/// spawned with vfork shares the parent's pages until it runs the new program.
/// The shipped Ignition chart with its defaults and with the redundant values file.
fn ignition_chart(c: &mut Criterion) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let chart = stoke::chart::load::load(&root.join("charts/ignition")).unwrap();
    let opts = stoke::engine::RenderOptions::default();
    for (name, files) in [
        ("defaults", vec![]),
        ("redundant", vec![root.join("values/redundant.yaml")]),
    ] {
        let user = stoke::values::read_user_values(&stoke::values::ValuesOptions {
            files,
            sets: Vec::new(),
            ..Default::default()
        })
        .unwrap();
        stoke::pipeline::render_chart(&chart, &user, &opts, false).unwrap();
        c.bench_function(&format!("render/in_process/charts_ignition_{name}"), |b| {
            b.iter(|| stoke::pipeline::render_chart(&chart, &user, &opts, false).unwrap())
        });
    }
}

fn peak_rss_kib(bin: &str, chart: &std::path::Path) -> Option<u64> {
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%M", bin, "template", "bench"])
        .arg(chart)
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .last()?
        .trim()
        .parse()
        .ok()
}

fn whole_process(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = fixture::write(tmp.path());
    let bin = env!("CARGO_BIN_EXE_stoke");
    let run = || {
        let out = Command::new(bin)
            .arg("template")
            .arg("bench")
            .arg(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    run();
    match peak_rss_kib(bin, &dir) {
        Some(kib) => eprintln!("stoke template peak memory: {kib} KiB (max RSS)"),
        None => eprintln!(
            "stoke template peak memory: not measured (install GNU time: apt-get install time)"
        ),
    }
    c.bench_function("render/process/stoke_template", |b| b.iter(run));
}

criterion_group!(benches, in_process, ignition_chart, whole_process);
criterion_main!(benches);
