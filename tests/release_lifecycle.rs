//! The release lifecycle through the binary: install, upgrades, rollback, history,
//! uninstall --keep-history, reinstall, and every report in all three output formats.

mod common;

use common::release::World;

fn password(w: &World, revision: &str) -> String {
    let m = w
        .run(&["get", "manifest", "gw", "--revision", revision])
        .ok()
        .stdout;
    let line = m
        .lines()
        .find(|l| l.trim_start().starts_with("password:"))
        .unwrap_or_else(|| panic!("no password in\n{m}"));
    line.trim().to_string()
}

#[test]
fn lifecycle_records_every_step_as_helm_does() {
    let w = World::new();
    let c = w.chart();
    let v2 = w.values("v2.yaml", "replicas: 2\n");
    let v3 = w.values("v3.yaml", "replicas: 3\nextra: true\n");

    let out = w.run(&["install", "gw", &c]).ok().stdout;
    assert!(
        out.contains("STATUS: recorded only, not deployed (no cluster is configured)"),
        "{out}"
    );
    assert!(!out.contains("Gateway gw revision 1"), "{out}");
    let notes = w.run(&["get", "notes", "gw"]).ok().stdout;
    assert!(
        notes.contains("NOTES:\nGateway gw revision 1 (standard)"),
        "{notes}"
    );
    w.run(&["upgrade", "gw", &c, "-f", &v2]).ok();
    w.write_chart("1.1.0");
    w.run(&["upgrade", "gw", &c, "-f", &v3]).ok();
    w.run(&["rollback", "gw"]).ok();

    let h = w.history("gw");
    let expect = [
        (1, "superseded", "Install complete"),
        (2, "superseded", "Upgrade complete"),
        (3, "superseded", "Upgrade complete"),
        (4, "deployed", "Rollback to 2"),
    ];
    let got: Vec<(u64, &str, &str)> = h
        .iter()
        .map(|(r, s, d)| (*r, s.as_str(), d.as_str()))
        .collect();
    assert_eq!(got, expect);
    w.run(&["rollback", "gw", "1"]).ok();
    assert_eq!(w.history("gw")[4].2, "Rollback to 1");
    let st = w.run(&["status", "gw", "-o", "json"]).ok().json();
    assert_eq!(st["revision"], 5);
    assert_eq!(
        st["chart"], "gateway-1.0.0",
        "rollback restores the chart of revision 1"
    );
    let values = w
        .run(&["get", "values", "gw", "--all", "-o", "json"])
        .ok()
        .json();
    assert_eq!(values["replicas"], 1);

    // The generated admin password is made once and kept through upgrades and rollbacks.
    let first = password(&w, "1");
    for r in ["2", "3", "4", "5"] {
        assert_eq!(password(&w, r), first, "revision {r}");
    }

    // Table history reads as Helm's does.
    let table = w.run(&["history", "gw"]).ok().stdout;
    let header = table.lines().next().unwrap();
    for col in [
        "REVISION",
        "UPDATED",
        "STATUS",
        "CHART",
        "APP VERSION",
        "DESCRIPTION",
    ] {
        assert!(header.contains(col), "{header}");
    }
    assert!(table.contains("Rollback to 2"));

    w.run(&["uninstall", "gw", "--keep-history"]).ok();
    let h = w.history("gw");
    assert_eq!(
        (h[4].1.as_str(), h[4].2.as_str()),
        ("uninstalled", "Uninstallation complete")
    );
    let listed = w.run(&["list", "-o", "json"]).ok().json();
    assert_eq!(
        listed,
        serde_json::json!([]),
        "uninstalled releases only show with -a"
    );
    let all = w.run(&["list", "-a", "-o", "json"]).ok().json();
    assert_eq!(all[0]["status"], "uninstalled");

    w.run(&["install", "gw", &c]).ok();
    let h = w.history("gw");
    assert_eq!(h.len(), 6);
    assert_eq!(
        (h[5].1.as_str(), h[5].2.as_str()),
        ("deployed", "Install complete")
    );
    assert_eq!(h[4].1, "superseded");
    assert_ne!(password(&w, "6"), first, "a reinstall starts from nothing");

    w.run(&["uninstall", "gw"]).ok();
    let err = w.run(&["status", "gw"]).fails().stderr;
    assert!(
        err.contains("release gw not found in namespace default"),
        "{err}"
    );
}

#[test]
fn list_get_and_status_speak_table_json_and_yaml() {
    let w = World::new();
    let c = w.chart();
    w.run(&["install", "gw-b", &c]).ok();
    w.run(&["install", "gw-a", &c, "-n", "plant2"]).ok();
    w.run(&["install", "other", &c]).ok();

    let rows = w.run(&["list", "-A", "-o", "json"]).ok().json();
    let names: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["gw-a", "gw-b", "other"], "sorted by name");
    let fields: Vec<&String> = rows[0].as_object().unwrap().keys().collect();
    for f in [
        "name",
        "namespace",
        "revision",
        "status",
        "chart",
        "app_version",
        "updated",
        "description",
    ] {
        assert!(fields.iter().any(|k| *k == f), "{f} in {fields:?}");
    }
    assert_eq!(rows[0]["namespace"], "plant2");
    assert_eq!(rows[0]["app_version"], "8.1.40");
    assert_eq!(rows[0]["chart"], "gateway-1.0.0");

    let only_default = w.run(&["list", "-o", "json"]).ok().json();
    assert_eq!(only_default.as_array().unwrap().len(), 2);
    let filtered = w
        .run(&["list", "-A", "--filter", "^gw-", "-o", "yaml"])
        .ok()
        .stdout;
    let parsed: serde_yaml::Value = serde_yaml::from_str(&filtered).unwrap();
    assert_eq!(parsed.as_sequence().unwrap().len(), 2);
    let table = w.run(&["list", "-A"]).ok().stdout;
    assert!(table.starts_with("NAME"), "{table}");
    assert!(table.contains("gw-a") && table.contains("plant2"));

    let st = w.run(&["status", "gw-b"]).ok().stdout;
    for line in [
        "NAME: gw-b",
        "STATUS: deployed",
        "REVISION: 1",
        "Secret (1): gw-b-admin",
        "NOTES:",
    ] {
        assert!(st.contains(line), "{line} in\n{st}");
    }
    let st_yaml: serde_yaml::Value =
        serde_yaml::from_str(&w.run(&["status", "gw-b", "-o", "yaml"]).ok().stdout).unwrap();
    assert_eq!(st_yaml["status"], "deployed");
    for format in ["table", "json", "yaml"] {
        let out = w.run(&["status", "gw-b", "-o", format]).ok().stdout;
        let m = w.run(&["get", "manifest", "gw-b"]).ok().stdout;
        let pw = m
            .lines()
            .find(|l| l.contains("password:"))
            .unwrap()
            .trim()
            .trim_start_matches("password: ");
        assert!(
            !out.contains(pw),
            "status never shows secret data ({format})"
        );
    }

    let user = w.run(&["get", "values", "gw-b"]).ok().stdout;
    assert!(user.starts_with("USER-SUPPLIED VALUES:"), "{user}");
    let computed: serde_yaml::Value = serde_yaml::from_str(
        &w.run(&["get", "values", "gw-b", "--all", "-o", "yaml"])
            .ok()
            .stdout,
    )
    .unwrap();
    assert_eq!(computed["edition"], "standard");
    let notes = w.run(&["get", "notes", "gw-b"]).ok().stdout;
    assert_eq!(notes, "NOTES:\nGateway gw-b revision 1 (standard)\n");
    let all = w.run(&["get", "all", "gw-b", "-o", "json"]).ok().json();
    assert_eq!(all["revision"], 1);
    assert_eq!(all["chart"]["name"], "gateway");
    assert!(
        all["chart"]["digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
}

#[test]
fn dry_runs_write_nothing_and_diffs_mask_secrets() {
    let w = World::new();
    let c = w.chart();
    let out = w.run(&["install", "gw", &c, "--dry-run"]).ok().stdout;
    assert!(
        out.contains("MANIFEST:") && out.contains("kind: ConfigMap"),
        "{out}"
    );
    assert!(out.contains("Dry run complete"));
    assert!(
        !w.store().join("releases").exists(),
        "a dry run writes nothing"
    );

    w.run(&["install", "gw", &c, "--description", "first rollout"])
        .ok();
    assert_eq!(w.history("gw")[0].2, "first rollout");
    let v = w.values("v.yaml", "replicas: 4\nextra: true\n");
    w.run(&["upgrade", "gw", &c, "-f", &v, "--dry-run"]).ok();
    assert_eq!(w.history("gw").len(), 1);

    let d = w.run(&["diff", "upgrade", "gw", &c, "-f", &v]).ok().stdout;
    assert!(
        d.contains("default, gw-config, ConfigMap has changed:"),
        "{d}"
    );
    assert!(d.contains("-  replicas: \"1\"\n+  replicas: \"4\""), "{d}");
    assert!(
        d.contains("default, gw-extra, Service has been added:"),
        "{d}"
    );
    assert!(
        !d.contains("gw-admin"),
        "the kept password does not change: {d}"
    );

    w.run(&["upgrade", "gw", &c, "-f", &v]).ok();
    let d = w.run(&["diff", "revision", "gw", "2", "1"]).ok().stdout;
    assert!(d.contains("gw-extra, Service has been removed"), "{d}");
    assert!(d.contains("1 changed, 1 removed"), "{d}");
    let none = w.run(&["diff", "revision", "gw", "1", "1"]).ok().stdout;
    assert_eq!(none, "No changes.\n");

    // A reinstall generates a new password: the diff shows that it changed, not what to.
    w.run(&["uninstall", "gw", "--keep-history"]).ok();
    w.run(&["install", "gw", &c]).ok();
    let m1 = w
        .run(&["get", "manifest", "gw", "--revision", "1"])
        .ok()
        .stdout;
    let m3 = w
        .run(&["get", "manifest", "gw", "--revision", "3"])
        .ok()
        .stdout;
    let pw = |m: &str| {
        m.lines()
            .find(|l| l.contains("password:"))
            .unwrap()
            .trim()
            .to_string()
    };
    let d = w
        .run(&["diff", "revision", "gw", "1", "3", "-o", "json"])
        .ok();
    let secret = d
        .json()
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "Secret")
        .cloned()
        .unwrap();
    let text = secret["diff"].as_str().unwrap();
    assert!(text.contains("(masked, 20 bytes, old value)"), "{text}");
    assert!(text.contains("(masked, 20 bytes, new value)"), "{text}");
    for p in [pw(&m1), pw(&m3)] {
        let value = p.trim_start_matches("password: ");
        assert!(
            !d.stdout.contains(value),
            "secret value leaked into the diff"
        );
    }
}

#[test]
fn output_dir_keeps_one_file_per_resource_in_step() {
    let w = World::new();
    let c = w.chart();
    let out = w.path().join("gitops");
    let o = out.display().to_string();
    let extra = w.values("extra.yaml", "extra: true\n");
    w.run(&[
        "install",
        "gw",
        &c,
        "-n",
        "plant1",
        "--output-dir",
        &o,
        "-f",
        &extra,
    ])
    .ok();
    let dir = out.join("plant1/gw");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "configmap-gw-config.yaml",
            "secret-gw-admin.yaml",
            "service-gw-extra.yaml"
        ]
    );
    let cm = std::fs::read_to_string(dir.join("configmap-gw-config.yaml")).unwrap();
    assert!(
        cm.starts_with("# Source: gateway/templates/config.yaml\napiVersion: v1\nkind: ConfigMap"),
        "{cm}"
    );

    w.run(&[
        "upgrade",
        "gw",
        &c,
        "-n",
        "plant1",
        "--output-dir",
        &o,
        "--reset-values",
    ])
    .ok();
    assert!(
        !dir.join("service-gw-extra.yaml").exists(),
        "removed resources lose their file"
    );
    w.run(&["rollback", "gw", "-n", "plant1", "--output-dir", &o])
        .ok();
    assert!(
        dir.join("service-gw-extra.yaml").exists(),
        "a rollback brings it back"
    );
    w.run(&["uninstall", "gw", "-n", "plant1", "--output-dir", &o])
        .ok();
    assert!(!dir.exists());
}

#[test]
fn upgrade_install_and_values_flags() {
    let w = World::new();
    let c = w.chart();
    let err = w.run(&["upgrade", "gw", &c]).fails().stderr;
    assert!(err.contains("release gw not found"), "{err}");
    w.run(&[
        "upgrade",
        "gw",
        &c,
        "--install",
        "-f",
        &w.values("a.yaml", "edition: edge\n"),
    ])
    .ok();
    assert_eq!(w.history("gw")[0].2, "Install complete");
    w.run(&[
        "upgrade",
        "gw",
        &c,
        "--reuse-values",
        "-f",
        &w.values("b.yaml", "replicas: 2\n"),
    ])
    .ok();
    let v = w.run(&["get", "values", "gw", "-o", "json"]).ok().json();
    assert_eq!(v, serde_json::json!({"edition": "edge", "replicas": 2}));
    w.run(&["upgrade", "gw", &c, "--reset-values"]).ok();
    let v = w.run(&["get", "values", "gw", "-o", "json"]).ok().json();
    assert_eq!(v, serde_json::json!({}));
    let usage = w.run(&["upgrade", "gw", &c, "--reuse-values", "--reset-values"]);
    assert_eq!(usage.code, 2, "conflicting flags are a usage error");
}
