//! Chart folders with symbolic links and oversized files: links leaving the chart are
//! refused naming the link (by every command that reads a chart, `package` included), links
//! inside it are read as the files they point to, and a file over the size limit is a clear
//! error naming it and the variable that raises the limit.

mod common;

use std::os::unix::fs::symlink;

use common::{chart, stoke_in};

const CM: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  a: \"{{ values.a }}\"\n";

#[test]
fn a_link_out_of_the_chart_is_refused_naming_it_by_template_lint_and_package() {
    let tmp = tempfile::tempdir().unwrap();
    let secret_dir = tmp.path().join("private");
    std::fs::create_dir(&secret_dir).unwrap();
    std::fs::write(secret_dir.join("shadow"), "root:$6$hash").unwrap();
    for (link, to) in [
        ("templates/etc", secret_dir.clone()),
        ("files/shadow", secret_dir.join("shadow")),
        ("values.yaml", secret_dir.join("shadow")),
    ] {
        let c = chart(tmp.path(), "gw", &[("templates/cm.yaml", CM)]);
        std::fs::create_dir_all(c.join(link).parent().unwrap()).unwrap();
        symlink(&to, c.join(link)).unwrap();
        for args in [
            vec!["template", "r", "gw"],
            vec!["lint", "gw"],
            vec!["package", "gw", "-d", "pkg"],
        ] {
            let r = stoke_in(tmp.path(), &args);
            let text = format!("{}{}", r.stdout, r.stderr);
            assert_ne!(r.code, 0, "{args:?} with {link}: {text}");
            assert!(
                text.contains(&format!("gw/{link}`")) && text.contains("outside the chart folder"),
                "{args:?} with {link}: {text}"
            );
            assert!(!text.contains("root:$6$hash"), "{text}");
        }
        assert!(
            !tmp.path().join("pkg").exists()
                || std::fs::read_dir(tmp.path().join("pkg")).unwrap().count() == 0
        );
        std::fs::remove_dir_all(&c).unwrap();
    }
}

#[test]
fn a_link_inside_the_chart_is_read_as_the_file_it_points_to() {
    let tmp = tempfile::tempdir().unwrap();
    let c = chart(
        tmp.path(),
        "gw",
        &[("shared/cm.yaml", CM), ("values.yaml", "a: linked\n")],
    );
    std::fs::create_dir(c.join("templates")).unwrap();
    symlink("../shared/cm.yaml", c.join("templates/cm.yaml")).unwrap();
    let r = stoke_in(tmp.path(), &["template", "r", "gw"]).expect(0);
    assert!(r.stdout.contains("a: \"linked\""), "{}", r.stdout);
    stoke_in(tmp.path(), &["package", "gw", "-d", "pkg"]).expect(0);
    let r = stoke_in(tmp.path(), &["template", "r", "pkg/gw-0.1.0.tgz"]).expect(0);
    assert!(r.stdout.contains("a: \"linked\""), "{}", r.stdout);

    // A link to a folder holding it would loop forever.
    symlink("..", c.join("templates/loop")).unwrap();
    let r = stoke_in(tmp.path(), &["template", "r", "gw"]).expect(1);
    assert!(
        r.stderr.contains("templates/loop") && r.stderr.contains("loop"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_chart_file_over_the_limit_is_a_clear_error_that_says_how_to_raise_it() {
    let tmp = tempfile::tempdir().unwrap();
    let c = chart(
        tmp.path(),
        "gw",
        &[("templates/cm.yaml", CM), ("values.yaml", "a: x\n")],
    );
    std::fs::write(c.join("files.bin"), vec![b'x'; 6 * 1024 * 1024]).unwrap();
    for args in [
        vec!["package", "gw", "-d", "pkg"],
        vec!["template", "r", "gw"],
    ] {
        let r = stoke_in(tmp.path(), &args).expect(1);
        assert!(
            r.stderr.contains("gw/files.bin") && r.stderr.contains("STOKE_MAX_CHART_FILE_BYTES"),
            "{}",
            r.stderr
        );
        assert!(!r.stderr.contains("bug"), "{}", r.stderr);
    }
    let out = common::stoke_command(tmp.path())
        .args(["package", "gw", "-d", "pkg"])
        .env("STOKE_MAX_CHART_FILE_BYTES", "8000000")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
