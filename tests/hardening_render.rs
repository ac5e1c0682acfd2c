//! The render budget: recursion, deep values, endless loops, huge output and runaway
//! memory or time each end in a clear error naming the limit and its variable (exit 1),
//! never in a crash (abort, exit 134) or a hang.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{Run, chart, repo};

fn render(dir: &Path, chart_dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> (Run, Duration) {
    let start = Instant::now();
    let out = common::stoke_command(dir)
        .arg("template")
        .arg("r")
        .arg(chart_dir)
        .args(extra)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (out.into(), start.elapsed())
}

#[track_caller]
fn refused(run: Run, variable: &str) {
    let run = run.expect(1);
    assert!(run.stderr.contains(variable), "{}", run.stderr);
    assert!(
        run.stderr.len() < 4000,
        "a short message, not one per level:\n{}",
        run.stderr
    );
}

fn one_template(root: &Path, template: &str, values: &str) -> std::path::PathBuf {
    chart(
        root,
        "c",
        &[("templates/t.yaml", template), ("values.yaml", values)],
    )
}

#[test]
fn tpl_recursion_from_a_values_file_on_the_shipped_chart_is_an_error_not_a_crash() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("rec.yaml"),
        "extraObjects: [\"{{ tpl(template=values.extraObjects[0]) }}\"]\n",
    )
    .unwrap();
    let (run, _) = render(
        tmp.path(),
        &repo().join("charts/ignition"),
        &["-f", "rec.yaml"],
        &[],
    );
    refused(run, "STOKE_MAX_TEMPLATE_DEPTH");
}

#[test]
fn include_recursion_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let c = one_template(tmp.path(), "{{ include(name=\"loop\") }}", "");
    std::fs::write(
        c.join("templates/_h.tera"),
        "{% component loop() %}{{ include(name=\"loop\") }}{% endcomponent %}",
    )
    .unwrap();
    refused(
        render(tmp.path(), &c, &[], &[]).0,
        "STOKE_MAX_TEMPLATE_DEPTH",
    );
}

#[test]
fn serialising_a_deeply_nested_value_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    for filter in ["to_json", "to_yaml"] {
        let t = format!(
            "{{% set x = [] %}}{{% for i in range(end=5000) %}}{{% set_global x = [x] %}}{{% endfor %}}{{{{ x | {filter} }}}}"
        );
        let c = one_template(tmp.path(), &t, "");
        refused(render(tmp.path(), &c, &[], &[]).0, "STOKE_MAX_VALUE_DEPTH");
        std::fs::remove_dir_all(c).unwrap();
    }
}

#[test]
fn printing_a_very_deep_value_does_not_overflow_the_stack() {
    let tmp = tempfile::tempdir().unwrap();
    let c = one_template(
        tmp.path(),
        "{% set x = [] %}{% for i in range(end=100000) %}{% set_global x = [x] %}{% endfor %}{{ x }}",
        "",
    );
    let (run, _) = render(tmp.path(), &c, &[], &[]);
    // The output is not a Kubernetes object, so the checker refuses it: an error, not an abort.
    assert_eq!(run.code, 1, "{}", &run.stderr[..run.stderr.len().min(500)]);
}

#[test]
fn nested_range_loops_stop_at_the_iteration_budget() {
    let tmp = tempfile::tempdir().unwrap();
    let c = one_template(
        tmp.path(),
        "{% for i in range(end=100000) %}{% for j in range(end=100000) %}{% endfor %}{% endfor %}",
        "",
    );
    let (run, took) = render(tmp.path(), &c, &[], &[]);
    refused(run, "STOKE_MAX_RENDER_ITERATIONS");
    assert!(took < Duration::from_secs(30), "{took:?}");
}

#[test]
fn output_past_the_total_size_stops_the_render() {
    let tmp = tempfile::tempdir().unwrap();
    // A million kilobyte lines: a gigabyte, were it not stopped.
    let t = format!(
        "{{% for i in range(end=1000) %}}{{% for j in range(end=1000) %}}{}\n{{% endfor %}}{{% endfor %}}",
        "x".repeat(1000)
    );
    let c = one_template(tmp.path(), &t, "");
    let (run, _) = render(tmp.path(), &c, &[], &[]);
    refused(run, "STOKE_MAX_RENDER_BYTES");
}

#[test]
fn a_string_doubled_in_a_variable_stops_at_the_memory_budget() {
    let tmp = tempfile::tempdir().unwrap();
    let c = one_template(
        tmp.path(),
        "{% set s = \"x\" %}{% for i in range(end=40) %}{% set_global s = s ~ s %}{% endfor %}{{ s | length }}",
        "",
    );
    let (run, _) = render(
        tmp.path(),
        &c,
        &[],
        &[("STOKE_MAX_RENDER_MEMORY_BYTES", "200000000")],
    );
    refused(run, "STOKE_MAX_RENDER_MEMORY_BYTES");
}

#[test]
fn loops_no_counter_sees_stop_at_the_time_budget() {
    let tmp = tempfile::tempdir().unwrap();
    let list: Vec<String> = (0..3000).map(|i| i.to_string()).collect();
    let c = one_template(
        tmp.path(),
        "{% for a in values.l %}{% for b in values.l %}{% for c in values.l %}{% endfor %}{% endfor %}{% endfor %}",
        &format!("l: [{}]\n", list.join(",")),
    );
    let (run, took) = render(tmp.path(), &c, &[], &[("STOKE_MAX_RENDER_SECONDS", "2")]);
    refused(run, "STOKE_MAX_RENDER_SECONDS");
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[test]
fn the_shipped_charts_render_well_inside_every_budget() {
    let tmp = tempfile::tempdir().unwrap();
    for (chart_dir, values) in common::COMBINATIONS {
        let (run, _) = render(
            tmp.path(),
            &repo().join(chart_dir),
            &["-f", repo().join(values).to_str().unwrap()],
            // A tenth of each default still suffices.
            &[
                ("STOKE_MAX_RENDER_ITERATIONS", "100000"),
                ("STOKE_MAX_RENDER_BYTES", "6000000"),
                ("STOKE_MAX_TEMPLATE_DEPTH", "10"),
            ],
        );
        run.expect(0);
    }
}
