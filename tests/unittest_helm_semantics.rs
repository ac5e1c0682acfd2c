//! `stoke unittest` gives each assertion helm-unittest's meaning where a value is null, a
//! path is absent or a template renders several documents (checked against
//! helm-unittest's validators and their tests), and reads suites as helm-unittest does:
//! go-yaml v3 scalars (`0755` is octal) and merge keys. Also `includeCrds` and
//! `skip.minimumVersion`, and merge keys in values files as Helm resolves them.

mod common;

use common::{chart, stoke_in};

const APP: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
  annotations:
spec:
  replicas: 2
  template:
    spec:
      volumes:
        - name: scripts
          configMap:
            name: scripts
            defaultMode: 0755
"#;

const TWO: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n";

const EMPTY: &str =
    "{% if values.never %}apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: never\n{% endif %}";

const CRD: &str = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\n";

const HOLDS: &str = r#"x-name: &name {path: metadata.name, value: other}
suite: helm-unittest semantics hold
templates: [app.yaml, two.yaml, empty.yaml]
tests:
  - it: reads isNull as notExists and isNotNull as exists
    template: app.yaml
    asserts:
      - isNotNull: {path: metadata.annotations}
      - isNull: {path: metadata.labels}
      - equal: {path: metadata.annotations, value: null}
  - it: lets isNotEmpty pass on a path that leads nowhere
    template: app.yaml
    asserts:
      - isNotEmpty: {path: spec.missing}
      - isNotNullOrEmpty: {path: spec.missing}
  - it: needs every document for containsDocument unless any is set
    template: two.yaml
    asserts:
      - containsDocument: {kind: ConfigMap, apiVersion: v1}
      - containsDocument: {kind: ConfigMap, apiVersion: v1, name: a, any: true}
      - containsDocument: {kind: ConfigMap, apiVersion: v1, name: a}
        not: true
  - it: never holds contains with count 0, so its negation passes
    template: app.yaml
    asserts:
      - notContains:
          path: spec.template.spec.volumes
          content: {name: nope}
          count: 0
  - it: reads 0755 in suites and rendered documents as the octal number 493
    template: app.yaml
    asserts:
      - equal: {path: "spec.template.spec.volumes[0].configMap.defaultMode", value: 493}
      - contains:
          path: spec.template.spec.volumes
          content: {name: scripts, configMap: {name: scripts, defaultMode: 0755}}
  - it: resolves merge keys, the mapping's own keys winning
    template: app.yaml
    asserts:
      - equal:
          <<: *name
          value: app
      - notEqual: *name
  - it: passes matchSnapshot when there is no document to snapshot
    template: empty.yaml
    asserts:
      - matchSnapshot: {}
"#;

const FAILS: &str = r#"suite: helm-unittest semantics fail
templates: [app.yaml, two.yaml]
tests:
  - it: isNull on a null value
    template: app.yaml
    asserts:
      - isNull: {path: metadata.annotations}
  - it: isEmpty on an absent path
    template: app.yaml
    asserts:
      - isEmpty: {path: spec.missing}
  - it: containsDocument matching one of two
    template: two.yaml
    asserts:
      - containsDocument: {kind: ConfigMap, apiVersion: v1, name: a}
  - it: contains with count 0
    template: app.yaml
    asserts:
      - contains:
          path: spec.template.spec.volumes
          content: {name: nope}
          count: 0
  - it: a whole number against a decimal
    template: app.yaml
    asserts:
      - greaterOrEqual: {path: spec.replicas, value: 1.5}
"#;

fn fixture(root: &std::path::Path, suites: &[(&str, &str)]) -> std::path::PathBuf {
    let mut files = vec![
        ("templates/app.yaml", APP),
        ("templates/two.yaml", TWO),
        ("templates/empty.yaml", EMPTY),
        ("crds/widget.yaml", CRD),
    ];
    files.extend_from_slice(suites);
    chart(root, "sem", &files)
}

#[test]
fn assertions_hold_where_helm_unittest_says_they_hold() {
    let dir = tempfile::tempdir().unwrap();
    let c = fixture(dir.path(), &[("tests/holds_test.yaml", HOLDS)]);
    let run = stoke_in(dir.path(), &["unittest", c.to_str().unwrap()]).expect(0);
    assert!(
        run.stdout.contains("Tests: 7 passed, 0 failed"),
        "{}",
        run.stdout
    );
    assert!(
        !c.join("tests/__snapshot__").exists(),
        "no snapshot is taken without a document"
    );
}

#[test]
fn assertions_fail_where_helm_unittest_says_they_fail() {
    let dir = tempfile::tempdir().unwrap();
    let c = fixture(dir.path(), &[("tests/fails_test.yaml", FAILS)]);
    let run = stoke_in(dir.path(), &["unittest", c.to_str().unwrap()]).expect(1);
    let out = &run.stdout;
    assert!(out.contains("Tests: 0 passed, 5 failed"), "{out}");
    for want in [
        "Expected NOT to exist",
        "unknown path `spec.missing`: it leads to no value",
        "Expected every selected document to be",
        "Expected to contain 0 time(s) (found 0)",
        "cannot compare int with float64",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
}

#[test]
fn include_crds_puts_the_crds_files_in_scope() {
    let dir = tempfile::tempdir().unwrap();
    let suite = "includeCrds: true\ntemplates: [app.yaml]\ntests:\n  - it: sees the CRD\n    asserts:\n      - containsDocument: {kind: CustomResourceDefinition, apiVersion: apiextensions.k8s.io/v1, name: widgets.example.com}\n        template: crds/widget.yaml\n      - hasDocuments: {count: 1}\n        template: crds/widget.yaml\n";
    let without = "templates: [app.yaml]\ntests:\n  - it: does not see the CRD\n    asserts:\n      - isKind: {of: CustomResourceDefinition}\n        template: crds/widget.yaml\n";
    let c = fixture(
        dir.path(),
        &[
            ("tests/crd_test.yaml", suite),
            ("tests/nocrd_test.yaml", without),
        ],
    );
    let run = stoke_in(dir.path(), &["unittest", c.to_str().unwrap()]).expect(1);
    assert!(
        run.stdout.contains(" PASS  crd_test.yaml"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(" FAIL  nocrd_test.yaml"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_minimum_version_skips_only_suites_for_a_newer_helm_unittest() {
    let dir = tempfile::tempdir().unwrap();
    let old = "skip: {minimumVersion: 0.8.0}\ntemplates: [app.yaml]\ntests:\n  - it: runs\n    asserts:\n      - isKind: {of: Deployment}\n";
    let new = "skip: {minimumVersion: 9.0.0}\ntemplates: [app.yaml]\ntests:\n  - it: waits\n    asserts:\n      - isKind: {of: Deployment}\n";
    let c = fixture(
        dir.path(),
        &[("tests/old_test.yaml", old), ("tests/new_test.yaml", new)],
    );
    let run = stoke_in(dir.path(), &["unittest", c.to_str().unwrap()]).expect(0);
    assert!(
        run.stdout.contains("Tests: 1 passed, 0 failed, 1 skipped"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("requires helm-unittest 9.0.0"),
        "{}",
        run.stdout
    );
}

/// Helm reads values files with go-yaml v2 (through sigs.k8s.io/yaml): merge keys apply in
/// the order written, so a key before `<<` is overwritten. The expected values are what
/// real Helm (helm-python-sdk) rendered for this values.yaml with `toJson .Values`.
#[test]
fn values_files_resolve_merge_keys_as_helm_does() {
    let dir = tempfile::tempdir().unwrap();
    let values = "base: &base\n  a: 1\n  b: 2\nother: &other\n  b: 20\n  c: 30\nexplicitFirst:\n  a: 100\n  <<: *base\nexplicitLast:\n  <<: *base\n  a: 100\nseq:\n  <<: [*base, *other]\n";
    let c = chart(dir.path(), "mk", &[("values.yaml", values)]);
    let run = stoke_in(dir.path(), &["values", c.to_str().unwrap(), "-o", "json"]).expect(0);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["explicitFirst"], serde_json::json!({"a": 1, "b": 2}));
    assert_eq!(v["explicitLast"], serde_json::json!({"a": 100, "b": 2}));
    assert_eq!(v["seq"], serde_json::json!({"a": 1, "b": 2, "c": 30}));
    assert_eq!(v["base"], serde_json::json!({"a": 1, "b": 2}));
}
