//! The helm-unittest suites shipped with the charts (`charts/*/tests/*_test.yaml`) run
//! through `stoke unittest`, with a JUnit report as CI would write it.

mod common;

use common::repo;

#[test]
fn the_chart_suites_pass_under_stoke_unittest() {
    let tmp = tempfile::tempdir().unwrap();
    for chart in ["ignition", "ignition-scaleout"] {
        let dir = repo().join("charts").join(chart);
        let report = tmp.path().join(format!("{chart}.xml"));
        let run = common::stoke_in(
            &repo(),
            &[
                "unittest",
                dir.to_str().unwrap(),
                "--output-type",
                "JUnit",
                "--output-file",
                report.to_str().unwrap(),
            ],
        )
        .expect(0);
        let tests_line = run
            .stdout
            .lines()
            .find(|l| l.starts_with("Tests: "))
            .expect("a Tests: line");
        assert!(tests_line.ends_with(" 0 failed"), "{chart}: {tests_line}");
        let passed: usize = tests_line["Tests: ".len()..]
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(passed >= 10, "{chart}: only {passed} tests ran");
        let xml = std::fs::read_to_string(&report).unwrap();
        assert!(
            xml.contains("<testsuites") && xml.contains("failures=\"0\""),
            "{xml}"
        );
    }
}

/// Every values file shipped in values/, with the chart it is written for.
fn shipped_values() -> Vec<(&'static str, std::path::PathBuf)> {
    let mut out: Vec<_> = std::fs::read_dir(repo().join("values"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| {
            let scaleout = p
                .file_name()
                .unwrap()
                .to_string_lossy()
                .contains("scaleout");
            let chart = if scaleout {
                "charts/ignition-scaleout"
            } else {
                "charts/ignition"
            };
            (chart, p)
        })
        .collect();
    out.sort();
    assert!(out.len() >= 5, "values/ lost its files: {out:?}");
    out
}

/// templates/tests/helpers.yaml exists for unit tests only: no render for a release, with any
/// shipped values file or none, carries it, and an install records nothing of it either.
#[test]
fn the_test_only_helpers_configmap_stays_out_of_templates_and_installs() {
    let tmp = tempfile::tempdir().unwrap();
    let mut renders = vec![
        ("charts/ignition", None),
        ("charts/ignition-scaleout", None),
    ];
    renders.extend(shipped_values().into_iter().map(|(c, v)| (c, Some(v))));
    for (chart, values) in &renders {
        let chart = repo().join(chart);
        let mut args = vec!["template", "site", chart.to_str().unwrap()];
        if let Some(v) = values {
            args.extend(["-f", v.to_str().unwrap()]);
        }
        let run = common::stoke_in(tmp.path(), &args).expect(0);
        assert!(run.stdout.contains("kind: StatefulSet"), "{args:?}");
        common::assert_lacks(&run.stdout, "helpers-test");
        common::assert_lacks(&run.stdout, "templates/tests/helpers.yaml");
    }
    let chart = repo().join("charts/ignition");
    let values = repo().join("values/redundant.yaml");
    common::stoke_in(
        tmp.path(),
        &[
            "install",
            "site",
            chart.to_str().unwrap(),
            "-f",
            values.to_str().unwrap(),
        ],
    )
    .expect(0);
    let manifest = common::stoke_in(tmp.path(), &["get", "manifest", "site"]).expect(0);
    assert!(manifest.stdout.contains("kind: StatefulSet"));
    common::assert_lacks(&manifest.stdout, "helpers-test");
}

/// The same template appears once `_testing` is set, so the guard above is not vacuous.
#[test]
fn the_helpers_configmap_renders_when_testing_is_set() {
    let tmp = tempfile::tempdir().unwrap();
    let chart = repo().join("charts/ignition");
    let run = common::stoke_in(
        tmp.path(),
        &[
            "template",
            "site",
            chart.to_str().unwrap(),
            "--show-only",
            "templates/tests/helpers.yaml",
            "--set",
            "_testing.enabled=true",
        ],
    )
    .expect(0);
    let docs = common::documents(&run.stdout);
    assert_eq!(docs.len(), 1, "{}", run.stdout);
    assert_eq!(docs[0]["metadata"]["name"], "site-ignition-helpers-test");
    assert_eq!(docs[0]["data"]["gateway.useMaxRAMPercentage"], true);
}
