//! The shipped charts with the shipped values files: every combination renders, lints clean
//! under `--strict`, and behaves as the files promise. Also the chart behaviours that need more
//! than one render (checksums, passwords kept across upgrades, dependency conditions).

mod common;

use common::{COMBINATIONS, repo};

use common::{documents, stoke_in};
use serde_yaml::Value;

fn template(args: &[&str]) -> Vec<Value> {
    let run = stoke_in(&repo(), args).expect(0);
    documents(&run.stdout)
}

/// Writes a values file into a fresh temporary folder (kept alive by the returned guard).
fn values_file(text: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("values.yaml");
    std::fs::write(&path, text).unwrap();
    let path = path.display().to_string();
    (dir, path)
}

fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"].as_str() == Some(kind) && d["metadata"]["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("no {kind} {name} among the rendered documents"))
}

#[test]
fn every_values_file_renders_complete_documents_with_its_chart() {
    for (chart, values) in COMBINATIONS {
        let docs = template(&["template", "site", chart, "-f", values, "--strict"]);
        assert!(
            docs.len() >= 6,
            "{chart} with {values}: only {} documents",
            docs.len()
        );
        for d in &docs {
            for field in ["apiVersion", "kind"] {
                assert!(
                    d[field].is_string(),
                    "{chart} with {values}: a document lacks {field}"
                );
            }
            assert!(
                d["metadata"]["name"].is_string(),
                "{chart} with {values}: a document lacks metadata.name"
            );
        }
    }
}

#[test]
fn every_values_file_passes_strict_lint_with_its_chart() {
    for (chart, values) in COMBINATIONS {
        let run = stoke_in(&repo(), &["lint", chart, "-f", values, "--strict"]);
        assert_eq!(
            run.code, 0,
            "{chart} with {values}:\n{}\n{}",
            run.stdout, run.stderr
        );
        assert!(
            !run.stdout.contains("[WARNING]") && !run.stdout.contains("[ERROR]"),
            "{chart} with {values}:\n{}",
            run.stdout
        );
    }
}

#[test]
fn lint_warns_that_a_gateway_without_the_eula_waits_for_commissioning() {
    let run = stoke_in(&repo(), &["lint", "charts/ignition", "--strict"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains("commissioning.acceptIgnitionEULA"),
        "{}",
        run.stdout
    );
}

#[test]
fn dev_values_run_one_small_gateway_without_tls() {
    let docs = template(&[
        "template",
        "dev",
        "charts/ignition",
        "-f",
        "values/dev.yaml",
    ]);
    let sts = find(&docs, "StatefulSet", "dev-ignition-gateway");
    assert_eq!(sts["spec"]["replicas"], 1);
    assert_eq!(
        sts["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"],
        "1Gi"
    );
    let ingress = find(&docs, "Ingress", "dev-ignition");
    assert!(ingress["spec"]["tls"].is_null());
    assert!(!docs.iter().any(|d| d["kind"] == "Certificate"));
}

#[test]
fn edge_values_pin_node_ports_and_use_the_edge_edition() {
    let docs = template(&[
        "template",
        "edge",
        "charts/ignition",
        "-f",
        "values/edge.yaml",
    ]);
    let svc = find(&docs, "Service", "edge-ignition");
    assert_eq!(svc["spec"]["type"], "NodePort");
    assert_eq!(svc["spec"]["ports"][0]["nodePort"], 30088);
    let base = find(&docs, "ConfigMap", "edge-ignition-config-base");
    assert_eq!(base["data"]["IGNITION_EDITION"], "edge");
    assert!(!docs.iter().any(|d| d["kind"] == "Ingress"));
}

#[test]
fn eks_values_put_the_front_ends_behind_a_sticky_internet_facing_alb() {
    let docs = template(&[
        "template",
        "site",
        "charts/ignition-scaleout",
        "-f",
        "values/scaleout-eks.yaml",
    ]);
    let ingress = find(&docs, "Ingress", "site-frontend");
    let a = &ingress["metadata"]["annotations"];
    assert_eq!(ingress["spec"]["ingressClassName"], "alb");
    assert_eq!(a["alb.ingress.kubernetes.io/scheme"], "internet-facing");
    assert_eq!(a["alb.ingress.kubernetes.io/ssl-redirect"], "443");
    assert!(
        a["alb.ingress.kubernetes.io/target-group-attributes"]
            .as_str()
            .unwrap()
            .contains("stickiness.enabled=true")
    );
    assert!(a["alb.ingress.kubernetes.io/certificate-arn"].is_string());
    assert!(
        a.as_mapping().unwrap().values().all(|v| v.is_string()),
        "every annotation has a value: {a:?}"
    );
}

#[test]
fn scaleout_shares_one_ca_issuer_named_by_global_values() {
    let docs = template(&[
        "template",
        "site",
        "charts/ignition-scaleout",
        "-f",
        "values/scaleout.yaml",
    ]);
    let issuer = find(&docs, "Issuer", "site-gan-ca");
    assert_eq!(issuer["spec"]["ca"]["secretName"], "site-gan-ca");
    for role in ["backend", "frontend"] {
        let cert = find(&docs, "Certificate", &format!("site-{role}-gan"));
        assert_eq!(cert["spec"]["issuerRef"]["name"], "site-gan-ca", "{role}");
    }
    let frontends = find(&docs, "StatefulSet", "site-frontend-gateway");
    assert_eq!(frontends["spec"]["replicas"], 3);
}

#[test]
fn scaleout_conditions_switch_the_aliased_gateway_charts_off() {
    let (_d1, no_frontend) = values_file("frontend:\n  enabled: false\n");
    let docs = template(&[
        "template",
        "site",
        "charts/ignition-scaleout",
        "-f",
        &no_frontend,
    ]);
    assert!(
        docs.iter()
            .all(|d| !d["metadata"]["name"].as_str().unwrap().contains("frontend")),
        "no front-end resources"
    );
    find(&docs, "StatefulSet", "site-backend-gateway");
    let (_d2, neither) = values_file("backend:\n  enabled: false\nfrontend:\n  enabled: false\n");
    let docs = template(&[
        "template",
        "site",
        "charts/ignition-scaleout",
        "-f",
        &neither,
    ]);
    let kinds: Vec<&str> = docs.iter().map(|d| d["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["Certificate", "Issuer", "Issuer"],
        "only the CA is left"
    );
}

#[test]
fn config_checksum_follows_the_configuration() {
    let checksum = |values: &str| {
        let (_dir, file) = values_file(values);
        let args = [
            "template",
            "rel",
            "charts/ignition",
            "-s",
            "templates/statefulset.yaml",
            "-f",
            &file,
        ];
        let docs = template(&args);
        docs[0]["metadata"]["annotations"]["checksum/config"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let base = checksum("{}");
    assert_eq!(base, checksum("{}"), "stable for the same values");
    assert_eq!(
        base,
        checksum("gateway:\n  replicas: 2\n  systemNameUseIndexed: false\n"),
        "the replica count is not configuration"
    );
    assert_ne!(base, checksum("commissioning:\n  edition: edge\n"));
    assert_ne!(base, checksum("gateway:\n  loggers:\n    a: DEBUG\n"));
}

#[test]
fn generated_admin_password_survives_an_upgrade() {
    use stoke::engine::{Manifest, ReleaseInfo, RenderOptions, render};
    let chart = stoke::chart::load::load(&repo().join("charts/ignition")).unwrap();
    let values = stoke::resolve::compute_values(&chart, &Default::default())
        .unwrap()
        .values;
    let tree = stoke::resolve::resolve(&chart, &Default::default()).unwrap();
    let first = render(&tree, &values, &RenderOptions::default()).unwrap();
    let secret = first
        .manifests
        .iter()
        .find(|m| m.kind == "Secret")
        .expect("a generated admin Secret")
        .clone();
    let password = |m: &Manifest| -> String {
        let doc: Value = serde_yaml::from_str(&m.body).unwrap();
        doc["data"]["gateway-admin-password"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let opts = RenderOptions {
        release: ReleaseInfo {
            revision: 2,
            is_install: false,
            is_upgrade: true,
            ..ReleaseInfo::default()
        },
        deployed: vec![secret.clone()],
        ..RenderOptions::default()
    };
    let upgrade = render(&tree, &values, &opts).unwrap();
    let again = upgrade
        .manifests
        .iter()
        .find(|m| m.kind == "Secret")
        .unwrap();
    assert_eq!(password(again), password(&secret));
    let fresh = render(&tree, &values, &RenderOptions::default()).unwrap();
    let other = fresh.manifests.iter().find(|m| m.kind == "Secret").unwrap();
    assert_ne!(
        password(other),
        password(&secret),
        "a new install draws a new password"
    );
}

#[test]
fn scaleout_packages_with_the_linked_gateway_chart_inside_and_renders_from_the_archive() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().display().to_string();
    stoke_in(
        &repo(),
        &["package", "charts/ignition-scaleout", "-d", &out],
    )
    .expect(0);
    let archive = tmp.path().join("ignition-scaleout-0.1.0.tgz");
    assert!(archive.is_file(), "the package is written");
    let archive = archive.display().to_string();
    let from_archive = template(&["template", "site", &archive, "-f", "values/scaleout.yaml"]);
    let from_dir = template(&[
        "template",
        "site",
        "charts/ignition-scaleout",
        "-f",
        "values/scaleout.yaml",
    ]);
    let names = |docs: &[Value]| -> Vec<String> {
        docs.iter()
            .map(|d| {
                format!(
                    "{}/{}",
                    d["kind"].as_str().unwrap(),
                    d["metadata"]["name"].as_str().unwrap()
                )
            })
            .collect()
    };
    assert_eq!(names(&from_archive), names(&from_dir));
}
