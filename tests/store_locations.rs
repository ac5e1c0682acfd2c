//! `--store` / `STOKE_STORE` accept a folder, file://PATH, `kubernetes` or postgres://...;
//! anything else is refused before anything is created.

mod common;

use common::stoke_in;

#[test]
fn an_unknown_scheme_is_refused_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for location in [
        "http://db.example/stoke",
        "s3://bucket/stoke",
        "mysql://h/db",
    ] {
        let r = stoke_in(dir.path(), &["list", "--store", location]).expect(1);
        assert!(
            r.stderr.contains("unknown store scheme")
                && r.stderr.contains("file://PATH")
                && r.stderr.contains("postgres://")
                && r.stderr.contains("`kubernetes`"),
            "the accepted forms are listed: {}",
            r.stderr
        );
    }
    let chart = common::chart(dir.path(), "gw", &[]);
    let r = stoke_in(
        dir.path(),
        &[
            "install",
            "gw",
            chart.to_str().unwrap(),
            "--store",
            "http://db/x",
        ],
    )
    .expect(1);
    assert!(r.stderr.contains("unknown store scheme"), "{}", r.stderr);
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.starts_with("http")), "{names:?}");
}

#[test]
fn a_file_url_and_a_plain_path_are_the_same_store() {
    let dir = tempfile::tempdir().unwrap();
    let chart = common::chart(dir.path(), "gw", &[]);
    let store = dir.path().join("shared-store");
    let url = format!("file://{}", store.display());
    stoke_in(
        dir.path(),
        &["install", "gw", chart.to_str().unwrap(), "--store", &url],
    )
    .expect(0);
    let r = stoke_in(
        dir.path(),
        &["status", "gw", "--store", store.to_str().unwrap()],
    )
    .expect(0);
    assert!(r.stdout.contains("STATUS: deployed"), "{}", r.stdout);
}

/// stoke run with no store setting at all: a HOME of its own, no STOKE_STORE, and no
/// cluster configuration unless the test gives one.
fn bare(home: &std::path::Path, args: &[&str]) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_stoke"));
    c.args(args)
        .current_dir(home)
        .env("NO_COLOR", "1")
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join(".data"))
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env_remove("STOKE_STORE")
        .env_remove("KUBECONFIG")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env_remove("KUBERNETES_SERVICE_PORT")
        .stdin(std::process::Stdio::null());
    c
}

fn run(mut c: std::process::Command) -> common::Run {
    c.output().expect("the stoke binary runs").into()
}

#[test]
fn without_a_cluster_the_default_is_the_file_store_in_the_data_folder() {
    let home = tempfile::tempdir().unwrap();
    let default = home.path().join(".data/stoke");
    let shown = run(bare(home.path(), &["env", "STOKE_STORE"])).expect(0);
    assert_eq!(shown.stdout.trim(), default.display().to_string());
    let chart = common::chart(home.path(), "gw", &[]);
    run(bare(
        home.path(),
        &["install", "gw", chart.to_str().unwrap()],
    ))
    .expect(0);
    assert!(default.join("releases/default/gw/head.json").is_file());
}

#[test]
fn a_kubeconfig_in_home_makes_kubernetes_the_default_and_env_says_so() {
    let home = tempfile::tempdir().unwrap();
    // Choosing the store reads configuration only; nothing is contacted, so a kubeconfig
    // naming no reachable server still selects the Kubernetes store.
    common::write_files(
        home.path(),
        &[(
            ".kube/config",
            "apiVersion: v1\nkind: Config\nclusters: []\n",
        )],
    );
    let shown = run(bare(home.path(), &["env", "STOKE_STORE"])).expect(0);
    assert_eq!(shown.stdout.trim(), "kubernetes");
    let mut explicit = bare(home.path(), &["env", "STOKE_STORE"]);
    explicit.env("STOKE_STORE", home.path().join("mine"));
    let shown = run(explicit).expect(0);
    assert_eq!(
        shown.stdout.trim(),
        home.path().join("mine").display().to_string()
    );
    // The file-store tools say which store is in use instead of checking an unused one.
    let r = run(bare(home.path(), &["store", "check"])).expect(1);
    assert!(
        r.stderr.contains("kubernetes") && r.stderr.contains("a cluster is configured"),
        "{}",
        r.stderr
    );
}

#[test]
fn with_a_cluster_configured_releases_are_recorded_in_it_unless_a_store_is_given() {
    let cluster = common::kube::TestCluster::shared();
    let ns = cluster.namespace("default-store");
    let home = tempfile::tempdir().unwrap();
    let chart = common::chart(home.path(), "gw", &[]);
    let chart = chart.to_str().unwrap();
    let with_cluster = |args: &[&str]| {
        let mut c = bare(home.path(), args);
        c.env("KUBECONFIG", cluster.kubeconfig());
        c
    };
    let secret = |name: &str| {
        cluster
            .request(
                "admin",
                "GET",
                &format!("/api/v1/namespaces/{ns}/secrets/{name}"),
                None,
            )
            .status
    };

    let shown = run(with_cluster(&["env", "STOKE_STORE"])).expect(0);
    assert_eq!(shown.stdout.trim(), "kubernetes");
    run(with_cluster(&["install", "gw", chart, "-n", &ns])).expect(0);
    assert_eq!(secret("stoke.v1.gw.v1"), 200, "the revision is a Secret");
    let st = run(with_cluster(&["status", "gw", "-n", &ns])).expect(0);
    assert!(st.stdout.contains("STATUS: deployed"), "{}", st.stdout);
    assert!(
        !home.path().join(".data/stoke").exists(),
        "no file store was created"
    );

    // STOKE_STORE wins over the cluster default, and --store wins over STOKE_STORE.
    let files = home.path().join("files");
    let mut c = with_cluster(&["install", "other", chart, "-n", &ns]);
    c.env("STOKE_STORE", &files);
    run(c).expect(0);
    assert!(
        files
            .join(format!("releases/{ns}/other/head.json"))
            .is_file()
    );
    assert_eq!(secret("stoke.v1.other.v1"), 404);
    let flag = home.path().join("flag");
    let mut c = with_cluster(&[
        "install",
        "third",
        chart,
        "-n",
        &ns,
        "--store",
        flag.to_str().unwrap(),
    ]);
    c.env("STOKE_STORE", &files);
    run(c).expect(0);
    assert!(
        flag.join(format!("releases/{ns}/third/head.json"))
            .is_file()
    );
    assert!(!files.join(format!("releases/{ns}/third")).exists());
    assert_eq!(secret("stoke.v1.third.v1"), 404);
}
