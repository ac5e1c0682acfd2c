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

/// `.ci/official-unittest` runs a chart checkout's suites against charts/ignition, one line per
/// suite, the failing tests under a failing one, and fails when any test does. CI cannot reach
/// the official chart, so this drives the script with a stand-in checkout: two suites of our
/// own chart and one that fails.
#[test]
fn the_official_unittest_script_reports_each_suite_and_fails_on_a_failed_test() {
    let tmp = tempfile::tempdir().unwrap();
    let tests = tmp.path().join("ignition/tests");
    std::fs::create_dir_all(&tests).unwrap();
    for suite in ["helpers_test.yaml", "service_test.yaml"] {
        std::fs::copy(
            repo().join("charts/ignition/tests").join(suite),
            tests.join(suite),
        )
        .unwrap();
    }
    std::fs::write(
        tests.join("wrong_test.yaml"),
        "suite: wrong\ntemplates: [serviceaccount.yaml]\ntests:\n  - it: expects another name\n    asserts:\n      - equal: {path: metadata.name, value: nobody}\n",
    )
    .unwrap();
    let run = |extra: &[&str]| {
        let mut cmd = std::process::Command::new("bash");
        common::isolate(&mut cmd)
            .arg(repo().join(".ci/official-unittest"))
            .arg(tmp.path().join("ignition"))
            .args(extra)
            .env("STOKE", env!("CARGO_BIN_EXE_stoke"))
            .output()
            .expect("bash runs the script")
    };
    let out = run(&[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("PASS helpers_test.yaml"), "{stdout}");
    assert!(stdout.contains("PASS service_test.yaml"), "{stdout}");
    assert!(
        stdout.contains(
            "FAIL wrong_test.yaml                0 passed, 1 failed\n    - expects another name"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("Suites: 2 passed, 1 failed; Tests: "),
        "{stdout}"
    );
    let verbose = run(&["-v"]);
    let stdout = String::from_utf8_lossy(&verbose.stdout);
    assert!(stdout.contains("Expected to equal"), "{stdout}");
    let files: Vec<_> = std::fs::read_dir(&tests).unwrap().collect();
    assert_eq!(files.len(), 3, "the script wrote into the checkout");
}
