//! `stoke unittest`: helm-unittest suites run through the binary against fixture charts.

mod common;

use std::path::{Path, PathBuf};

use common::{Run, chart, stoke_in, write_files};

const DEPLOYMENT: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ release.name }}-web
  namespace: {{ release.namespace }}
  labels:
    app.kubernetes.io/name: web
    chart-version: "{{ chart.version }}"
    app-version: "{{ chart.app_version }}"
    revision: "{{ release.revision }}"
    upgrade: "{{ release.is_upgrade }}"
    kube-minor: "{{ capabilities.kube_version.minor }}"
spec:
  replicas: {{ values.replicas }}
  template:
    spec:
      containers:
        - name: web
          image: "{{ values.image.repo }}:{{ values.image.tag }}"
          ports:
            - name: http
              containerPort: 80
            - name: metrics
              containerPort: 9090
      nodeSelector: {}
      priorityClassName: null
      ratio: 0.5
{% if values.fail %}{{ fail(message="fail was set") }}{% endif %}
{% if "monitoring.coreos.com/v1" in capabilities.api_versions %}---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ release.name }}-web
{% endif %}"#;

const CONFIGMAPS: &str = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: first
data:
  role: primary
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: second
data:
  role: backup
"#;

const SECRET: &str = r#"apiVersion: v1
kind: Secret
metadata:
  name: creds
data:
  password: {{ "hunter2" | b64encode }}
"#;

/// A chart with a deployment, two config maps in one template, a secret and notes.
fn fixture(root: &Path) -> PathBuf {
    chart(
        root,
        "web",
        &[
            (
                "values.yaml",
                "replicas: 1\nimage:\n  repo: nginx\n  tag: \"1.25\"\nfail: false\n",
            ),
            ("templates/deployment.yaml", DEPLOYMENT),
            ("templates/configmaps.yaml", CONFIGMAPS),
            ("templates/secret.yaml", SECRET),
            (
                "templates/_helpers.tera",
                "{% component greeting() %}hi{% endcomponent greeting %}",
            ),
            (
                "templates/NOTES.txt",
                "Release {{ release.name }} in {{ release.namespace }}.\n",
            ),
        ],
    )
}

/// Writes `suites` (file name under tests/, text) into a fresh fixture chart and runs
/// `stoke unittest` on it with `extra` arguments.
fn run_suites(suites: &[(&str, &str)], extra: &[&str]) -> (tempfile::TempDir, Run) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = fixture(tmp.path());
    let files: Vec<(String, &str)> = suites
        .iter()
        .map(|(n, t)| (format!("tests/{n}"), *t))
        .collect();
    let refs: Vec<(&str, &str)> = files.iter().map(|(n, t)| (n.as_str(), *t)).collect();
    write_files(&dir, &refs);
    let mut args = vec!["unittest", "web"];
    args.extend_from_slice(extra);
    let run = stoke_in(tmp.path(), &args);
    (tmp, run)
}

const PASSING_ALL_TYPES: &str = r#"suite: every assertion type holds
templates:
  - deployment.yaml
  - configmaps.yaml
  - secret.yaml
  - NOTES.txt
tests:
  - it: checks the deployment
    template: deployment.yaml
    asserts:
      - equal: {path: metadata.name, value: RELEASE-NAME-web}
      - notEqual: {path: metadata.name, value: other}
      - equal:
          path: metadata.labels["app.kubernetes.io/name"]
          value: web
      - equal:
          path: spec.template.spec.containers[*].name
          value: web
      - equal:
          path: spec.template.spec.containers[0].ports[?(@.name == "metrics")].containerPort
          value: 9090
      - matchRegex: {path: 'spec.template.spec.containers[0].image', pattern: '^nginx:1\.\d+$'}
      - notMatchRegex: {path: metadata.name, pattern: '^prod-'}
      - contains:
          path: spec.template.spec.containers[0].ports
          content: {name: http, containerPort: 80}
      - contains:
          path: spec.template.spec.containers[0].ports
          content: {name: metrics}
          any: true
          count: 1
      - notContains:
          path: spec.template.spec.containers[0].ports
          content: {name: https, containerPort: 443}
      - isNull: {path: spec.strategy}
      # As in helm-unittest, isNull means notExists: a key present with a null value is
      # not null in that sense.
      - isNotNull: {path: spec.template.spec.priorityClassName}
      - exists: {path: spec.template.spec.priorityClassName}
      - lengthEqual: {path: metadata.labels, count: 6}
      - isNotNull: {path: spec.replicas}
      - isEmpty: {path: spec.template.spec.nodeSelector}
      - isNotEmpty: {path: spec.template.spec.containers}
      - isNullOrEmpty: {path: spec.template.spec.nodeSelector}
      - isNotNullOrEmpty: {path: metadata.labels}
      - exists: {path: 'spec.template.spec.containers[0].ports'}
      - notExists: {path: spec.template.spec.volumes}
      - isKind: {of: Deployment}
      - isAPIVersion: {of: apps/v1}
      - hasDocuments: {count: 1}
      - isSubset:
          path: metadata.labels
          content: {app.kubernetes.io/name: web}
      - isNotSubset:
          path: metadata.labels
          content: {app.kubernetes.io/name: api}
      - lengthEqual: {path: 'spec.template.spec.containers[0].ports', count: 2}
      - notLengthEqual: {path: 'spec.template.spec.containers[0].ports', count: 3}
      - isType: {path: spec.replicas, type: int}
      - isType: {path: spec.template.spec.ratio, type: float64}
      - isType: {path: metadata.labels, type: "map[string]interface {}"}
      - isNotType: {path: metadata.name, type: int}
      - notFailedTemplate: {}
      - containsDocument: {kind: Deployment, apiVersion: apps/v1, name: RELEASE-NAME-web}
      - greaterOrEqual: {path: spec.replicas, value: 1}
      - lessOrEqual: {path: spec.template.spec.ratio, value: 0.5}
      - notGreaterOrEqual: {path: spec.replicas, value: 2}
      - notLessOrEqual: {path: metadata.name, value: A}
  - it: checks the notes as raw text
    template: NOTES.txt
    asserts:
      - equalRaw: {value: "Release RELEASE-NAME in NAMESPACE.\n"}
      - notEqualRaw: {value: "something else"}
      - matchRegexRaw: {pattern: 'in NAMESPACE'}
      - notMatchRegexRaw: {pattern: 'in default'}
  - it: decodes base64 secrets
    template: secret.yaml
    asserts:
      - equal: {path: data.password, value: hunter2, decodeBase64: true}
      - matchRegex: {path: data.password, pattern: '^hunt', decodeBase64: true}
  - it: fails on purpose and says why
    set:
      fail: true
    asserts:
      - failedTemplate: {errorMessage: fail was set}
      - failedTemplate: {errorMessage: was set}
      - failedTemplate: {errorPattern: 'fail w.s set'}
      - failedTemplate: {}
"#;

#[test]
fn every_assertion_type_passes_when_its_expectation_holds() {
    let (_tmp, run) = run_suites(&[("all_test.yaml", PASSING_ALL_TYPES)], &[]);
    let run = run.expect(0);
    assert!(
        run.stdout.contains(" PASS  every assertion type holds"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Suites: 1 passed, 0 failed"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Tests: 4 passed, 0 failed"),
        "{}",
        run.stdout
    );
}

/// One test per assertion type, each written to fail.
const FAILING_ALL_TYPES: &[(&str, &str)] = &[
    ("equal", "equal: {path: spec.replicas, value: 7}"),
    ("notEqual", "notEqual: {path: spec.replicas, value: 1}"),
    ("equalRaw", "equalRaw: {value: nope}"),
    (
        "notEqualRaw",
        "notEqualRaw: {value: \"Release RELEASE-NAME in NAMESPACE.\\n\"}",
    ),
    (
        "matchRegex",
        "matchRegex: {path: metadata.name, pattern: '^prod-'}",
    ),
    (
        "notMatchRegex",
        "notMatchRegex: {path: metadata.name, pattern: 'web$'}",
    ),
    ("matchRegexRaw", "matchRegexRaw: {pattern: '^Goodbye'}"),
    (
        "notMatchRegexRaw",
        "notMatchRegexRaw: {pattern: '^Release'}",
    ),
    (
        "contains",
        "contains: {path: 'spec.template.spec.containers[0].ports', content: {name: https}}",
    ),
    (
        "containsCount",
        "contains: {path: 'spec.template.spec.containers[0].ports', content: {name: http}, any: true, count: 2}",
    ),
    (
        "notContains",
        "notContains: {path: 'spec.template.spec.containers[0].ports', content: {name: http}, any: true}",
    ),
    ("isNull", "isNull: {path: spec.replicas}"),
    ("isNotNull", "isNotNull: {path: spec.strategy}"),
    ("isEmpty", "isEmpty: {path: metadata.labels}"),
    (
        "isNotEmpty",
        "isNotEmpty: {path: spec.template.spec.nodeSelector}",
    ),
    ("exists", "exists: {path: spec.strategy}"),
    ("notExists", "notExists: {path: spec.replicas}"),
    ("isKind", "isKind: {of: StatefulSet}"),
    ("isAPIVersion", "isAPIVersion: {of: apps/v1beta1}"),
    ("hasDocuments", "hasDocuments: {count: 3}"),
    (
        "isSubset",
        "isSubset: {path: metadata.labels, content: {tier: front}}",
    ),
    (
        "isNotSubset",
        "isNotSubset: {path: metadata.labels, content: {app.kubernetes.io/name: web}}",
    ),
    (
        "lengthEqual",
        "lengthEqual: {path: 'spec.template.spec.containers[0].ports', count: 5}",
    ),
    (
        "notLengthEqual",
        "notLengthEqual: {path: 'spec.template.spec.containers[0].ports', count: 2}",
    ),
    ("isType", "isType: {path: spec.replicas, type: string}"),
    ("isNotType", "isNotType: {path: spec.replicas, type: int}"),
    ("failedTemplate", "failedTemplate: {}"),
    ("notFailedTemplateOnFailure", "notFailedTemplate: {}"),
    (
        "containsDocument",
        "containsDocument: {kind: Service, apiVersion: v1}",
    ),
    ("unknownPath", "equal: {path: spec.missing.field, value: 1}"),
    (
        "greaterOrEqual",
        "greaterOrEqual: {path: spec.replicas, value: 2}",
    ),
    (
        "notGreaterOrEqual",
        "notGreaterOrEqual: {path: spec.replicas, value: 1}",
    ),
    (
        "lessOrEqual",
        "lessOrEqual: {path: spec.template.spec.ratio, value: 0.25}",
    ),
    (
        "notLessOrEqual",
        "notLessOrEqual: {path: spec.replicas, value: 1}",
    ),
    (
        "compareMismatchedTypes",
        "greaterOrEqual: {path: spec.replicas, value: \"1\"}",
    ),
];

#[test]
fn every_assertion_type_fails_when_its_expectation_does_not_hold() {
    let mut suite = String::from(
        "suite: every assertion type fails\ntemplates: [deployment.yaml, NOTES.txt]\ntests:\n",
    );
    for (name, assertion) in FAILING_ALL_TYPES {
        let template = if name.contains("Raw") {
            "NOTES.txt"
        } else {
            "deployment.yaml"
        };
        let set = if *name == "notFailedTemplateOnFailure" {
            "    set: {fail: true}\n"
        } else {
            ""
        };
        suite.push_str(&format!(
            "  - it: {name} fails\n    template: {template}\n{set}    asserts:\n      - {assertion}\n"
        ));
    }
    let (_tmp, run) = run_suites(&[("fail_test.yaml", &suite)], &[]);
    let run = run.expect(1);
    let n = FAILING_ALL_TYPES.len();
    assert!(
        run.stdout.contains(&format!("Tests: 0 passed, {n} failed")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Suites: 0 passed, 1 failed"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(" FAIL  every assertion type fails"),
        "{}",
        run.stdout
    );
    for (name, _) in FAILING_ALL_TYPES {
        assert!(
            run.stdout.contains(&format!("- {name} fails")),
            "test `{name}` should be reported as failing:\n{}",
            run.stdout
        );
    }
}

#[test]
fn a_failing_equal_shows_path_expected_actual_and_a_diff() {
    let suite = "templates: [deployment.yaml]\ntests:\n  - it: has three replicas\n    asserts:\n      - equal:\n          path: spec.replicas\n          value: 3\n";
    let (_tmp, run) = run_suites(&[("replicas_test.yaml", suite)], &[]);
    let out = run.expect(1).stdout;
    for want in [
        "- has three replicas",
        "asserts[0] `equal` failed (line 5)",
        "Template:\ttemplates/deployment.yaml",
        "DocumentIndex:\t0",
        "Path:\tspec.replicas",
        "Expected to equal:\n\t\t\t\t3",
        "Actual:\n\t\t\t\t1",
        "--- expected\n",
        "-3\n",
        "+1\n",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
    assert!(out.contains("Tests: 0 passed, 1 failed"), "{out}");
}

#[test]
fn not_true_inverts_an_assertion() {
    let suite = r#"templates: [deployment.yaml]
tests:
  - it: is not named other
    asserts:
      - equal: {path: metadata.name, value: other}
        not: true
      - notEqual: {path: metadata.name, value: RELEASE-NAME-web}
        not: true
  - it: claims the name is not its own
    asserts:
      - equal: {path: metadata.name, value: RELEASE-NAME-web}
        not: true
"#;
    let (_tmp, run) = run_suites(&[("not_test.yaml", suite)], &[]);
    let out = run.expect(1).stdout;
    assert!(out.contains("Tests: 1 passed, 1 failed"), "{out}");
    assert!(out.contains("`equal` (not: true) failed"), "{out}");
    assert!(out.contains("Expected NOT to equal:"), "{out}");
}

#[test]
fn document_selectors_and_indices_pick_documents() {
    let suite = r#"templates: [configmaps.yaml]
tests:
  - it: finds the backup by name
    documentSelector: {path: metadata.name, value: second}
    asserts:
      - equal: {path: data.role, value: backup}
  - it: indexes documents
    documentIndex: 0
    asserts:
      - equal: {path: data.role, value: primary}
      - equal: {path: data.role, value: backup}
        documentIndex: 1
  - it: selects many with matchMany
    asserts:
      - isKind: {of: ConfigMap}
        documentSelector: {path: kind, value: ConfigMap, matchMany: true}
      - hasDocuments: {count: 2}
      - hasDocuments: {count: 1, filterAware: true}
        documentSelector: {path: data.role, value: primary}
  - it: refuses an ambiguous selector
    asserts:
      - isKind: {of: ConfigMap}
        documentSelector: {path: kind, value: ConfigMap}
  - it: refuses an index out of range
    asserts:
      - isKind: {of: ConfigMap}
        documentIndex: 5
  - it: refuses a selector that matches nothing
    asserts:
      - isKind: {of: ConfigMap}
        documentSelector: {path: metadata.name, value: third}
  - it: skips templates without a match when asked
    asserts:
      - isKind: {of: ConfigMap}
        documentSelector: {path: metadata.name, value: third, skipEmptyTemplates: true}
---
templates: [configmaps.yaml, secret.yaml]
tests:
  - it: skips the template without a match when asked
    documentSelector: {path: metadata.name, value: creds, skipEmptyTemplates: true}
    asserts:
      - isKind: {of: Secret}
  - it: needs a match in every template
    documentSelector: {path: metadata.name, value: creds}
    asserts:
      - isKind: {of: Secret}
"#;
    let (_tmp, run) = run_suites(&[("select_test.yaml", suite)], &[]);
    let out = run.expect(1).stdout;
    assert!(out.contains("Tests: 5 passed, 4 failed"), "{out}");
    assert!(out.contains("Suites: 0 passed, 2 failed"), "{out}");
    assert!(
        out.contains("documentSelector matched 2 documents but expects one; set matchMany: true"),
        "{out}"
    );
    assert!(
        out.contains(
            "documentIndex 5 is out of range: `templates/configmaps.yaml` rendered 2 document(s)"
        ),
        "{out}"
    );
    assert!(out.contains("documentSelector found no document in `templates/configmaps.yaml` where `metadata.name` is third (each template in scope needs a match; set skipEmptyTemplates: true to skip templates without one)"), "{out}");
    assert!(out.contains("- needs a match in every template"), "{out}");
}

#[test]
fn values_set_release_capabilities_and_chart_settings_reach_the_templates() {
    let suite = r#"templates: [deployment.yaml]
values: [values/big.yaml]
release: {name: gw, namespace: plant}
chart: {version: 9.9.9}
tests:
  - it: uses suite settings and values files
    asserts:
      - equal: {path: spec.replicas, value: 4}
      - equal: {path: metadata.name, value: gw-web}
      - equal: {path: metadata.namespace, value: plant}
      - equal: {path: 'metadata.labels["chart-version"]', value: 9.9.9}
  - it: lets the test override the suite
    documentIndex: 0
    set:
      replicas: 6
      image.tag: "2.0"
    release: {name: edge, revision: 3, upgrade: true}
    chart: {appVersion: "8.1"}
    capabilities:
      majorVersion: 1
      minorVersion: 27
      apiVersions: [monitoring.coreos.com/v1]
    asserts:
      - equal: {path: spec.replicas, value: 6}
      - equal: {path: 'spec.template.spec.containers[0].image', value: "nginx:2.0"}
      - equal: {path: metadata.name, value: edge-web}
      - equal: {path: metadata.labels.revision, value: "3"}
      - equal: {path: metadata.labels.upgrade, value: "true"}
      - equal: {path: 'metadata.labels["app-version"]', value: "8.1"}
      - equal: {path: 'metadata.labels["kube-minor"]', value: "27"}
      - hasDocuments: {count: 2}
      - isKind: {of: ServiceMonitor}
        documentIndex: 1
"#;
    let tmp = tempfile::tempdir().unwrap();
    let dir = fixture(tmp.path());
    write_files(
        &dir,
        &[
            ("tests/settings_test.yaml", suite),
            ("tests/values/big.yaml", "replicas: 4\n"),
        ],
    );
    let run = stoke_in(tmp.path(), &["unittest", "web"]).expect(0);
    assert!(
        run.stdout.contains("Tests: 2 passed, 0 failed"),
        "{}",
        run.stdout
    );
}

#[test]
fn templates_outside_the_suite_scope_are_rendered_only_when_named() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = fixture(tmp.path());
    write_files(
        &dir,
        &[
            ("templates/broken.yaml", "{{ values.nope.deeper }}"),
            (
                "tests/scope_test.yaml",
                "templates: [secret.yaml]\ntests:\n  - it: checks the secret by default\n    asserts:\n      - isKind: {of: Secret}\n  - it: names another template\n    asserts:\n      - isKind: {of: Deployment}\n        template: deployment.yaml\n  - it: names a template the chart lacks\n    asserts:\n      - isKind: {of: Secret}\n        template: missing.yaml\n",
            ),
        ],
    );
    let run = stoke_in(tmp.path(), &["unittest", "web"]).expect(1);
    assert!(
        run.stdout.contains("Tests: 2 passed, 1 failed"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Error: template `templates/missing.yaml` was not rendered: the chart has no such template (it has: "),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("nope"),
        "the broken template outside the scope never renders:\n{}",
        run.stdout
    );
}

#[test]
fn a_render_error_fails_assertions_that_need_output() {
    let suite = "templates: [deployment.yaml]\ntests:\n  - it: renders\n    set: {fail: true}\n    asserts:\n      - isKind: {of: Deployment}\n      - failedTemplate: {errorMessage: something else}\n";
    let (_tmp, run) = run_suites(&[("render_test.yaml", suite)], &[]);
    let out = run.expect(1).stdout;
    assert!(out.contains("Error: the chart failed to render:"), "{out}");
    assert!(out.contains("fail was set"), "{out}");
    assert!(out.contains("Expected the render error to equal:"), "{out}");
}

#[test]
fn snapshots_are_created_matched_reported_and_updated() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = fixture(tmp.path());
    write_files(
        &dir,
        &[(
            "tests/snap_test.yaml",
            "templates: [deployment.yaml]\ntests:\n  - it: keeps its spec\n    asserts:\n      - matchSnapshot: {path: spec}\n      - matchSnapshot: {}\n",
        )],
    );
    let snap = dir.join("tests/__snapshot__/snap_test.yaml.snap");

    let first = stoke_in(tmp.path(), &["unittest", "web"]).expect(0);
    assert!(
        first
            .stdout
            .contains("Snapshots: 0 passed, 0 failed, 2 created, 0 updated"),
        "{}",
        first.stdout
    );
    let text = std::fs::read_to_string(&snap).expect("the snapshot file is written");
    assert!(
        text.starts_with("keeps its spec:\n  1: |\n    replicas: 1\n"),
        "{text}"
    );
    assert!(
        text.contains("\n  2: |\n    apiVersion: apps/v1\n"),
        "{text}"
    );

    let second = stoke_in(tmp.path(), &["unittest", "web"]).expect(0);
    assert!(
        second
            .stdout
            .contains("Snapshots: 2 passed, 0 failed, 0 created, 0 updated"),
        "{}",
        second.stdout
    );

    write_files(
        &dir,
        &[(
            "values.yaml",
            "replicas: 2\nimage:\n  repo: nginx\n  tag: \"1.25\"\nfail: false\n",
        )],
    );
    let changed = stoke_in(tmp.path(), &["unittest", "web"]).expect(1);
    assert!(
        changed.stdout.contains("Expected to match snapshot 1:"),
        "{}",
        changed.stdout
    );
    assert!(
        changed.stdout.contains("-replicas: 1\n"),
        "{}",
        changed.stdout
    );
    assert!(
        changed.stdout.contains("+replicas: 2\n"),
        "{}",
        changed.stdout
    );
    assert!(
        changed.stdout.contains("Snapshots: 0 passed, 2 failed"),
        "{}",
        changed.stdout
    );
    assert_eq!(
        std::fs::read_to_string(&snap).unwrap(),
        text,
        "a failing run leaves the snapshots alone"
    );

    let updated = stoke_in(tmp.path(), &["unittest", "web", "-u"]).expect(0);
    assert!(updated.stdout.contains("2 updated"), "{}", updated.stdout);
    assert!(
        std::fs::read_to_string(&snap)
            .unwrap()
            .contains("replicas: 2")
    );
    stoke_in(tmp.path(), &["unittest", "web"]).expect(0);
}

#[test]
fn an_unknown_field_is_an_error_naming_file_and_line() {
    let suite = "suite: typo\ntemplates: [deployment.yaml]\ntests:\n  - it: has a typo\n    assert:\n      - isKind: {of: Deployment}\n";
    let (_tmp, run) = run_suites(
        &[
            ("typo_test.yaml", suite),
            (
                "good_test.yaml",
                "templates: [secret.yaml]\ntests:\n  - it: ok\n    asserts:\n      - isKind: {of: Secret}\n",
            ),
        ],
        &[],
    );
    let out = run.expect(1).stdout;
    assert!(
        out.contains("error: web/tests/typo_test.yaml:5: unknown field `assert` in a test; did you mean `asserts`?"),
        "{out}"
    );
    assert!(out.contains("Suites: 1 passed, 1 failed"), "{out}");
}

#[test]
fn an_unknown_assertion_type_is_an_error_naming_file_and_line() {
    let suite = "templates: [deployment.yaml]\ntests:\n  - it: uses a made-up type\n    asserts:\n      - isKind: {of: Deployment}\n      - equalz: {path: a, value: 1}\n";
    let (_tmp, run) = run_suites(&[("type_test.yaml", suite)], &[]);
    let out = run.expect(1).stdout;
    assert!(
        out.contains(
            "web/tests/type_test.yaml:6: unknown assertion type `equalz`; did you mean `equal`?"
        ),
        "{out}"
    );
    let suite = "tests:\n  - it: a\n    asserts:\n      - equal: {path: a, valeu: 1}\n";
    let (_tmp, run) = run_suites(&[("param_test.yaml", suite)], &[]);
    // helm-unittest ignores unknown parameters, so the typo is a warning (with the
    // suggestion) and the assertion runs without `value`, failing here.
    let run = run.expect(1);
    assert!(
        run.stderr
            .contains("web/tests/param_test.yaml:4: unknown field `valeu` in `equal`")
            && run.stderr.contains("did you mean `value`?"),
        "{}",
        run.stderr
    );
}

#[test]
fn skipped_tests_and_suites_are_counted_but_not_failed() {
    let suite = "templates: [secret.yaml]\ntests:\n  - it: runs\n    asserts:\n      - isKind: {of: Secret}\n  - it: waits\n    skip: {reason: not yet}\n    asserts:\n      - isKind: {of: Pod}\n";
    let skipped =
        "skip: {reason: later}\ntests:\n  - it: never\n    asserts:\n      - isKind: {of: Pod}\n";
    let (_tmp, run) = run_suites(&[("a_test.yaml", suite), ("b_test.yaml", skipped)], &[]);
    let out = run.expect(0).stdout;
    assert!(
        out.contains("Tests: 1 passed, 0 failed, 2 skipped"),
        "{out}"
    );
    assert!(
        out.contains("Suites: 1 passed, 0 failed, 1 skipped"),
        "{out}"
    );
    assert!(out.contains("(skipped: not yet)"), "{out}");
}

#[test]
fn file_globs_choose_the_suites() {
    let ok = "templates: [secret.yaml]\ntests:\n  - it: ok\n    asserts:\n      - isKind: {of: Secret}\n";
    let bad =
        "templates: [secret.yaml]\ntests:\n  - it: bad\n    asserts:\n      - isKind: {of: Pod}\n";
    let (_tmp, run) = run_suites(
        &[
            ("ok_test.yaml", ok),
            ("bad_test.yaml", bad),
            ("extra/more_test.yaml", ok),
        ],
        &["-f", "tests/ok_test.yaml", "-f", "tests/**/*_test.yaml"],
    );
    let out = run.expect(1).stdout;
    assert!(out.contains("Suites: 2 passed, 1 failed"), "{out}");
    let (_tmp, run) = run_suites(
        &[("ok_test.yaml", ok), ("bad_test.yaml", bad)],
        &["-f", "tests/ok_*.yaml"],
    );
    assert!(run.expect(0).stdout.contains("Suites: 1 passed, 0 failed"));
    let (_tmp, run) = run_suites(&[("ok_test.yaml", ok)], &["-f", "nothing/*.yaml"]);
    assert!(
        run.expect(1)
            .stderr
            .contains("no test suites in `web` match nothing/*.yaml")
    );
}

#[test]
fn junit_output_records_passes_failures_and_skips() {
    let suite = "suite: reported\ntemplates: [secret.yaml]\ntests:\n  - it: passes\n    asserts:\n      - isKind: {of: Secret}\n  - it: \"fails <badly>\"\n    asserts:\n      - isKind: {of: Pod}\n  - it: waits\n    skip: {reason: later}\n    asserts:\n      - isKind: {of: Pod}\n";
    let (tmp, run) = run_suites(
        &[("junit_test.yaml", suite)],
        &["--output-type", "JUnit", "--output-file", "report.xml"],
    );
    run.expect(1);
    let xml = std::fs::read_to_string(tmp.path().join("report.xml")).unwrap();
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites tests=\"3\" failures=\"1\" errors=\"0\">"), "{xml}");
    assert!(xml.contains("<testsuite id=\"0\" name=\"reported\" package=\"web/tests/junit_test.yaml\" tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\""), "{xml}");
    assert!(
        xml.contains("<testcase classname=\"reported\" name=\"passes\""),
        "{xml}"
    );
    assert!(xml.contains("name=\"fails &lt;badly&gt;\""), "{xml}");
    assert!(
        xml.contains("<failure message=\"Failed\" type=\"\">- asserts[0] `isKind` failed (line 9)"),
        "{xml}"
    );
    assert!(xml.contains("<skipped message=\"later\"/>"), "{xml}");
}

#[test]
fn subchart_templates_are_named_under_charts_and_command_line_values_apply() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = fixture(tmp.path());
    write_files(
        &dir,
        &[
            (
                "charts/db/Chart.yaml",
                "apiVersion: v2\nname: db\nversion: 0.2.0\n",
            ),
            ("charts/db/values.yaml", "port: 5432\n"),
            (
                "charts/db/templates/service.yaml",
                "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ release.name }}-db\nspec:\n  ports:\n    - port: {{ values.port }}\n",
            ),
            (
                "tests/db_test.yaml",
                "templates: [charts/db/templates/service.yaml]\ntests:\n  - it: takes the port from the parent's values\n    asserts:\n      - equal: {path: 'spec.ports[0].port', value: 6543}\n      - equal: {path: metadata.name, value: RELEASE-NAME-db}\n",
            ),
        ],
    );
    std::fs::write(tmp.path().join("ci.yaml"), "db:\n  port: 6543\n").unwrap();
    let run = stoke_in(tmp.path(), &["unittest", "web", "-v", "ci.yaml"]).expect(0);
    assert!(
        run.stdout.contains("Tests: 1 passed, 0 failed"),
        "{}",
        run.stdout
    );
    let run = stoke_in(tmp.path(), &["unittest", "web"]).expect(1);
    assert!(
        run.stdout
            .contains("Expected to equal:\n\t\t\t\t6543\n\t\t\tActual:\n\t\t\t\t5432"),
        "{}",
        run.stdout
    );
}

#[test]
fn kubernetes_provider_objects_are_what_lookup_finds() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = fixture(tmp.path());
    write_files(
        &dir,
        &[
            (
                "templates/lookup.yaml",
                "{% set found = lookup(api_version=\"v1\", kind=\"Secret\", namespace=release.namespace, name=\"existing\") %}apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lookup\ndata:\n  reused: \"{% if found.data is defined %}{{ found.data.token }}{% else %}none{% endif %}\"\n",
            ),
            (
                "tests/lookup_test.yaml",
                r#"templates: [lookup.yaml]
kubernetesProvider:
  scheme:
    "v1/Secret": {gvr: {version: v1, resource: secrets}, namespaced: true}
  objects:
    - apiVersion: v1
      kind: Secret
      metadata: {name: existing, namespace: NAMESPACE}
      data: {token: abc}
tests:
  - it: reuses the deployed secret
    asserts:
      - equal: {path: data.reused, value: abc}
  - it: sees nothing in another namespace
    release: {namespace: other}
    asserts:
      - equal: {path: data.reused, value: none}
"#,
            ),
            (
                "tests/bad_provider_test.yaml",
                "templates: [lookup.yaml]\ntests:\n  - it: has a nameless object\n    kubernetesProvider:\n      objects:\n        - {apiVersion: v1, kind: Secret}\n    asserts:\n      - exists: {path: data}\n",
            ),
        ],
    );
    let run = stoke_in(tmp.path(), &["unittest", "web"]).expect(1);
    assert!(
        run.stdout.contains("Tests: 2 passed, 0 failed"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("web/tests/bad_provider_test.yaml:6: the object needs `metadata.name`"),
        "{}",
        run.stdout
    );
}
