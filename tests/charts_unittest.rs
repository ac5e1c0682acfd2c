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
