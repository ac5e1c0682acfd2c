//! Repositories over HTTP: a real server on loopback (python3's http.server) serves a
//! folder indexed by `stoke repo index`; stoke adds, updates, searches and pulls from it.

mod common;

use common::package::{Env, HttpServer, sha256, write_chart, write_chart_with};

/// Packages `versions` of chart `name` into `env/srv`.
fn publish(env: &Env, name: &str, versions: &[&str]) {
    for v in versions {
        let src = env.path(&format!("src/{name}-{v}"));
        write_chart(&src, name, v);
        env.ok(&["package", src.to_str().unwrap(), "-d", "srv"]);
    }
}

fn setup() -> (Env, HttpServer) {
    let env = Env::new();
    publish(&env, "gw", &["1.0.0", "1.2.0", "1.3.0-beta.1", "2.0.0"]);
    publish(&env, "historian", &["0.5.0", "0.5.3", "0.6.0"]);
    env.ok(&["repo", "index", "srv"]);
    let server = HttpServer::start(&env.path("srv"));
    env.ok(&["repo", "add", "ia", &server.url]);
    (env, server)
}

#[test]
fn add_records_the_repository_and_caches_its_index_under_xdg_folders() {
    let (env, server) = setup();
    assert!(env.path("config/stoke/repositories.yaml").is_file());
    assert!(env.path("cache/stoke/repository/ia-index.yaml").is_file());
    let list = env.ok(&["repo", "list", "-o", "json"]);
    let v: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(v[0]["name"], "ia");
    assert_eq!(v[0]["url"], server.url.as_str());
    let table = env.ok(&["repo", "list"]);
    assert!(table.starts_with("NAME"), "{table}");
    // The same name for another URL needs --force-update.
    let err = env.fails(&["repo", "add", "ia", "http://127.0.0.1:9/other"]);
    assert!(err.contains("already exists"), "{err}");
}

#[test]
fn search_shows_the_newest_stable_version_unless_asked_otherwise() {
    let (env, _server) = setup();
    let out = env.ok(&["search", "repo", "gw", "-o", "json"]);
    let hits: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(hits.len(), 1, "{out}");
    assert_eq!(hits[0]["name"], "ia/gw");
    assert_eq!(hits[0]["version"], "2.0.0");
    assert_eq!(hits[0]["app_version"], "8.1.40");

    let versions = |args: &[&str]| -> Vec<String> {
        let mut a = vec!["search", "repo"];
        a.extend_from_slice(args);
        a.extend_from_slice(&["-o", "json"]);
        let hits: Vec<serde_json::Value> = serde_json::from_str(&env.ok(&a)).unwrap();
        hits.iter()
            .map(|h| h["version"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(versions(&["gw", "--versions"]), ["2.0.0", "1.2.0", "1.0.0"]);
    assert_eq!(
        versions(&["gw", "--versions", "--devel"]),
        ["2.0.0", "1.3.0-beta.1", "1.2.0", "1.0.0"]
    );
    assert_eq!(versions(&["gw", "--version", "^1"]), ["1.2.0"]);
    assert_eq!(versions(&["historian", "--version", "~0.5"]), ["0.5.3"]);
    // Keywords and descriptions are searched too.
    assert_eq!(versions(&["SCADA"]).len(), 2);
    let none = env.stoke(&["search", "repo", "nothing-like-this"]);
    assert!(String::from_utf8_lossy(&none.stderr).contains("No results found"));
}

#[test]
fn pull_picks_the_newest_version_satisfying_the_constraint_and_verifies_it() {
    let (env, _server) = setup();
    env.ok(&["pull", "ia/gw", "--version", "^1", "-d", "dl"]);
    assert_eq!(
        sha256(&env.path("dl/gw-1.2.0.tgz")),
        sha256(&env.path("srv/gw-1.2.0.tgz"))
    );

    env.ok(&["pull", "ia/gw", "-d", "dl"]);
    assert!(env.path("dl/gw-2.0.0.tgz").is_file());

    env.ok(&["pull", "ia/gw", "--version", ">=1.3.0-0 <2", "-d", "dl"]);
    assert!(env.path("dl/gw-1.3.0-beta.1.tgz").is_file());

    env.ok(&[
        "pull",
        "ia/historian",
        "--version",
        "0.5.x",
        "--untar",
        "-d",
        "un",
    ]);
    let chart = std::fs::read_to_string(env.path("un/historian/Chart.yaml")).unwrap();
    assert!(chart.contains("version: 0.5.3"), "{chart}");

    let err = env.fails(&["pull", "ia/gw", "--version", "^3"]);
    assert!(err.contains("no version of `gw` satisfies `^3`"), "{err}");
    assert!(err.contains("available: 2.0.0"), "{err}");
    let err = env.fails(&["pull", "ia/gateway"]);
    assert!(
        err.contains("chart `gateway` is not in the repository index"),
        "{err}"
    );
    let err = env.fails(&["pull", "nope/gw"]);
    assert!(err.contains("no repository named `nope`"), "{err}");
}

#[test]
fn a_package_whose_digest_differs_from_the_index_is_refused_and_not_saved() {
    let (env, _server) = setup();
    // Replace a published package after indexing: same name and version, other contents.
    let evil = env.path("evil/gw");
    write_chart(&evil, "gw", "1.2.0");
    std::fs::write(evil.join("values.yaml"), "greeting: pwned\n").unwrap();
    env.ok(&["package", "evil/gw", "-d", "srv"]);
    let err = env.fails(&["pull", "ia/gw", "--version", "1.2.0", "-d", "dl"]);
    assert!(err.contains("does not match the repository index"), "{err}");
    assert!(err.contains("sha256"), "{err}");
    assert!(!env.path("dl/gw-1.2.0.tgz").exists());
}

#[test]
fn update_refreshes_the_cached_index_and_remove_forgets_the_repository() {
    let (env, _server) = setup();
    publish(&env, "gw", &["2.1.0"]);
    env.ok(&["repo", "index", "srv"]);
    let latest = || {
        let out = env.ok(&["search", "repo", "ia/gw", "-o", "json"]);
        let hits: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
        hits[0]["version"].as_str().unwrap().to_string()
    };
    assert_eq!(latest(), "2.0.0", "search reads the cache until an update");
    let out = env.ok(&["repo", "update"]);
    assert!(out.contains("Updated \"ia\" (2 charts)"), "{out}");
    assert_eq!(latest(), "2.1.0");

    env.ok(&["repo", "remove", "ia"]);
    assert!(!env.path("cache/stoke/repository/ia-index.yaml").exists());
    let err = env.fails(&["repo", "remove", "ia"]);
    assert!(err.contains("no repository named `ia`"), "{err}");
}

#[test]
fn a_malformed_or_oversized_index_is_refused_with_a_clear_error() {
    let env = Env::new();
    std::fs::create_dir_all(env.path("bad")).unwrap();
    std::fs::create_dir_all(env.path("noapi")).unwrap();
    std::fs::create_dir_all(env.path("huge")).unwrap();
    std::fs::create_dir_all(env.path("missing")).unwrap();
    std::fs::write(env.path("bad/index.yaml"), "entries: [unclosed\n").unwrap();
    std::fs::write(env.path("noapi/index.yaml"), "entries: {}\n").unwrap();
    // A sparse 65 MiB file: over the limit without using the disk.
    let f = std::fs::File::create(env.path("huge/index.yaml")).unwrap();
    f.set_len(65 * 1024 * 1024).unwrap();
    let server = HttpServer::start(env.dir.path());

    let err = env.fails(&["repo", "add", "bad", &format!("{}/bad", server.url)]);
    assert!(err.contains("is not valid YAML"), "{err}");
    let err = env.fails(&["repo", "add", "noapi", &format!("{}/noapi", server.url)]);
    assert!(err.contains("has no apiVersion"), "{err}");
    let err = env.fails(&["repo", "add", "huge", &format!("{}/huge", server.url)]);
    assert!(err.contains("over the 67108864-byte limit"), "{err}");
    let err = env.fails(&["repo", "add", "missing", &format!("{}/missing", server.url)]);
    assert!(err.contains("the server answered 404"), "{err}");
    let err = env.fails(&["repo", "add", "oci", "oci://registry/charts"]);
    assert!(err.contains("`oci://` scheme is not supported"), "{err}");
    // Nothing was recorded for any of them.
    let list = env.ok(&["repo", "list", "-o", "json"]);
    assert_eq!(list.trim(), "[]");
}

#[test]
fn a_folder_repository_works_like_an_http_one() {
    let env = Env::new();
    publish(&env, "gw", &["1.0.0"]);
    env.ok(&["repo", "index", "srv"]);
    env.ok(&["repo", "add", "local", "srv"]);
    let list = env.ok(&["repo", "list", "-o", "json"]);
    assert!(
        list.contains("file:///"),
        "relative folders are made absolute: {list}"
    );
    env.ok(&["pull", "local/gw", "-d", "dl"]);
    assert!(env.path("dl/gw-1.0.0.tgz").is_file());
}

#[test]
fn dependency_update_resolves_downloads_and_locks_and_build_restores_exactly() {
    let (env, server) = setup();
    write_chart(&env.path("lib/common"), "common", "0.1.0");
    write_chart_with(
        &env.path("app"),
        "app",
        "1.0.0",
        &format!(
            "dependencies:\n- name: gw\n  version: ^1\n  repository: \"@ia\"\n- name: historian\n  version: ~0.5\n  repository: {}\n  alias: db\n- name: common\n  version: 0.1.x\n  repository: file://../lib/common\n",
            server.url
        ),
    );
    let list = env.ok(&["dependency", "list", "app", "-o", "json"]);
    let v: Vec<serde_json::Value> = serde_json::from_str(&list).unwrap();
    assert!(v.iter().all(|d| d["status"] == "missing"), "{list}");

    env.ok(&["dependency", "update", "app"]);
    for f in ["gw-1.2.0.tgz", "historian-0.5.3.tgz", "common-0.1.0.tgz"] {
        assert!(
            env.path(&format!("app/charts/{f}")).is_file(),
            "{f} missing"
        );
    }
    let lock = std::fs::read_to_string(env.path("app/Chart.lock")).unwrap();
    assert!(lock.contains("digest: sha256:"), "{lock}");
    assert!(lock.contains("version: 1.2.0"), "{lock}");
    let list = env.ok(&["dependency", "list", "app", "-o", "json"]);
    let v: Vec<serde_json::Value> = serde_json::from_str(&list).unwrap();
    assert!(v.iter().all(|d| d["status"] == "ok"), "{list}");

    // The chart renders with its dependencies, the aliased one under its alias.
    let out = env.ok(&["template", "r", "app"]);
    assert!(out.contains("name: r-gw"), "{out}");
    assert!(out.contains("name: r-db"), "{out}");

    // Newer versions appear upstream; build still restores the locked ones.
    let gw_digest = sha256(&env.path("app/charts/gw-1.2.0.tgz"));
    publish(&env, "gw", &["1.9.0"]);
    env.ok(&["repo", "index", "srv"]);
    std::fs::remove_dir_all(env.path("app/charts")).unwrap();
    env.ok(&["dependency", "build", "app"]);
    assert_eq!(sha256(&env.path("app/charts/gw-1.2.0.tgz")), gw_digest);
    assert!(!env.path("app/charts/gw-1.9.0.tgz").exists());

    // update moves to the newest allowed version and drops the old package.
    env.ok(&["dependency", "update", "app"]);
    assert!(env.path("app/charts/gw-1.9.0.tgz").is_file());
    assert!(!env.path("app/charts/gw-1.2.0.tgz").exists());

    // A Chart.yaml edit makes the lock stale.
    let chart = std::fs::read_to_string(env.path("app/Chart.yaml")).unwrap();
    std::fs::write(env.path("app/Chart.yaml"), chart.replace("~0.5", "~0.6")).unwrap();
    let err = env.fails(&["dependency", "build", "app"]);
    assert!(err.contains("Chart.lock` is out of date"), "{err}");
    let list = env.ok(&["dependency", "list", "app", "-o", "json"]);
    assert!(list.contains("wrong version"), "{list}");
}

#[test]
fn template_renders_a_repository_chart_at_the_requested_version() {
    let (env, _server) = setup();
    let out = env.ok(&["template", "r", "ia/gw", "--version", "~1.0"]);
    assert!(out.contains("name: r-gw"), "{out}");
    assert!(
        env.path("cache/stoke/repository/charts/gw-1.0.0.tgz")
            .is_file()
    );
    env.ok(&["template", "r", "ia/gw"]);
    assert!(
        env.path("cache/stoke/repository/charts/gw-2.0.0.tgz")
            .is_file()
    );
    let err = env.fails(&["template", "r", "nope/gw"]);
    assert!(err.contains("no repository named `nope`"), "{err}");
    // A local folder of that shape still wins.
    write_chart(&env.path("ia/gw"), "gw", "9.9.9");
    std::fs::write(env.path("ia/gw/values.yaml"), "greeting: local\n").unwrap();
    let out = env.ok(&["template", "r", "ia/gw"]);
    assert!(out.contains("greeting: local"), "{out}");
}

#[test]
fn a_hostile_index_cannot_reach_local_files_or_exhaust_memory() {
    let env = Env::new();
    let secret = env.path("secret.txt");
    std::fs::write(&secret, "local secret").unwrap();
    let digest = sha256(&secret);
    std::fs::create_dir_all(env.path("srv/evil")).unwrap();
    std::fs::write(
        env.path("srv/evil/index.yaml"),
        format!(
            "apiVersion: v1\nentries:\n  abs:\n  - {{name: abs, version: 1.0.0, digest: {digest}, urls: [\"file://{p}\"]}}\n  rooted:\n  - {{name: rooted, version: 1.0.0, digest: {digest}, urls: [\"{p}\"]}}\n  ../../escape:\n  - {{name: ../../escape, version: 1.0.0, urls: [x.tgz]}}\n",
            p = secret.display()
        ),
    )
    .unwrap();
    // Ten levels of ten aliases each: 10^10 nodes if expanded.
    let mut laughs = String::from("apiVersion: v1\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..=10 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        laughs.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    laughs.push_str("entries: {gw: *a10}\n");
    std::fs::create_dir_all(env.path("srv/laughs")).unwrap();
    std::fs::write(env.path("srv/laughs/index.yaml"), laughs).unwrap();
    let server = HttpServer::start(&env.path("srv"));

    let out = env.stoke(&["repo", "add", "evil", &format!("{}/evil", server.url)]);
    assert!(out.status.success());
    let warnings = String::from_utf8_lossy(&out.stderr);
    assert!(
        warnings.contains("skipped chart `../../escape`"),
        "{warnings}"
    );

    let err = env.fails(&["pull", "evil/abs", "-d", "dl"]);
    assert!(err.contains("only http(s) URLs are allowed"), "{err}");
    let err = env.fails(&["pull", "evil/rooted", "-d", "dl"]);
    assert!(err.contains("the server answered 404"), "{err}");
    assert!(!env.path("dl").exists());

    let err = env.fails(&["repo", "add", "laughs", &format!("{}/laughs", server.url)]);
    assert!(err.contains("not valid YAML"), "{err}");
    assert!(err.contains("repetition limit exceeded"), "{err}");
}

#[test]
fn a_download_cut_short_is_refused() {
    let env = Env::new();
    let server = common::package::RawServer::start(
        "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\nConnection: close\r\n\r\n".into(),
        b"apiVersion: v1\nentries: {}\n".to_vec(),
    );
    let err = env.fails(&["repo", "add", "cut", &server.url]);
    assert!(err.contains("index of repository `cut`"), "{err}");
    assert!(
        err.contains("failed") || err.contains("ended early"),
        "{err}"
    );
    assert_eq!(env.ok(&["repo", "list", "-o", "json"]).trim(), "[]");
}

#[test]
fn a_compressed_index_that_inflates_past_the_limit_is_abandoned() {
    let env = Env::new();
    let mut raw = b"apiVersion: v1\nentries: {}\n".to_vec();
    raw.resize(70 * 1024 * 1024, b' ');
    let bomb = common::package::gzip(&raw);
    assert!(bomb.len() < 1024 * 1024);
    let server = common::package::RawServer::start(
        format!(
            "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            bomb.len()
        ),
        bomb,
    );
    let err = env.fails(&["repo", "add", "bomb", &server.url]);
    assert!(err.contains("larger than the 67108864-byte limit"), "{err}");
}
