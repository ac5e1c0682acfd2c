//! Interoperability with real Helm (through the helm-python-sdk package, which embeds
//! Helm's Go libraries): Helm loads and lints stoke's packages and reads stoke's index;
//! stoke loads Helm's packages and reads Helm's index. Without helm-python-sdk (or with
//! STOKE_SKIP_HELM_DIFF=1) the tests fail under CI and are skipped with a notice elsewhere.

mod common;

use common::package::{Env, HttpServer, sha256};
use common::require_tool;

/// Runs a Python snippet with helm_python imported as `h`; returns its JSON output.
fn helm(env: &Env, script: &str) -> serde_json::Value {
    common::helm::Helm::in_dir(env.dir.path()).run(script)
}

/// A chart whose templates are plain YAML, valid for both Tera and Go templates, so Helm's
/// lint can render it.
fn portable_chart(env: &Env, name: &str, version: &str) -> std::path::PathBuf {
    let dir = env.path(&format!("src/{name}"));
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::write(
        dir.join("Chart.yaml"),
        format!(
            "apiVersion: v2\nname: {name}\nversion: {version}\nappVersion: \"8.1\"\ndescription: Portable chart\nicon: https://example.com/icon.png\nkeywords: [scada]\n"
        ),
    )
    .unwrap();
    std::fs::write(dir.join("values.yaml"), "replicas: 1\n").unwrap();
    std::fs::write(
        dir.join("templates/configmap.yaml"),
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}-settings\ndata:\n  mode: \"standalone\"\n"),
    )
    .unwrap();
    dir
}

#[test]
fn helm_loads_and_lints_stoke_packages_and_agrees_on_the_digest() {
    if !require_tool("helm") {
        return;
    }
    let env = Env::new();
    let src = portable_chart(&env, "gw", "1.4.0");
    env.ok(&["package", src.to_str().unwrap(), "-d", "dist"]);
    env.ok(&["create", "terachart"]);
    env.ok(&["package", "terachart", "-d", "dist"]);
    let r = helm(
        &env,
        r#"
c = h.Chart.load("dist/gw-1.4.0.tgz")
t = h.Chart.load("dist/terachart-0.1.0.tgz")
print(json.dumps({
  "meta": c.metadata, "templates": [x["name"] for x in c.templates], "values": c.values,
  "lint": h.lint("dist/gw-1.4.0.tgz", strict=True),
  "digest": h.digest("dist/gw-1.4.0.tgz"),
  "tera_name": t.metadata["name"], "tera_templates": sorted(x["name"] for x in t.templates),
}))"#,
    );
    assert_eq!(r["meta"]["name"], "gw");
    assert_eq!(r["meta"]["version"], "1.4.0");
    assert_eq!(r["meta"]["appVersion"], "8.1");
    assert_eq!(
        r["templates"],
        serde_json::json!(["templates/configmap.yaml"])
    );
    assert_eq!(r["values"]["replicas"], 1);
    assert_eq!(r["lint"]["errors"], serde_json::json!([]), "{}", r["lint"]);
    assert_eq!(
        r["lint"]["messages"],
        serde_json::json!([]),
        "{}",
        r["lint"]
    );
    assert_eq!(
        r["digest"].as_str().unwrap(),
        format!("sha256:{}", sha256(&env.path("dist/gw-1.4.0.tgz")))
    );
    // A Tera chart loads in Helm as files (its templates are not Go templates).
    assert_eq!(r["tera_name"], "terachart");
    assert!(
        r["tera_templates"].as_array().unwrap().len() >= 3,
        "{}",
        r["tera_templates"]
    );
}

#[test]
fn helm_reads_the_index_stoke_writes() {
    if !require_tool("helm") {
        return;
    }
    let env = Env::new();
    for v in ["1.0.0", "1.1.0", "2.0.0-rc.1"] {
        let src = portable_chart(&env, "gw", v);
        env.ok(&["package", src.to_str().unwrap(), "-d", "srv"]);
        std::fs::remove_dir_all(src).unwrap();
    }
    let src = portable_chart(&env, "historian", "0.2.0");
    env.ok(&["package", src.to_str().unwrap(), "-d", "srv"]);
    let server = HttpServer::start(&env.path("srv"));
    env.ok(&["repo", "index", "srv", "--url", &server.url]);
    let r = helm(
        &env,
        &format!("print(json.dumps(h.repo_index({:?})))", server.url),
    );
    assert_eq!(r["apiVersion"], "v1");
    let gw = r["entries"]["gw"].as_array().unwrap();
    let versions: Vec<&str> = gw.iter().map(|v| v["version"].as_str().unwrap()).collect();
    assert_eq!(versions, ["2.0.0-rc.1", "1.1.0", "1.0.0"]);
    assert_eq!(
        gw[1]["digest"].as_str().unwrap(),
        sha256(&env.path("srv/gw-1.1.0.tgz"))
    );
    assert_eq!(
        gw[1]["urls"][0].as_str().unwrap(),
        format!("{}/gw-1.1.0.tgz", server.url)
    );
    assert_eq!(gw[1]["appVersion"], "8.1");
    assert!(gw[1]["created"].as_str().unwrap().ends_with('Z'));
    assert_eq!(r["entries"]["historian"][0]["version"], "0.2.0");
}

#[test]
fn stoke_loads_helm_packages_and_pulls_from_a_helm_index() {
    if !require_tool("helm") {
        return;
    }
    let env = Env::new();
    let src = portable_chart(&env, "gw", "3.0.0");
    std::fs::create_dir_all(env.path("helm-repo")).unwrap();
    helm(
        &env,
        &format!(
            "p = h.package({:?}, destination='helm-repo', version='3.1.0', app_version='8.3')\nh.repo_index_generate('helm-repo')\nprint(json.dumps(p))",
            src.to_str().unwrap()
        ),
    );
    let pkg = "helm-repo/gw-3.1.0.tgz";
    let shown = env.ok(&["show", "chart", pkg]);
    assert!(shown.contains("version: 3.1.0"), "{shown}");
    let out = env.ok(&["template", "r", pkg]);
    assert!(out.contains("name: gw-settings"), "{out}");
    env.ok(&["lint", pkg]);

    let server = HttpServer::start(&env.path("helm-repo"));
    env.ok(&["repo", "add", "helm", &server.url]);
    let out = env.ok(&["search", "repo", "gw", "-o", "json"]);
    assert!(out.contains("\"version\": \"3.1.0\""), "{out}");
    env.ok(&["pull", "helm/gw", "--version", "^3", "-d", "dl"]);
    assert_eq!(sha256(&env.path("dl/gw-3.1.0.tgz")), sha256(&env.path(pkg)));
}

#[test]
fn helm_resolves_dependencies_from_a_stoke_repository_and_gets_the_same_bytes() {
    if !require_tool("helm") {
        return;
    }
    let env = Env::new();
    for v in ["1.0.0", "1.1.0", "2.0.0"] {
        let src = portable_chart(&env, "gw", v);
        env.ok(&["package", src.to_str().unwrap(), "-d", "srv"]);
        std::fs::remove_dir_all(src).unwrap();
    }
    env.ok(&["repo", "index", "srv"]);
    let server = HttpServer::start(&env.path("srv"));
    let app = portable_chart(&env, "app", "0.1.0");
    let mut chart = std::fs::read_to_string(app.join("Chart.yaml")).unwrap();
    chart.push_str(&format!(
        "dependencies:\n- name: gw\n  version: ~1.0\n  repository: {}\n",
        server.url
    ));
    std::fs::write(app.join("Chart.yaml"), chart).unwrap();
    helm(
        &env,
        &format!(
            "h.dependency_update({:?})\nprint(json.dumps(h.dependency_list({:?})))",
            app.to_str().unwrap(),
            app.to_str().unwrap()
        ),
    );
    let helm_copy = app.join("charts/gw-1.0.0.tgz");
    assert_eq!(sha256(&helm_copy), sha256(&env.path("srv/gw-1.0.0.tgz")));
    // stoke agrees with what Helm put in charts/.
    let list = env.ok(&["dependency", "list", app.to_str().unwrap(), "-o", "json"]);
    assert!(list.contains("\"status\": \"ok\""), "{list}");
}
