//! `stoke package` writes byte-for-byte reproducible archives in Helm's layout.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use common::package::{Env, sha256, write_chart};

fn touch(path: &std::path::Path, stamp: &str) {
    let ok = Command::new("touch")
        .args(["-d", stamp])
        .arg(path)
        .status()
        .unwrap();
    assert!(ok.success());
}

#[test]
fn the_same_chart_packages_to_the_same_bytes_whatever_its_file_times_and_modes() {
    let env = Env::new();
    let a = env.path("one/gw");
    let b = env.path("two/gw");
    write_chart(&a, "gw", "1.2.3");
    write_chart(&b, "gw", "1.2.3");
    // Different times, permissions and creation order on the second copy.
    for f in ["Chart.yaml", "values.yaml", "templates/configmap.yaml"] {
        touch(&a.join(f), "2001-02-03 04:05:06");
        touch(&b.join(f), "2030-06-07 08:09:10");
        std::fs::set_permissions(b.join(f), std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    std::fs::set_permissions(b.join("templates"), std::fs::Permissions::from_mode(0o700)).unwrap();

    env.ok(&["package", "one/gw", "-d", "out1"]);
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "umask 077 && cd {} && {} package two/gw -d out2",
            env.dir.path().display(),
            env!("CARGO_BIN_EXE_stoke")
        ))
        .env("HOME", env.path("home"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let first = sha256(&env.path("out1/gw-1.2.3.tgz"));
    assert_eq!(first, sha256(&env.path("out2/gw-1.2.3.tgz")));
    // And again later: nothing time-dependent leaks in.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    env.ok(&["package", "one/gw", "-d", "out3"]);
    assert_eq!(first, sha256(&env.path("out3/gw-1.2.3.tgz")));
}

#[test]
fn the_archive_holds_one_folder_named_after_the_chart_with_fixed_metadata() {
    let env = Env::new();
    write_chart(&env.path("src"), "gw", "0.1.0");
    let stdout = env.ok(&["package", "src", "-d", "dist"]);
    assert!(stdout.contains("dist/gw-0.1.0.tgz"), "{stdout}");
    let bytes = std::fs::read(env.path("dist/gw-0.1.0.tgz")).unwrap();
    assert_eq!(
        &bytes[..4],
        &[0x1f, 0x8b, 8, 0],
        "gzip without a stored file name"
    );
    assert_eq!(&bytes[4..8], &[0, 0, 0, 0], "gzip without a timestamp");
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
    let mut names = Vec::new();
    for e in tar.entries().unwrap() {
        let e = e.unwrap();
        let h = e.header();
        assert_eq!(h.mode().unwrap(), 0o644);
        assert_eq!(h.uid().unwrap(), 0);
        assert_eq!(h.mtime().unwrap(), 315_532_800);
        names.push(e.path().unwrap().display().to_string());
    }
    assert_eq!(
        names,
        [
            "gw/Chart.yaml",
            "gw/templates/configmap.yaml",
            "gw/values.yaml"
        ]
    );
}

#[test]
fn helmignore_patterns_keep_files_out_of_the_package() {
    let env = Env::new();
    let chart = env.path("gw");
    write_chart(&chart, "gw", "0.1.0");
    std::fs::write(chart.join(".helmignore"), "*.bak\nsecrets/\n").unwrap();
    std::fs::write(chart.join("notes.bak"), "x").unwrap();
    std::fs::create_dir_all(chart.join("secrets")).unwrap();
    std::fs::write(chart.join("secrets/key"), "x").unwrap();
    // An editor swap file or the like; Helm never packages hidden files under templates/.
    std::fs::write(chart.join("templates/.hidden.yaml"), "# scratch\n").unwrap();
    std::fs::write(chart.join("README.md"), "# gw").unwrap();
    env.ok(&["package", "gw"]);
    let bytes = std::fs::read(env.path("gw-0.1.0.tgz")).unwrap();
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
    let names: Vec<String> = tar
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect();
    assert!(names.contains(&"gw/README.md".to_string()), "{names:?}");
    assert!(names.contains(&"gw/.helmignore".to_string()), "{names:?}");
    for gone in [
        "gw/notes.bak",
        "gw/secrets/key",
        "gw/templates/.hidden.yaml",
    ] {
        assert!(
            !names.contains(&gone.to_string()),
            "{gone} packaged: {names:?}"
        );
    }
}

#[test]
fn version_overrides_rewrite_chart_yaml_and_the_file_name() {
    let env = Env::new();
    write_chart(&env.path("gw"), "gw", "0.1.0");
    env.ok(&[
        "package",
        "gw",
        "--version",
        "2.0.0-rc.1",
        "--app-version",
        "8.3.0",
    ]);
    let shown = env.ok(&["show", "chart", "gw-2.0.0-rc.1.tgz"]);
    assert!(shown.contains("version: 2.0.0-rc.1"), "{shown}");
    assert!(shown.contains("8.3.0"), "{shown}");
    // The source chart is untouched.
    let src = std::fs::read_to_string(env.path("gw/Chart.yaml")).unwrap();
    assert!(src.contains("version: 0.1.0"));
}

#[test]
fn a_packaged_chart_renders_like_its_directory() {
    let env = Env::new();
    write_chart(&env.path("gw"), "gw", "0.1.0");
    env.ok(&["package", "gw"]);
    let from_dir = env.ok(&["template", "r", "gw"]);
    let from_tgz = env.ok(&["template", "r", "gw-0.1.0.tgz"]);
    assert_eq!(from_dir, from_tgz);
    assert!(from_tgz.contains("name: r-gw"), "{from_tgz}");
}

#[test]
fn an_invalid_version_override_or_a_broken_chart_is_refused() {
    let env = Env::new();
    write_chart(&env.path("gw"), "gw", "0.1.0");
    let err = env.fails(&["package", "gw", "--version", "two"]);
    assert!(
        err.contains("--version `two` is not a valid SemVer"),
        "{err}"
    );
    std::fs::write(env.path("gw/templates/bad.yaml"), "{{ nope(").unwrap();
    let err = env.fails(&["package", "gw"]);
    assert!(err.contains("lint errors"), "{err}");
    assert!(!env.path("gw-0.1.0.tgz").exists());
}
