//! Suites written for helm-unittest run unchanged: its lenient reading of unknown keys and
//! its null/absent handling (docs/unittest.md, "Compatibility with helm-unittest").

mod common;

use common::stoke_in;

const TEMPLATE: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  labels:\n  annotations:\ndata:\n  a: \"1\"\n";

const SUITE: &str = r#"x-name: &name
  path: metadata.name
  value: cm
suite: compat
templates: [templates/cm.yaml]
futureSetting: true
tests:
  - it: reads anchors from x- keys and counts a null list as empty
    asserts:
      - equal: *name
        template: templates/cm.yaml
      - lengthEqual:
          paths: [metadata.labels, metadata.annotations]
          count: 0
      - lengthEqual:
          path: metadata.labels
          count: 0
      - equal:
          path: data.a
          value: "1"
          futureParameter: 1
        documentIndex: 0
"#;

fn chart(dir: &std::path::Path) -> std::path::PathBuf {
    common::chart(
        dir,
        "demo",
        &[
            ("templates/cm.yaml", TEMPLATE),
            ("tests/compat_test.yaml", SUITE),
        ],
    )
}

#[test]
fn a_helm_unittest_suite_with_x_keys_and_unknown_fields_runs_with_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let chart = chart(dir.path());
    let run = stoke_in(dir.path(), &["unittest", chart.to_str().unwrap()]).expect(0);
    assert!(run.stdout.contains("PASS"), "{}", run.stdout);
    assert!(!run.stderr.contains("x-name"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("tests/compat_test.yaml:6: unknown field `futureSetting`"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("tests/compat_test.yaml:21: unknown field `futureParameter`"),
        "{}",
        run.stderr
    );
}

#[test]
fn under_strict_unknown_suite_fields_fail_the_suite() {
    let dir = tempfile::tempdir().unwrap();
    let chart = chart(dir.path());
    let run = stoke_in(
        dir.path(),
        &["unittest", chart.to_str().unwrap(), "--strict"],
    )
    .expect(1);
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(all.contains("unknown field `futureSetting`"), "{all}");
}

/// lengthEqual measures an absent path as 0, as a null one: `count: 0` holds and any other
/// count fails, showing the 0 it measured.
#[test]
fn length_equal_on_an_absent_path_counts_zero() {
    let dir = tempfile::tempdir().unwrap();
    let chart = common::chart(
        dir.path(),
        "demo",
        &[
            ("templates/cm.yaml", TEMPLATE),
            (
                "tests/len_test.yaml",
                "suite: len\ntemplates: [templates/cm.yaml]\ntests:\n  - it: absent is 0\n    asserts:\n      - lengthEqual:\n          path: spec.items\n          count: 0\n      - notLengthEqual:\n          path: spec.items\n          count: 2\n  - it: absent is 0, not 2\n    asserts:\n      - lengthEqual:\n          path: spec.items\n          count: 2\n",
            ),
        ],
    );
    let run = stoke_in(dir.path(), &["unittest", chart.to_str().unwrap()]).expect(1);
    assert!(run.stdout.contains("spec.items: 0"), "{}", run.stdout);
    assert!(
        run.stdout.contains("Tests: 1 passed, 1 failed"),
        "{}",
        run.stdout
    );
}

const LABELLED: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  labels:\n    app.kubernetes.io/managed-by: {{ release.service }}\n{% if values.boom %}{{ fail(message=\"boom: \" ~ values.boom) }}{% endif %}\n";

const MANAGED_BY_HELM: &str = "suite: service\ntemplates: [cm.yaml]\ntests:\n  - it: is managed by Helm\n    asserts:\n      - equal:\n          path: metadata.labels[\"app.kubernetes.io/managed-by\"]\n          value: Helm\n";

/// helm-unittest renders through Helm, so `.Release.Service` is `Helm` and suites that check
/// `app.kubernetes.io/managed-by: Helm` pass unchanged; `--release-service` renders as
/// `stoke template` does instead.
#[test]
fn suites_see_helm_as_the_release_service_unless_told_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let chart = common::chart(
        dir.path(),
        "demo",
        &[
            ("templates/cm.yaml", LABELLED),
            ("tests/service_test.yaml", MANAGED_BY_HELM),
        ],
    );
    let chart = chart.to_str().unwrap();
    stoke_in(dir.path(), &["unittest", chart]).expect(0);
    let run = stoke_in(
        dir.path(),
        &["unittest", chart, "--release-service", "stoke"],
    )
    .expect(1);
    assert!(
        run.stdout.contains("Actual:\n\t\t\t\tstoke"),
        "{}",
        run.stdout
    );
    let rendered = stoke_in(dir.path(), &["template", "gw", chart]).expect(0);
    assert!(
        rendered
            .stdout
            .contains("app.kubernetes.io/managed-by: stoke"),
        "{}",
        rendered.stdout
    );
}

/// helm-unittest matches `errorPattern` against the error without Go's location frame, so a
/// pattern anchored with `^` at the template's own message holds; one anchored elsewhere in
/// the message does not.
#[test]
fn error_patterns_anchor_at_the_template_message() {
    let dir = tempfile::tempdir().unwrap();
    let suite = "suite: fails\ntemplates: [cm.yaml]\nset: {boom: loud}\ntests:\n  - it: anchors at the message\n    asserts:\n      - failedTemplate:\n          errorPattern: \"^boom: loud$\"\n  - it: still searches the whole error\n    asserts:\n      - failedTemplate:\n          errorPattern: \"cm.yaml\"\n  - it: does not anchor inside the message\n    asserts:\n      - failedTemplate:\n          errorPattern: \"^loud\"\n";
    let chart = common::chart(
        dir.path(),
        "demo",
        &[
            ("templates/cm.yaml", LABELLED),
            ("tests/fail_test.yaml", suite),
        ],
    );
    let run = stoke_in(dir.path(), &["unittest", chart.to_str().unwrap()]).expect(1);
    assert!(
        run.stdout.contains("Tests: 2 passed, 1 failed"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("does not anchor inside the message"),
        "{}",
        run.stdout
    );
}

const HELPER_FAILS: &str = "{% component demo.check(@values) -%}\n{% if values.helper %}{{ fail(message=\"bad helper: \" ~ values.helper) }}{% endif -%}\n{%- endcomponent demo.check %}\n";

const CALLS_HELPER: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  annotations:\n    checked: \"{{<demo.check/>}}\"\n{% if values.boom %}{{ fail(message=\"boom: \" ~ values.boom) }}{% endif %}\n";

/// Helm words a failure inside `include` as `error calling include: ...` once helm-unittest
/// has cut Go's location frame, and suites written for Helm anchor there; a failure inside a
/// stoke helper (component) matches that form too, and a failure outside any helper does not.
#[test]
fn a_failure_inside_a_helper_matches_helms_include_wording() {
    let dir = tempfile::tempdir().unwrap();
    let suite = "suite: helpers\ntemplates: [cm.yaml]\ntests:\n  - it: fails inside the helper\n    set: {helper: x}\n    asserts:\n      - failedTemplate:\n          errorPattern: \"^error calling include: bad helper: x\"\n      - failedTemplate:\n          errorPattern: \"^bad helper: x$\"\n  - it: fails outside any helper\n    set: {boom: loud}\n    asserts:\n      - failedTemplate:\n          errorPattern: \"^error calling include\"\n        not: true\n      - failedTemplate:\n          errorPattern: \"^boom: loud$\"\n  - it: is told apart\n    set: {boom: loud}\n    asserts:\n      - failedTemplate:\n          errorPattern: \"^error calling include\"\n";
    let chart = common::chart(
        dir.path(),
        "demo",
        &[
            ("templates/_helpers.tera", HELPER_FAILS),
            ("templates/cm.yaml", CALLS_HELPER),
            ("tests/helpers_test.yaml", suite),
        ],
    );
    let run = stoke_in(dir.path(), &["unittest", chart.to_str().unwrap()]).expect(1);
    assert!(
        run.stdout.contains("Tests: 2 passed, 1 failed"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("is told apart"), "{}", run.stdout);
}
