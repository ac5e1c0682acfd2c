//! What running the Ignition charts for years needs (issue 16), rendered through the built
//! binary: certificate lifecycle, custom keystore passphrases, backup restore, disruption
//! budgets, network isolation, Pod Security "restricted" with values/hardened*.yaml, redundancy
//! tuning, the gwinfo test hook, values the official chart accepts, and the scale-out admin
//! password and ingress settings. The container scripts behind these are run in
//! tests/charts_scripts.rs; schema validation of these renders is at the end of this file.

mod common;

use common::{COMBINATIONS, documents, repo, stoke_in};
use serde_yaml::Value;

/// `stoke template site CHART -f FILE...`, which must succeed; returns the documents and stderr.
fn render(chart: &str, files: &[&str], extra: &[&str]) -> (Vec<Value>, String) {
    let mut args = vec!["template", "site", chart];
    for f in files {
        args.extend(["-f", f]);
    }
    args.extend(extra);
    let run = stoke_in(&repo(), &args).expect(0);
    (documents(&run.stdout), run.stderr)
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
        .unwrap_or_else(|| {
            let have: Vec<String> = docs
                .iter()
                .map(|d| {
                    format!(
                        "{}/{}",
                        d["kind"].as_str().unwrap_or("?"),
                        d["metadata"]["name"].as_str().unwrap_or("?")
                    )
                })
                .collect();
            panic!("no {kind} {name} among {have:?}")
        })
}

fn kinds<'a>(docs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    docs.iter()
        .filter(|d| d["kind"].as_str() == Some(kind))
        .collect()
}

fn container<'a>(pod: &'a Value, list: &str, name: &str) -> &'a Value {
    pod[list]
        .as_sequence()
        .and_then(|s| s.iter().find(|c| c["name"].as_str() == Some(name)))
        .unwrap_or_else(|| panic!("no {list} entry {name}"))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_sequence()
        .map(|s| {
            s.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

const ALL: &str = "tests/production/all-features.yaml";
const ALL_SCALEOUT: &str = "tests/production/all-features-scaleout.yaml";

// 1. Certificate lifecycle

#[test]
fn the_scaleout_ca_keeps_its_key_across_renewals() {
    let (docs, _) = render("charts/ignition-scaleout", &["values/scaleout.yaml"], &[]);
    let ca = find(&docs, "Certificate", "site-gan-ca");
    assert_eq!(ca["spec"]["privateKey"]["rotationPolicy"], "Never");
    // Leaves keep getting new keys: the CA that signs them stays the same.
    let leaf = find(&docs, "Certificate", "site-frontend-gan");
    assert_eq!(leaf["spec"]["privateKey"]["rotationPolicy"], "Always");
}

#[test]
fn the_gateway_chart_ca_rotation_policy_is_the_official_default_unless_set() {
    let (docs, _) = render(
        "charts/ignition",
        &[],
        &["--set", "certManager.enabled=true"],
    );
    let ca = find(&docs, "Certificate", "site-ignition-gan-issuer");
    assert_eq!(ca["spec"]["privateKey"]["rotationPolicy"], "Always");
    let (docs, _) = render("charts/ignition", &["values/redundant.yaml"], &[]);
    let ca = find(&docs, "Certificate", "site-ignition-gan-issuer");
    assert_eq!(ca["spec"]["privateKey"]["rotationPolicy"], "Never");
}

#[test]
fn renewed_certificates_roll_the_gateways_through_a_narrowly_allowed_cronjob() {
    let (docs, _) = render("charts/ignition", &[ALL], &[]);
    let job = find(&docs, "CronJob", "site-ignition-cert-restart");
    let pod = &job["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], "site-ignition-cert-restart");
    let c = container(pod, "containers", "restart-on-renewal");
    assert_eq!(
        strings(&c["args"]),
        [
            "-s",
            "site-ignition-gateway",
            "/run/secrets/gan-tls",
            "/run/secrets/gan-issuer-tls",
            "/run/secrets/web-tls"
        ]
    );
    // The pod mounts the very Secrets the gateways build their keystores from.
    let sts = find(&docs, "StatefulSet", "site-ignition-gateway");
    let secret_of = |pod: &Value, volume: &str| -> String {
        pod["volumes"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|v| v["name"] == volume)
            .map(|v| v["secret"]["secretName"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("no volume {volume}"))
    };
    for volume in ["gan-tls", "gan-issuer-tls", "web-tls"] {
        assert_eq!(
            secret_of(pod, volume),
            secret_of(&sts["spec"]["template"]["spec"], volume),
            "{volume}"
        );
    }
    let role = find(&docs, "Role", "site-ignition-cert-restart");
    assert_eq!(
        serde_yaml::to_string(&role["rules"]).unwrap(),
        "- apiGroups:\n  - apps\n  resources:\n  - statefulsets\n  resourceNames:\n  - site-ignition-gateway\n  verbs:\n  - get\n  - patch\n"
    );
    let binding = find(&docs, "RoleBinding", "site-ignition-cert-restart");
    assert_eq!(binding["subjects"][0]["name"], "site-ignition-cert-restart");
    assert_eq!(binding["subjects"][0]["namespace"], "default");
}

#[test]
fn the_scaleout_values_restart_both_tiers_on_renewal_by_default() {
    let (docs, _) = render("charts/ignition-scaleout", &["values/scaleout.yaml"], &[]);
    for tier in ["backend", "frontend"] {
        find(&docs, "CronJob", &format!("site-{tier}-cert-restart"));
        find(&docs, "Role", &format!("site-{tier}-cert-restart"));
    }
    let (docs, _) = render("charts/ignition", &["values/dev.yaml"], &[]);
    assert!(
        kinds(&docs, "CronJob").is_empty() && kinds(&docs, "Role").is_empty(),
        "off unless asked for in the gateway chart"
    );
}

// 2. Keystore passphrases

#[test]
fn a_passphrase_secret_of_your_own_reaches_every_certificate_script() {
    let (docs, _) = render("charts/ignition", &[ALL], &[]);
    let sts = find(&docs, "StatefulSet", "site-ignition-gateway");
    let pre = container(
        &sts["spec"]["template"]["spec"],
        "initContainers",
        "preconfigure",
    );
    let env = serde_yaml::to_string(&pre["env"]).unwrap();
    for (var, secret, key) in [
        (
            "GAN_KEYSTORE_PASSPHRASE",
            "gan-keystore-passphrase",
            "metro-keystore-password",
        ),
        (
            "WEB_KEYSTORE_PASSPHRASE",
            "web-keystore-passphrase",
            "tls-keystore-password",
        ),
    ] {
        assert!(
            env.contains(&format!(
                "- name: {var}\n  valueFrom:\n    secretKeyRef:\n      name: {secret}\n      key: {key}\n"
            )),
            "{var} in\n{env}"
        );
    }
    for kind in ["gan", "tls"] {
        let job = find(
            &docs,
            "CronJob",
            &format!("site-ignition-gateway-0-{kind}-cert-refresh"),
        );
        let c = &job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0];
        let var = if kind == "gan" {
            "GAN_KEYSTORE_PASSPHRASE"
        } else {
            "WEB_KEYSTORE_PASSPHRASE"
        };
        assert_eq!(c["env"][0]["name"], var, "{kind} rotation job");
        assert_eq!(c["env"].as_sequence().unwrap().len(), 1);
    }
    // The chart's own passphrase Secrets hold what the scripts assume: no variable, as the
    // official chart renders it.
    let (docs, _) = render(
        "charts/ignition",
        &[],
        &["--set", "certManager.enabled=true,gateway.tls.enabled=true"],
    );
    let sts = find(&docs, "StatefulSet", "site-ignition-gateway");
    let pre = container(
        &sts["spec"]["template"]["spec"],
        "initContainers",
        "preconfigure",
    );
    assert!(pre["env"].is_null(), "{:?}", pre["env"]);
}

// 4. Restore

#[test]
fn a_backup_is_restored_by_an_init_container_that_runs_before_seeding() {
    let (docs, _) = render("charts/ignition", &[ALL], &[]);
    let sts = find(&docs, "StatefulSet", "site-ignition-gateway");
    let pod = &sts["spec"]["template"]["spec"];
    let names: Vec<&str> = pod["initContainers"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["restore-backup", "preconfigure"]);
    let restore = container(pod, "initContainers", "restore-backup");
    assert_eq!(
        strings(&restore["command"]),
        ["/config/optional-scripts/prepare-restore.sh"]
    );
    assert_eq!(
        strings(&restore["args"]),
        [
            "-d",
            "/data",
            "-u",
            "https://backups.example.com/site.gwbk",
            "-p"
        ],
        "redundant: only the primary restores"
    );
    assert_eq!(
        restore["env"][1]["valueFrom"]["secretKeyRef"]["name"],
        "backup-credentials"
    );
    // With cert-manager the staged backup is made to trust the Gateway Network CA.
    let pre = container(pod, "initContainers", "preconfigure");
    assert!(
        strings(&pre["args"]).contains(
            &"/config/scripts/prepare-gan-certificates.sh -g /data/.stoke-restore/gateway.gwbk"
                .to_string()
        )
    );
    find(&docs, "ConfigMap", "site-ignition-config-optional-scripts");

    let (_d, claim) = values_file(
        "gateway:\n  restore:\n    enabled: true\n    persistentVolumeClaim: backups\n    file: /plant/site.gwbk\n",
    );
    let (docs, _) = render("charts/ignition", &[&claim], &[]);
    let pod = &find(&docs, "StatefulSet", "site-ignition-gateway")["spec"]["template"]["spec"];
    let restore = container(pod, "initContainers", "restore-backup");
    assert_eq!(
        strings(&restore["args"]),
        ["-d", "/data", "-f", "/restore/plant/site.gwbk"]
    );
    let volume = pod["volumes"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "restore-backup")
        .unwrap();
    assert_eq!(volume["persistentVolumeClaim"]["claimName"], "backups");
    assert_eq!(volume["persistentVolumeClaim"]["readOnly"], true);
}

#[test]
fn a_restore_without_a_single_source_is_refused_with_what_to_set() {
    for (values, says) in [
        (
            "gateway:\n  restore:\n    enabled: true\n",
            "no backup is named",
        ),
        (
            "gateway:\n  restore:\n    enabled: true\n    url: https://x/a.gwbk\n    persistentVolumeClaim: c\n    file: a.gwbk\n",
            "not both",
        ),
        (
            "gateway:\n  restore:\n    enabled: true\n    persistentVolumeClaim: c\n",
            "needs both persistentVolumeClaim",
        ),
    ] {
        let (_d, file) = values_file(values);
        let run = stoke_in(
            &repo(),
            &["template", "site", "charts/ignition", "-f", &file],
        );
        assert_eq!(run.code, 1, "{values}");
        assert!(run.stderr.contains(says), "{values}\n{}", run.stderr);
    }
}

// 5. Disruption budgets and network isolation

#[test]
fn disruption_budgets_let_one_gateway_go_at_a_time() {
    let (docs, _) = render("charts/ignition-scaleout", &["values/scaleout.yaml"], &[]);
    for tier in ["backend", "frontend"] {
        let pdb = find(
            &docs,
            "PodDisruptionBudget",
            &format!("site-{tier}-gateway"),
        );
        assert_eq!(pdb["spec"]["maxUnavailable"], 1, "{tier}");
        let sts = find(&docs, "StatefulSet", &format!("site-{tier}-gateway"));
        assert_eq!(
            pdb["spec"]["selector"]["matchLabels"], sts["spec"]["selector"]["matchLabels"],
            "{tier}"
        );
    }
    let (docs, _) = render(
        "charts/ignition",
        &[],
        &[
            "--set",
            "podDisruptionBudget.enabled=true,podDisruptionBudget.minAvailable=50%",
        ],
    );
    let pdb = find(&docs, "PodDisruptionBudget", "site-ignition-gateway");
    assert_eq!(pdb["spec"]["minAvailable"], "50%");
    assert!(pdb["spec"]["maxUnavailable"].is_null());
    let run = stoke_in(
        &repo(),
        &[
            "template",
            "site",
            "charts/ignition",
            "--set",
            "podDisruptionBudget.enabled=true,podDisruptionBudget.minAvailable=1,podDisruptionBudget.maxUnavailable=1",
        ],
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("keep minAvailable or maxUnavailable"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_network_policy_opens_the_gateway_network_only_between_the_release_gateways() {
    let (docs, _) = render(
        "charts/ignition-scaleout",
        &["values/scaleout.yaml", "values/hardened-scaleout.yaml"],
        &[],
    );
    for tier in ["backend", "frontend"] {
        let np = find(&docs, "NetworkPolicy", &format!("site-{tier}-gateway"));
        let spec = &np["spec"];
        assert_eq!(
            spec["podSelector"]["matchLabels"]["app.kubernetes.io/name"],
            tier
        );
        assert_eq!(strings(&spec["policyTypes"]), ["Ingress", "Egress"]);
        let release = serde_yaml::from_str::<Value>(
            "podSelector: {matchLabels: {app.kubernetes.io/instance: site}}",
        )
        .unwrap();
        let web = &spec["ingress"][0];
        assert_eq!(
            web["from"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
            "ingress-nginx"
        );
        assert_eq!(web["from"][1], release);
        assert_eq!(web["ports"][0]["port"], 8088);
        assert_eq!(web["ports"][1]["port"], 8043);
        let gan = &spec["ingress"][1];
        assert_eq!(gan["from"].as_sequence().unwrap().len(), 1);
        assert_eq!(gan["from"][0], release);
        assert_eq!(gan["ports"][0]["port"], 8060);
        assert_eq!(gan["ports"].as_sequence().unwrap().len(), 1);
        let dns = &spec["egress"][0];
        assert_eq!(dns["ports"][0]["port"], 53);
        assert_eq!(dns["ports"][0]["protocol"], "UDP");
        assert_eq!(spec["egress"][1]["to"][0], release);
    }
    // Extra rules are appended as given.
    let (docs, _) = render("charts/ignition", &[ALL], &[]);
    let np = find(&docs, "NetworkPolicy", "site-ignition-gateway");
    assert_eq!(
        np["spec"]["egress"][2]["to"][0]["ipBlock"]["cidr"],
        "10.20.0.0/16"
    );
}

// 6. Pod Security "restricted"

/// Every pod template of a render: (where, pod spec).
fn pod_specs(docs: &[Value]) -> Vec<(String, &Value)> {
    let mut out = Vec::new();
    for d in docs {
        let name = format!(
            "{}/{}",
            d["kind"].as_str().unwrap(),
            d["metadata"]["name"].as_str().unwrap()
        );
        let spec = match d["kind"].as_str().unwrap() {
            "Pod" => &d["spec"],
            "StatefulSet" | "Deployment" | "DaemonSet" | "Job" | "ReplicaSet" => {
                &d["spec"]["template"]["spec"]
            }
            "CronJob" => &d["spec"]["jobTemplate"]["spec"]["template"]["spec"],
            _ => continue,
        };
        out.push((name, spec));
    }
    out
}

/// The problems Pod Security "restricted" (Kubernetes 1.29+) finds in one pod spec, plus a
/// read-only root filesystem for every container but the gateway itself. Returns the names of
/// the containers checked.
fn restricted_problems(spec: &Value, problems: &mut Vec<String>) -> Vec<String> {
    let pod_sc = &spec["securityContext"];
    for host in ["hostNetwork", "hostPID", "hostIPC"] {
        if spec[host] == true {
            problems.push(format!("{host} is set"));
        }
    }
    const VOLUMES: &[&str] = &[
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
    ];
    for v in spec["volumes"].as_sequence().into_iter().flatten() {
        let kinds: Vec<&str> = v
            .as_mapping()
            .unwrap()
            .keys()
            .filter_map(|k| k.as_str())
            .filter(|k| *k != "name")
            .collect();
        if !kinds.iter().all(|k| VOLUMES.contains(k)) {
            problems.push(format!("volume {:?} of type {kinds:?}", v["name"]));
        }
    }
    if pod_sc["runAsUser"] == 0 {
        problems.push("pod runs as UID 0".into());
    }
    let seccomp_ok = |sc: &Value| {
        matches!(
            sc["seccompProfile"]["type"].as_str(),
            Some("RuntimeDefault" | "Localhost")
        )
    };
    let mut names = Vec::new();
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        for c in spec[list].as_sequence().into_iter().flatten() {
            let name = c["name"].as_str().unwrap().to_string();
            let sc = &c["securityContext"];
            let mut fail = |what: &str| problems.push(format!("container {name}: {what}"));
            if sc["privileged"] == true {
                fail("privileged");
            }
            if sc["allowPrivilegeEscalation"] != false {
                fail("allowPrivilegeEscalation is not false");
            }
            if !strings(&sc["capabilities"]["drop"])
                .iter()
                .any(|d| d == "ALL")
            {
                fail("capabilities do not drop ALL");
            }
            if strings(&sc["capabilities"]["add"])
                .iter()
                .any(|a| a != "NET_BIND_SERVICE")
            {
                fail("adds capabilities other than NET_BIND_SERVICE");
            }
            if !(sc["runAsNonRoot"] == true
                || (pod_sc["runAsNonRoot"] == true && sc["runAsNonRoot"] != false))
            {
                fail("runAsNonRoot is not true");
            }
            if sc["runAsUser"] == 0 {
                fail("runs as UID 0");
            }
            if !(seccomp_ok(sc) || (seccomp_ok(pod_sc) && sc["seccompProfile"].is_null())) {
                fail("no RuntimeDefault or Localhost seccomp profile");
            }
            for p in c["ports"].as_sequence().into_iter().flatten() {
                if !p["hostPort"].is_null() && p["hostPort"] != 0 {
                    fail("uses a host port");
                }
            }
            if name != "gateway" && sc["readOnlyRootFilesystem"] != true {
                fail("root filesystem is writable");
            }
            names.push(name);
        }
    }
    names
}

#[test]
fn hardened_values_put_every_container_of_every_render_under_restricted_pod_security() {
    let mut renders: Vec<(String, Vec<&str>)> = Vec::new();
    for (chart, values) in COMBINATIONS {
        let overlay = if chart.ends_with("scaleout") {
            "values/hardened-scaleout.yaml"
        } else {
            "values/hardened.yaml"
        };
        renders.push((chart.to_string(), vec![values, overlay]));
    }
    renders.push(("charts/ignition".into(), vec![ALL, "values/hardened.yaml"]));
    renders.push((
        "charts/ignition".into(),
        vec!["tests/production/sidecars.yaml", "values/hardened.yaml"],
    ));
    renders.push((
        "charts/ignition-scaleout".into(),
        vec![
            "values/scaleout.yaml",
            ALL_SCALEOUT,
            "values/hardened-scaleout.yaml",
        ],
    ));
    let mut problems = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (chart, files) in &renders {
        let (docs, _) = render(chart, files, &[]);
        let pods = pod_specs(&docs);
        assert!(!pods.is_empty(), "{chart} {files:?} renders no pods");
        for (where_, spec) in pods {
            let mut found = Vec::new();
            for c in restricted_problems(spec, &mut found) {
                seen.insert(c);
            }
            problems.extend(
                found
                    .into_iter()
                    .map(|p| format!("{chart} {files:?} {where_}: {p}")),
            );
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let expected = [
        "gateway",
        "preconfigure",
        "restore-backup",
        "rotate-certs",
        "restart-on-renewal",
        "gwinfo",
        "log-shipper",
        "wait-for-database",
    ];
    for name in expected {
        assert!(
            seen.contains(name),
            "container {name} was never checked: {seen:?}"
        );
    }
}

#[test]
fn without_hardened_values_the_checker_does_find_the_gaps() {
    let (docs, _) = render("charts/ignition", &[ALL], &[]);
    let mut problems = Vec::new();
    for (_, spec) in pod_specs(&docs) {
        restricted_problems(spec, &mut problems);
    }
    assert!(
        problems
            .iter()
            .any(|p| p.contains("allowPrivilegeEscalation")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("seccomp")),
        "{problems:?}"
    );
}

#[test]
fn a_read_only_root_gives_the_helper_containers_their_own_tmp() {
    let (docs, _) = render("charts/ignition", &[ALL, "values/hardened.yaml"], &[]);
    for (where_, spec) in pod_specs(&docs) {
        for list in ["initContainers", "containers"] {
            for c in spec[list].as_sequence().into_iter().flatten() {
                if c["name"] == "gateway"
                    || c["name"] == "gwinfo"
                    || c["name"] == "restart-on-renewal"
                {
                    continue;
                }
                let mounts = serde_yaml::to_string(&c["volumeMounts"]).unwrap();
                assert!(
                    mounts.contains("mountPath: /tmp"),
                    "{where_} {:?}",
                    c["name"]
                );
            }
        }
    }
    let sts = find(&docs, "StatefulSet", "site-ignition-gateway");
    let gateway = container(&sts["spec"]["template"]["spec"], "containers", "gateway");
    assert_eq!(gateway["securityContext"]["readOnlyRootFilesystem"], false);
    assert_eq!(
        gateway["securityContext"]["allowPrivilegeEscalation"],
        false
    );
}

// 7. Redundancy tuning

#[test]
fn redundancy_tuning_reaches_the_redundancy_preparation() {
    let (docs, _) = render("charts/ignition", &[ALL], &[]);
    let sts = find(&docs, "StatefulSet", "site-ignition-gateway");
    let pre = container(
        &sts["spec"]["template"]["spec"],
        "initContainers",
        "preconfigure",
    );
    let command = strings(&pre["args"])
        .into_iter()
        .find(|a| a.contains("prepare-redundancy.sh"))
        .unwrap();
    assert_eq!(
        command,
        "/config/scripts/prepare-redundancy.sh -g \"site-ignition-gateway-0.site-ignition\" -s redundancy.backupfailovertimeout=15000 -s redundancy.gan.pingRate=500 -s redundancy.masterrecoverymode=Manual -s redundancy.standbyactivitylevel=Warm -v"
    );
    let (docs, _) = render("charts/ignition", &["values/redundant.yaml"], &[]);
    let sts = find(&docs, "StatefulSet", "site-ignition-gateway");
    let pre = container(
        &sts["spec"]["template"]["spec"],
        "initContainers",
        "preconfigure",
    );
    assert!(
        !strings(&pre["args"]).iter().any(|a| a.contains(" -s ")),
        "no tuning: the official chart's arguments"
    );
}

#[test]
fn redundancy_tuning_outside_the_known_words_is_refused_by_the_schema() {
    for set in [
        "gateway.redundancy.standbyActivityLevel=Lukewarm",
        "gateway.redundancy.settings.gan\\.pingRate=5",
    ] {
        let run = stoke_in(
            &repo(),
            &["template", "site", "charts/ignition", "--set", set],
        );
        assert_eq!(run.code, 1, "{set}");
        assert!(
            run.stderr.contains("gateway.redundancy"),
            "{set}: {}",
            run.stderr
        );
    }
}

// 8. The test hook

#[test]
fn template_renders_the_gwinfo_test_hook_as_helm_does() {
    let run = stoke_in(
        &repo(),
        &[
            "template",
            "site",
            "charts/ignition",
            "-f",
            "values/redundant.yaml",
        ],
    )
    .expect(0);
    assert!(
        run.stdout
            .contains("# Source: ignition/templates/tests/test-gwinfo.yaml\n"),
        "{}",
        run.stdout
    );
    let docs = documents(&run.stdout);
    let pod = find(&docs, "Pod", "site-ignition-test-gwinfo");
    assert_eq!(pod["metadata"]["annotations"]["helm.sh/hook"], "test");
    // After every manifest of the release, where `helm template` prints hooks.
    assert_eq!(
        docs.last().unwrap()["metadata"]["name"],
        "site-ignition-test-gwinfo"
    );
    assert_eq!(pod["spec"]["restartPolicy"], "Never");
    let c = &pod["spec"]["containers"][0];
    assert_eq!(strings(&c["command"])[..2], ["bash", "-c"]);
    assert!(strings(&c["command"])[2].contains("ContextStatus=RUNNING"));
    assert_eq!(
        strings(&c["args"]),
        [
            "http://site-ignition-primary:8088/system/gwinfo=Master",
            "http://site-ignition-backup:8088/system/gwinfo=Backup"
        ]
    );
    assert!(
        pod["spec"]["volumes"].is_null(),
        "self-contained: no volumes"
    );
    // Not one of the gateways: no Service selects it and the StatefulSet cannot adopt it.
    let sts = find(&docs, "StatefulSet", "site-ignition-gateway");
    let selector = sts["spec"]["selector"]["matchLabels"].as_mapping().unwrap();
    let labels = pod["metadata"]["labels"].as_mapping().unwrap();
    assert!(
        !selector.iter().all(|(k, v)| labels.get(k) == Some(v)),
        "{labels:?}"
    );

    let (docs, _) = render(
        "charts/ignition",
        &[],
        &["--set", "gateway.tls.enabled=true"],
    );
    let pod = find(&docs, "Pod", "site-ignition-test-gwinfo");
    assert_eq!(
        strings(&pod["spec"]["containers"][0]["args"]),
        ["https://site-ignition:8043/system/gwinfo=Independent"]
    );
}

// 9. Values the official chart accepts

#[test]
fn numeric_strings_and_an_empty_service_type_are_read_with_a_warning() {
    let (_d, file) = values_file("gateway:\n  replicas: \"3\"\nservice:\n  type: \"\"\n");
    let (docs, stderr) = render("charts/ignition", &[&file], &[]);
    let sts = find(&docs, "StatefulSet", "site-ignition-gateway");
    assert_eq!(sts["spec"]["replicas"], 3);
    let svc = find(&docs, "Service", "site-ignition");
    assert!(svc["spec"]["type"].is_null() || svc["spec"]["type"] == "ClusterIP");
    assert!(
        stderr.contains("`gateway.replicas`: read the string \"3\" as the number 3")
            && stderr.contains(&format!("{file}:2")),
        "{stderr}"
    );
    assert!(
        stderr.contains("`service.type`: read the empty string as the default \"ClusterIP\""),
        "{stderr}"
    );
    // The same reaches subcharts, with their section in the path.
    let (docs, stderr) = render(
        "charts/ignition-scaleout",
        &[],
        &["--set-string", "frontend.gateway.replicas=4"],
    );
    assert_eq!(
        find(&docs, "StatefulSet", "site-frontend-gateway")["spec"]["replicas"],
        4
    );
    assert!(
        stderr.contains("`frontend.gateway.replicas`: read the string \"4\""),
        "{stderr}"
    );
    // A word that is no number is still refused.
    let run = stoke_in(
        &repo(),
        &[
            "template",
            "site",
            "charts/ignition",
            "--set-string",
            "gateway.replicas=three",
        ],
    );
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("gateway.replicas"), "{}", run.stderr);
}

// 10. Scale-out

#[test]
fn the_scaleout_gateways_share_one_admin_password_and_the_notes_say_where() {
    let run = stoke_in(
        &repo(),
        &[
            "install",
            "site",
            "charts/ignition-scaleout",
            "-f",
            "values/scaleout.yaml",
            "--dry-run",
        ],
    )
    .expect(0);
    assert!(
        run.stdout
            .contains("kubectl get secret -n default site-gateway-admin-password"),
        "{}",
        run.stdout
    );
    let (docs, _) = render("charts/ignition-scaleout", &["values/scaleout.yaml"], &[]);
    let secrets: Vec<&str> = kinds(&docs, "Secret")
        .iter()
        .map(|s| s["metadata"]["name"].as_str().unwrap())
        .filter(|n| n.contains("admin"))
        .collect();
    assert_eq!(secrets, ["site-gateway-admin-password"]);
    for tier in ["backend", "frontend"] {
        let sts = find(&docs, "StatefulSet", &format!("site-{tier}-gateway"));
        let volumes = serde_yaml::to_string(&sts["spec"]["template"]["spec"]["volumes"]).unwrap();
        assert!(
            volumes.contains("name: site-gateway-admin-password"),
            "{tier}"
        );
    }
    // Turned off, each gateway has its own and the notes list both.
    let run = stoke_in(
        &repo(),
        &[
            "install",
            "site",
            "charts/ignition-scaleout",
            "--set",
            "global.ignition.sharedAdminSecret=false",
            "--dry-run",
        ],
    )
    .expect(0);
    for tier in ["backend", "frontend"] {
        assert!(
            run.stdout
                .contains(&format!("site-{tier}-gateway-admin-password")),
            "{}",
            run.stdout
        );
    }
}

#[test]
fn eks_values_carry_only_alb_annotations_and_the_notes_say_https() {
    let (docs, _) = render(
        "charts/ignition-scaleout",
        &["values/scaleout-eks.yaml"],
        &[],
    );
    let ingress = find(&docs, "Ingress", "site-frontend");
    let annotations = ingress["metadata"]["annotations"].as_mapping().unwrap();
    assert!(
        annotations.keys().all(|k| k
            .as_str()
            .unwrap()
            .starts_with("alb.ingress.kubernetes.io/")),
        "{annotations:?}"
    );
    let run = stoke_in(
        &repo(),
        &[
            "install",
            "site",
            "charts/ignition-scaleout",
            "-f",
            "values/scaleout-eks.yaml",
            "--dry-run",
        ],
    )
    .expect(0);
    assert!(
        run.stdout.contains("Clients: https://scada.example.com"),
        "{}",
        run.stdout
    );
}

#[test]
fn the_nginx_scaleout_ingress_takes_gateway_backup_and_module_uploads() {
    let (docs, _) = render("charts/ignition-scaleout", &["values/scaleout.yaml"], &[]);
    let a = &find(&docs, "Ingress", "site-frontend")["metadata"]["annotations"];
    assert_eq!(a["nginx.ingress.kubernetes.io/proxy-body-size"], "4096m");
    assert_eq!(a["nginx.ingress.kubernetes.io/affinity"], "cookie");
}

#[test]
fn the_scaleout_schema_embeds_the_gateway_schema_for_both_tiers() {
    let read = |p: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(repo().join(p)).unwrap()).unwrap()
    };
    let gateway = read("charts/ignition/values.schema.json");
    let umbrella = read("charts/ignition-scaleout/values.schema.json");
    let mut shared = gateway["properties"].as_object().unwrap().clone();
    shared.remove("global");
    shared.remove("_testing");
    for tier in ["backend", "frontend"] {
        let mut section = umbrella["properties"][tier]["properties"]
            .as_object()
            .unwrap()
            .clone();
        assert!(section.remove("enabled").is_some());
        assert!(
            section == shared,
            "{tier} differs from charts/ignition's schema: run .ci/sync-scaleout-schema"
        );
    }
}

// Every render above against the Kubernetes schemas.

#[test]
fn production_renders_pass_strict_kubernetes_validation() {
    if !common::require_tool("kubernetes-validate") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let renders: [(&str, &[&str]); 3] = [
        ("charts/ignition", &[ALL, "values/hardened.yaml"]),
        (
            "charts/ignition-scaleout",
            &[
                "values/scaleout.yaml",
                ALL_SCALEOUT,
                "values/hardened-scaleout.yaml",
            ],
        ),
        (
            "charts/ignition-scaleout",
            &["values/scaleout-eks.yaml", "values/hardened-scaleout.yaml"],
        ),
    ];
    let mut files = Vec::new();
    for (i, (chart, values)) in renders.iter().enumerate() {
        let dir = tmp.path().join(i.to_string());
        let dir_arg = dir.display().to_string();
        let mut args = vec!["template", "site", chart, "--output-dir", &dir_arg];
        for v in *values {
            args.extend(["-f", v]);
        }
        stoke_in(&repo(), &args).expect(0);
        collect(&dir, &mut files);
    }
    for version in [Some("1.29.0"), None] {
        let mut cmd = std::process::Command::new("kubernetes-validate");
        cmd.arg("--strict").arg("--quiet");
        if let Some(v) = version {
            cmd.args(["-k", v]);
        }
        let out = cmd.args(&files).output().unwrap();
        let report = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        let problems: Vec<&str> = report
            .lines()
            .filter(|l| !l.trim().is_empty())
            .filter(|l| !(l.contains("Couldn't find schema") && l.contains("cert-manager.io")))
            .collect();
        assert!(
            out.status.success() && problems.is_empty(),
            "kubernetes {}: {}",
            version.unwrap_or("newest"),
            problems.join("\n")
        );
    }
    for kind in [
        "PodDisruptionBudget",
        "NetworkPolicy",
        "Role",
        "CronJob",
        "Pod",
    ] {
        assert!(
            files.iter().any(|f| std::fs::read_to_string(f)
                .unwrap()
                .contains(&format!("kind: {kind}\n"))),
            "no {kind} was validated"
        );
    }
}

fn collect(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml") {
            out.push(path);
        }
    }
}

#[test]
fn production_values_pass_strict_lint() {
    let cases: [(&str, &[&str]); 5] = [
        ("charts/ignition", &[ALL]),
        ("charts/ignition", &[ALL, "values/hardened.yaml"]),
        (
            "charts/ignition",
            &["values/redundant.yaml", "values/hardened.yaml"],
        ),
        (
            "charts/ignition-scaleout",
            &[
                "values/scaleout.yaml",
                ALL_SCALEOUT,
                "values/hardened-scaleout.yaml",
            ],
        ),
        (
            "charts/ignition-scaleout",
            &["values/scaleout-eks.yaml", "values/hardened-scaleout.yaml"],
        ),
    ];
    for (chart, files) in cases {
        let mut args = vec!["lint", chart, "--strict"];
        for f in files {
            args.extend(["-f", f]);
        }
        let run = stoke_in(&repo(), &args);
        assert_eq!(
            run.code, 0,
            "{chart} {files:?}:\n{}\n{}",
            run.stdout, run.stderr
        );
        assert!(
            !run.stdout.contains("[WARNING]") && !run.stdout.contains("[ERROR]"),
            "{chart} {files:?}:\n{}",
            run.stdout
        );
    }
}

/// Each pod template of a render as a bare Pod the API server can judge: the StatefulSet's claim
/// templates become claim volumes, as the StatefulSet controller would make them.
fn as_pods(docs: &[Value]) -> Vec<(String, serde_json::Value)> {
    let mut out = Vec::new();
    for (i, (where_, spec)) in pod_specs(docs).into_iter().enumerate() {
        let mut spec: serde_json::Value = serde_json::to_value(spec).unwrap();
        let owner = docs
            .iter()
            .find(|d| {
                format!(
                    "{}/{}",
                    d["kind"].as_str().unwrap(),
                    d["metadata"]["name"].as_str().unwrap()
                ) == where_
            })
            .unwrap();
        for claim in owner["spec"]["volumeClaimTemplates"]
            .as_sequence()
            .into_iter()
            .flatten()
        {
            let name = claim["metadata"]["name"].as_str().unwrap();
            let volumes = spec["volumes"].as_array_mut().unwrap();
            volumes.push(serde_json::json!({"name": name, "persistentVolumeClaim": {"claimName": format!("{name}-0")}}));
        }
        let pod = serde_json::json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": format!("pod-{i}")},
            "spec": spec,
        });
        out.push((where_, pod));
    }
    out
}

#[test]
fn a_real_api_server_enforcing_restricted_admits_every_hardened_pod_and_refuses_the_defaults() {
    use common::kube::TestCluster;
    let cluster = TestCluster::shared();
    let ns = cluster.namespace("restricted");
    cluster
        .request(
            "admin",
            "PATCH",
            &format!("/api/v1/namespaces/{ns}"),
            Some(&serde_json::json!({"metadata": {"labels": {
                "pod-security.kubernetes.io/enforce": "restricted",
                "pod-security.kubernetes.io/enforce-version": "latest",
            }}})),
        )
        .expect(200);
    // Server-side dry runs: admission (Pod Security included) judges each Pod, nothing is kept.
    let judge = |pod: &serde_json::Value| {
        cluster.request(
            "admin",
            "POST",
            &format!("/api/v1/namespaces/{ns}/pods?dryRun=All"),
            Some(pod),
        )
    };
    let hardened: [(&str, &[&str]); 3] = [
        ("charts/ignition", &[ALL, "values/hardened.yaml"]),
        (
            "charts/ignition",
            &["tests/production/sidecars.yaml", "values/hardened.yaml"],
        ),
        (
            "charts/ignition-scaleout",
            &[
                "values/scaleout.yaml",
                ALL_SCALEOUT,
                "values/hardened-scaleout.yaml",
            ],
        ),
    ];
    let mut admitted = 0;
    for (chart, files) in hardened {
        let (docs, _) = render(chart, files, &[]);
        for (where_, pod) in as_pods(&docs) {
            let answer = judge(&pod);
            assert_eq!(
                answer.status, 201,
                "{chart} {files:?} {where_}: {}",
                answer.body
            );
            admitted += 1;
        }
    }
    assert!(admitted >= 15, "only {admitted} pods were judged");

    // The defaults are the official chart's, which restricted refuses: the check has teeth.
    let (docs, _) = render("charts/ignition", &[ALL], &[]);
    let (where_, pod) = as_pods(&docs)
        .into_iter()
        .find(|(w, _)| w.starts_with("StatefulSet/"))
        .unwrap();
    let answer = judge(&pod);
    assert_eq!(answer.status, 403, "{where_}: {}", answer.body);
    assert!(
        answer.body.contains("violates PodSecurity"),
        "{}",
        answer.body
    );
}

/// Runs restart-on-renewal.sh as the cert-restart CronJob's pod would: with the token of its
/// ServiceAccount, against the API server at `server`, over the given certificate folders.
fn restart_job(
    server: &str,
    account: &std::path::Path,
    statefulset: &str,
    certs: &[&std::path::Path],
) -> common::Run {
    let mut cmd = std::process::Command::new("bash");
    cmd.arg(repo().join("charts/ignition/scripts/optional/restart-on-renewal.sh"))
        .args(["-s", statefulset])
        .args(certs)
        .env("KUBERNETES_API", server)
        .env("SERVICE_ACCOUNT_DIR", account);
    cmd.output().unwrap().into()
}

#[test]
fn a_renewed_certificate_rolls_the_statefulset_on_a_real_api_server_with_the_chart_rbac() {
    use common::kube::TestCluster;
    let cluster = TestCluster::shared();
    let ns = cluster.namespace("renewal");
    let (docs, _) = render(
        "charts/ignition",
        &[],
        &[
            "-n",
            &ns,
            "--set",
            "certManager.enabled=true,certManager.restartOnRenewal.enabled=true",
        ],
    );
    // The chart's own RBAC objects and StatefulSet, as the release would create them.
    for (kind, name, path) in [
        (
            "ServiceAccount",
            "site-ignition-cert-restart",
            "api/v1/namespaces/{ns}/serviceaccounts",
        ),
        (
            "Role",
            "site-ignition-cert-restart",
            "apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles",
        ),
        (
            "RoleBinding",
            "site-ignition-cert-restart",
            "apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings",
        ),
        (
            "StatefulSet",
            "site-ignition-gateway",
            "apis/apps/v1/namespaces/{ns}/statefulsets",
        ),
    ] {
        let body = serde_json::to_value(find(&docs, kind, name)).unwrap();
        let answer = cluster.request(
            "admin",
            "POST",
            &format!("/{}", path.replace("{ns}", &ns)),
            Some(&body),
        );
        assert_eq!(answer.status, 201, "{kind} {name}: {}", answer.body);
    }
    // The token the CronJob's pod would get for its ServiceAccount.
    let token = cluster
        .request(
            "admin",
            "POST",
            &format!("/api/v1/namespaces/{ns}/serviceaccounts/site-ignition-cert-restart/token"),
            Some(&serde_json::json!({
                "apiVersion": "authentication.k8s.io/v1",
                "kind": "TokenRequest",
                "spec": {"expirationSeconds": 600}
            })),
        )
        .expect(201)
        .json()["status"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    let tmp = tempfile::tempdir().unwrap();
    let account = tmp.path().join("serviceaccount");
    std::fs::create_dir_all(&account).unwrap();
    std::fs::write(account.join("token"), token).unwrap();
    std::fs::write(account.join("namespace"), &ns).unwrap();
    std::fs::copy(cluster.dir().join("ca.crt"), account.join("ca.crt")).unwrap();
    let (leaf, ca) = (
        tmp.path().join("gan-tls"),
        tmp.path().join("gan-issuer-tls"),
    );
    for (dir, text) in [(&leaf, "leaf, first year"), (&ca, "the CA")] {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("tls.crt"), text).unwrap();
    }
    let statefulset = || {
        cluster
            .request(
                "admin",
                "GET",
                &format!("/apis/apps/v1/namespaces/{ns}/statefulsets/site-ignition-gateway"),
                None,
            )
            .expect(200)
            .json()
    };
    let generation = |sts: &serde_json::Value| sts["metadata"]["generation"].as_i64().unwrap();
    let before = statefulset();

    let first = restart_job(
        cluster.server(),
        &account,
        "site-ignition-gateway",
        &[&leaf, &ca],
    );
    assert_eq!(first.code, 0, "{}{}", first.stdout, first.stderr);
    assert!(first.stdout.contains("Recorded"), "{}", first.stdout);
    let recorded = statefulset();
    let seen = recorded["metadata"]["annotations"]["stoke.dev/certificates-seen"]
        .as_str()
        .expect("the fingerprint is recorded")
        .to_string();
    assert_eq!(
        generation(&recorded),
        generation(&before),
        "recording restarts nothing"
    );

    let again = restart_job(
        cluster.server(),
        &account,
        "site-ignition-gateway",
        &[&leaf, &ca],
    );
    assert!(
        again.stdout.contains("unchanged"),
        "{}{}",
        again.stdout,
        again.stderr
    );

    // cert-manager renews the leaf: the pod template changes, so the pods roll.
    std::fs::write(leaf.join("tls.crt"), "leaf, second year").unwrap();
    let renewed = restart_job(
        cluster.server(),
        &account,
        "site-ignition-gateway",
        &[&leaf, &ca],
    );
    assert_eq!(renewed.code, 0, "{}{}", renewed.stdout, renewed.stderr);
    let rolled = statefulset();
    let now_seen = rolled["metadata"]["annotations"]["stoke.dev/certificates-seen"]
        .as_str()
        .unwrap();
    assert_ne!(now_seen, seen);
    assert_eq!(
        rolled["spec"]["template"]["metadata"]["annotations"]["stoke.dev/certificates"],
        now_seen
    );
    assert_eq!(
        generation(&rolled),
        generation(&before) + 1,
        "a new pod template revision"
    );

    // The Role reaches this StatefulSet only.
    let other = restart_job(cluster.server(), &account, "another-gateway", &[&leaf, &ca]);
    assert_ne!(other.code, 0);
    assert!(
        other.stderr.contains("cannot read StatefulSet"),
        "{}",
        other.stderr
    );
}

/// The API path that creates `kind` objects of `api_version` in `ns`; None for cert-manager's
/// kinds, which the test cluster does not serve.
fn collection(api_version: &str, kind: &str, ns: &str) -> Option<String> {
    if api_version.starts_with("cert-manager.io/") {
        return None;
    }
    let resource = match kind {
        "ServiceAccount" => "serviceaccounts",
        "Secret" => "secrets",
        "ConfigMap" => "configmaps",
        "Service" => "services",
        "Pod" => "pods",
        "PersistentVolumeClaim" => "persistentvolumeclaims",
        "StatefulSet" => "statefulsets",
        "CronJob" => "cronjobs",
        "Job" => "jobs",
        "Ingress" => "ingresses",
        "NetworkPolicy" => "networkpolicies",
        "PodDisruptionBudget" => "poddisruptionbudgets",
        "Role" => "roles",
        "RoleBinding" => "rolebindings",
        other => panic!("no API path known for {api_version} {other}; add it here"),
    };
    let base = if api_version == "v1" {
        "/api/v1".to_string()
    } else {
        format!("/apis/{api_version}")
    };
    Some(format!("{base}/namespaces/{ns}/{resource}?dryRun=All"))
}

#[test]
fn a_real_api_server_accepts_every_object_of_every_shipped_and_production_render() {
    use common::kube::TestCluster;
    let cluster = TestCluster::shared();
    let ns = cluster.namespace("accepts");
    let mut renders: Vec<(&str, Vec<&str>)> = COMBINATIONS
        .iter()
        .map(|(chart, values)| (*chart, vec![*values]))
        .collect();
    renders.push(("charts/ignition", vec![ALL, "values/hardened.yaml"]));
    renders.push((
        "charts/ignition-scaleout",
        vec![
            "values/scaleout.yaml",
            ALL_SCALEOUT,
            "values/hardened-scaleout.yaml",
        ],
    ));
    let mut sent = 0;
    for (chart, files) in &renders {
        let (docs, _) = render(chart, files, &["-n", &ns]);
        for d in &docs {
            let (api, kind) = (
                d["apiVersion"].as_str().unwrap(),
                d["kind"].as_str().unwrap(),
            );
            let Some(path) = collection(api, kind, &ns) else {
                continue;
            };
            let body = serde_json::to_value(d).unwrap();
            let answer = cluster.request("admin", "POST", &path, Some(&body));
            assert_eq!(
                answer.status,
                201,
                "{chart} {files:?}: {kind} {}: {}",
                d["metadata"]["name"].as_str().unwrap(),
                answer.body
            );
            sent += 1;
        }
    }
    assert!(sent > 80, "only {sent} objects were sent");
}
