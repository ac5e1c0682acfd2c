//! `stoke unittest` through the binary: every assertion type passing and failing,
//! negation, document selection, snapshots, malformed suites and the JUnit report.

mod common;

use std::path::Path;

use common::{chart, stoke_in, write_files};

/// A chart with two documents in one template, a Service and NOTES.
fn fixture(root: &Path) {
    chart(
        root,
        "app",
        &[
            (
                "values.yaml",
                "replicas: 2\nport: 8088\nsecret: aGVsbG8=\nrequireName: false\nname: \"\"\n",
            ),
            (
                "templates/deploy.yaml",
                concat!(
                    "{% if values.requireName %}{{ values.name | required(message=\"name is required\") }}{% endif %}",
                    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ release.name }}-app\n",
                    "  labels:\n    app.kubernetes.io/name: app\n    tier: web\n",
                    "spec:\n  replicas: {{ values.replicas }}\n  template:\n    spec:\n      containers:\n",
                    "        - name: app\n          image: app:1\n          ports:\n            - {name: http, containerPort: {{ values.port }}}\n",
                    "        - name: sidecar\n          image: side:1\n",
                    "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ release.name }}-cfg\ndata:\n  secret: {{ values.secret }}\n  empty: \"\"\n",
                ),
            ),
            (
                "templates/service.yaml",
                "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ release.name }}-svc\n  namespace: {{ release.namespace }}\nspec:\n  ports: [{port: {{ values.port }}}]\n",
            ),
            (
                "templates/NOTES.txt",
                "Installed {{ release.name }} on port {{ values.port }}.\n",
            ),
        ],
    );
}

const PASSING: &str = r#"suite: everything holds
templates: [deploy.yaml]
release: {name: rel, namespace: plant}
tests:
  - it: checks the deployment
    documentIndex: 0
    asserts:
      - isKind: {of: Deployment}
      - isAPIVersion: {of: apps/v1}
      - equal: {path: metadata.name, value: rel-app}
      - notEqual: {path: metadata.name, value: other}
      - equal: {path: 'metadata.labels["app.kubernetes.io/name"]', value: app}
      - equal: {path: "spec.template.spec.containers[*].name", value: [app, sidecar]}
      - matchRegex: {path: "spec.template.spec.containers[0].image", pattern: "^app:\\d+$"}
      - notMatchRegex: {path: metadata.name, pattern: "^x"}
      - contains: {path: "spec.template.spec.containers[0].ports", content: {name: http, containerPort: 8088}}
      - contains: {path: spec.template.spec.containers, content: {name: sidecar}, any: true, count: 1}
      - notContains: {path: spec.template.spec.containers, content: {name: other}, any: true}
      - exists: {path: spec.replicas}
      - notExists: {path: spec.strategy}
      - isNull: {path: spec.strategy}
      - isNotNull: {path: spec.replicas}
      - isNotEmpty: {path: metadata.labels}
      - isSubset: {path: metadata.labels, content: {tier: web}}
      - isNotSubset: {path: metadata.labels, content: {tier: db}}
      - lengthEqual: {path: spec.template.spec.containers, count: 2}
      - isType: {path: spec.replicas, type: int}
      - isNotType: {path: spec.replicas, type: string}
      - equal: {path: spec.replicas, value: 2}
        not: false
      - equal: {path: spec.replicas, value: 3}
        not: true
  - it: selects the config map by its kind
    documentSelector: {path: kind, value: ConfigMap}
    asserts:
      - equal: {path: data.secret, value: hello, decodeBase64: true}
      - isEmpty: {path: data.empty}
      - isNullOrEmpty: {path: data.missing}
  - it: counts and finds documents
    asserts:
      - hasDocuments: {count: 2}
      - containsDocument: {kind: ConfigMap, apiVersion: v1, name: rel-cfg}
      - hasDocuments: {count: 1, filterAware: true}
        documentSelector: {path: kind, value: Deployment}
  - it: sees set values and other templates
    set:
      port: 9090
    asserts:
      - equal: {path: "spec.ports[0].port", value: 9090}
        template: service.yaml
      - equal: {path: metadata.namespace, value: plant}
        template: templates/service.yaml
  - it: reads NOTES raw
    template: NOTES.txt
    asserts:
      - equalRaw: {value: "Installed rel on port 8088."}
      - matchRegexRaw: {pattern: "port \\d+"}
      - notMatchRegexRaw: {pattern: "error"}
      - notEqualRaw: {value: "x"}
  - it: fails on purpose when asked to
    set: {requireName: true}
    asserts:
      - failedTemplate: {errorMessage: name is required}
      - failedTemplate: {errorPattern: "name is req.*"}
  - it: renders when nothing is wrong
    asserts:
      - notFailedTemplate: {}
  - it: is skipped
    skip: {reason: not today}
    asserts:
      - isKind: {of: Nothing}
"#;

const FAILING: &str = r#"suite: everything fails
templates: [deploy.yaml]
release: {name: rel}
tests:
  - it: fails each kind of assertion
    documentIndex: 0
    asserts:
      - isKind: {of: StatefulSet}
      - isAPIVersion: {of: v1}
      - equal: {path: metadata.name, value: wrong-name}
      - matchRegex: {path: metadata.name, pattern: "^nope"}
      - contains: {path: spec.template.spec.containers, content: {name: missing}}
      - exists: {path: spec.nothing}
      - isNull: {path: spec.replicas}
      - isEmpty: {path: metadata.labels}
      - isSubset: {path: metadata.labels, content: {tier: db}}
      - lengthEqual: {path: spec.template.spec.containers, count: 5}
      - isType: {path: spec.replicas, type: string}
      - equal: {path: spec.replicas, value: 2}
        not: true
      - hasDocuments: {count: 7}
  - it: fails raw and render assertions
    template: NOTES.txt
    asserts:
      - equalRaw: {value: something else}
      - matchRegexRaw: {pattern: "^never$"}
      - failedTemplate: {}
"#;

#[test]
fn every_assertion_type_passes_when_it_holds() {
    let tmp = tempfile::tempdir().unwrap();
    fixture(tmp.path());
    write_files(tmp.path(), &[("app/tests/pass_test.yaml", PASSING)]);
    let run = stoke_in(tmp.path(), &["unittest", "app"]).expect(0);
    assert!(
        run.stdout.contains(" PASS  everything holds"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Tests: 7 passed, 0 failed, 1 skipped"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Suites: 1 passed, 0 failed"),
        "{}",
        run.stdout
    );
}

#[test]
fn every_assertion_type_fails_when_it_does_not_hold_and_says_why() {
    let tmp = tempfile::tempdir().unwrap();
    fixture(tmp.path());
    write_files(tmp.path(), &[("app/tests/fail_test.yaml", FAILING)]);
    let run = stoke_in(tmp.path(), &["unittest", "app"]).expect(1);
    let out = &run.stdout;
    assert!(out.contains(" FAIL  everything fails"), "{out}");
    for (i, kind) in [
        "isKind",
        "isAPIVersion",
        "equal",
        "matchRegex",
        "contains",
        "exists",
        "isNull",
        "isEmpty",
        "isSubset",
        "lengthEqual",
        "isType",
        "equal",
        "hasDocuments",
    ]
    .iter()
    .enumerate()
    {
        assert!(
            out.contains(&format!("- asserts[{i}] `{kind}` failed")),
            "asserts[{i}] {kind} did not fail:\n{out}"
        );
    }
    for (i, kind) in ["equalRaw", "matchRegexRaw", "failedTemplate"]
        .iter()
        .enumerate()
    {
        assert!(
            out.contains(&format!("- asserts[{i}] `{kind}` failed")),
            "raw asserts[{i}] {kind}:\n{out}"
        );
    }
    assert!(out.contains("Path:          metadata.name"), "{out}");
    assert!(
        out.contains("Expected:\n                wrong-name"),
        "{out}"
    );
    assert!(out.contains("Actual:\n                rel-app"), "{out}");
    assert!(
        out.contains("-wrong-name") && out.contains("+rel-app"),
        "a diff is shown:\n{out}"
    );
    assert!(
        out.contains("Expected NOT:"),
        "negated failures say so:\n{out}"
    );
    assert!(out.contains("Tests: 0 passed, 2 failed"), "{out}");
}

#[test]
fn document_selectors_must_match_one_document_unless_many_are_allowed() {
    let tmp = tempfile::tempdir().unwrap();
    fixture(tmp.path());
    write_files(
        tmp.path(),
        &[(
            "app/tests/sel_test.yaml",
            concat!(
                "suite: selectors\ntemplates: [deploy.yaml]\ntests:\n",
                "  - it: too many\n    documentSelector: {path: metadata.name}\n    asserts:\n      - exists: {path: kind}\n",
                "  - it: many allowed\n    documentSelector: {path: metadata.name, matchMany: true}\n    asserts:\n      - exists: {path: kind}\n",
                "  - it: none\n    documentSelector: {path: kind, value: Secret}\n    asserts:\n      - exists: {path: kind}\n",
                "  - it: index out of range\n    documentIndex: 5\n    asserts:\n      - exists: {path: kind}\n",
            ),
        )],
    );
    let run = stoke_in(tmp.path(), &["unittest", "app"]).expect(1);
    assert!(
        run.stdout
            .contains("matched 2 documents; set matchMany: true"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("matched no document"), "{}", run.stdout);
    assert!(
        run.stdout.contains("documentIndex 5 is out of range"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Tests: 1 passed, 3 failed"),
        "{}",
        run.stdout
    );
}

#[test]
fn snapshots_are_created_matched_reported_and_updated() {
    let tmp = tempfile::tempdir().unwrap();
    fixture(tmp.path());
    write_files(
        tmp.path(),
        &[(
            "app/tests/snap_test.yaml",
            "suite: snaps\ntemplates: [service.yaml]\nrelease: {name: rel}\ntests:\n  - it: keeps the service\n    asserts:\n      - matchSnapshot: {}\n      - matchSnapshot: {path: spec}\n",
        )],
    );
    let first = stoke_in(tmp.path(), &["unittest", "app"]).expect(0);
    assert!(
        first.stdout.contains("Snapshots: 2 created, 0 updated"),
        "{}",
        first.stdout
    );
    let snap = tmp
        .path()
        .join("app/tests/__snapshot__/snap_test.yaml.snap");
    assert!(
        std::fs::read_to_string(&snap)
            .unwrap()
            .contains("keeps the service")
    );
    stoke_in(tmp.path(), &["unittest", "app"]).expect(0);

    std::fs::write(
        tmp.path().join("app/values.yaml"),
        "replicas: 2\nport: 7000\nsecret: aGVsbG8=\nrequireName: false\nname: \"\"\n",
    )
    .unwrap();
    let changed = stoke_in(tmp.path(), &["unittest", "app"]).expect(1);
    assert!(
        changed.stdout.contains("`matchSnapshot` failed"),
        "{}",
        changed.stdout
    );
    assert!(
        changed.stdout.contains("-- port: 8088") || changed.stdout.contains("8088"),
        "{}",
        changed.stdout
    );
    let updated = stoke_in(tmp.path(), &["unittest", "app", "-u"]).expect(0);
    assert!(
        updated.stdout.contains("Snapshots: 0 created, 2 updated"),
        "{}",
        updated.stdout
    );
    stoke_in(tmp.path(), &["unittest", "app"]).expect(0);
}

#[test]
fn malformed_suites_name_the_file_line_and_field() {
    let tmp = tempfile::tempdir().unwrap();
    fixture(tmp.path());
    write_files(
        tmp.path(),
        &[
            (
                "app/tests/a_test.yaml",
                "suite: typo\ntests:\n  - it: t\n    asserts:\n      - equal: {path: a, value: 1}\n        templat: x.yaml\n",
            ),
            (
                "app/tests/b_test.yaml",
                "suite: bad type\ntests:\n  - it: t\n    asserts:\n      - equals: {path: a, value: 1}\n",
            ),
            (
                "app/tests/c_test.yaml",
                "suite: bad param\ntests:\n  - it: t\n    asserts:\n      - equal: {path: a, vlaue: 1}\n",
            ),
        ],
    );
    let run = stoke_in(tmp.path(), &["unittest", "app"]).expect(1);
    let out = &run.stdout;
    assert!(
        out.contains("a_test.yaml:5: unknown field `templat`")
            || out.contains("a_test.yaml:6: unknown field `templat`"),
        "{out}"
    );
    assert!(out.contains("(did you mean `template`?)"), "{out}");
    assert!(
        out.contains("b_test.yaml:5: unknown assertion type `equals` (did you mean `equal`?)"),
        "{out}"
    );
    assert!(
        out.contains("c_test.yaml:5: unknown field `vlaue` in `equal` (did you mean `value`?)"),
        "{out}"
    );
    assert!(out.contains("Suites: 0 passed, 3 failed"), "{out}");
}

#[test]
fn suite_globs_choose_files_and_junit_reports_are_written() {
    let tmp = tempfile::tempdir().unwrap();
    fixture(tmp.path());
    write_files(
        tmp.path(),
        &[
            ("app/tests/pass_test.yaml", PASSING),
            ("app/tests/fail_test.yaml", FAILING),
        ],
    );
    let run = stoke_in(
        tmp.path(),
        &[
            "unittest",
            "app",
            "-f",
            "tests/pass_*.yaml",
            "--output-type",
            "JUnit",
            "--output-file",
            "report.xml",
        ],
    )
    .expect(0);
    assert!(!run.stdout.contains("everything fails"));
    let xml = std::fs::read_to_string(tmp.path().join("report.xml")).unwrap();
    assert!(
        xml.contains("<testsuite name=\"everything holds\""),
        "{xml}"
    );
    assert!(xml.contains("<skipped message=\"not today\"/>"), "{xml}");
    let all = stoke_in(
        tmp.path(),
        &[
            "unittest",
            "app",
            "--output-type",
            "junit",
            "--output-file",
            "all.xml",
        ],
    )
    .expect(1);
    assert!(
        all.stdout.contains("Suites: 1 passed, 1 failed"),
        "{}",
        all.stdout
    );
    let xml = std::fs::read_to_string(tmp.path().join("all.xml")).unwrap();
    assert!(xml.contains("<failure message="), "{xml}");
    let none = stoke_in(tmp.path(), &["unittest", "app", "-f", "tests/none_*.yaml"]).expect(1);
    assert!(none.stderr.contains("no test suites"), "{}", none.stderr);
}

#[test]
fn a_selector_must_match_in_every_template_unless_empty_ones_are_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    fixture(tmp.path());
    write_files(
        tmp.path(),
        &[(
            "app/tests/multi_test.yaml",
            concat!(
                "suite: across templates\ntemplates: [deploy.yaml, service.yaml]\ntests:\n",
                "  - it: strict\n    documentSelector: {path: kind, value: Service}\n    asserts:\n      - exists: {path: spec.ports}\n",
                "  - it: lenient\n    documentSelector: {path: kind, value: Service, skipEmptyTemplates: true}\n    asserts:\n      - exists: {path: spec.ports}\n",
            ),
        )],
    );
    let run = stoke_in(tmp.path(), &["unittest", "app"]).expect(1);
    assert!(
        run.stdout
            .contains("matched no document in this template; set skipEmptyTemplates: true"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Tests: 1 passed, 1 failed"),
        "{}",
        run.stdout
    );
}
