//! A corpus of hostile chart archives, crafted byte by byte. Each must be refused with an
//! error that names the archive and the offending entry, and nothing may be written.

mod common;

use common::package::{Env, Raw, gzip, raw_tar};

const CHART_YAML: &[u8] = b"apiVersion: v2\nname: gw\nversion: 1.0.0\n";

/// Every file and folder under `dir`, to prove nothing appeared.
fn listing(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        out.push(e.file_name().to_string_lossy().into_owned());
        if e.file_type().unwrap().is_dir() {
            for sub in listing(&e.path()) {
                out.push(format!("{}/{sub}", e.file_name().to_string_lossy()));
            }
        }
    }
    out.sort();
    out
}

/// Writes `bytes` as `file` and asserts that template, show and lint all refuse it with
/// an error containing `expect`, leaving the folder exactly as it was.
fn refused(file: &str, bytes: &[u8], expect: &str) {
    let env = Env::new();
    std::fs::write(env.path(file), bytes).unwrap();
    let before = listing(env.dir.path());
    for args in [
        vec!["template", "r", file],
        vec!["show", "chart", file],
        vec!["lint", file],
    ] {
        let out = env.stoke(&args);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.status.success(), "{args:?} accepted {file}: {text}");
        assert!(
            text.contains(file),
            "{args:?}: the error should name {file}: {text}"
        );
        assert!(
            text.contains(expect),
            "{args:?}: expected `{expect}` in: {text}"
        );
    }
    assert_eq!(before, listing(env.dir.path()), "something was written");
}

fn chart_with(extra: Raw) -> Vec<u8> {
    gzip(&raw_tar(&[Raw::file("gw/Chart.yaml", CHART_YAML), extra]))
}

#[test]
fn an_absolute_path_is_refused() {
    refused(
        "abs.tgz",
        &chart_with(Raw::file("/etc/cron.d/evil", b"x")),
        "entry `/etc/cron.d/evil` has an absolute path",
    );
}

#[test]
fn a_parent_folder_reference_is_refused() {
    refused(
        "dotdot.tgz",
        &chart_with(Raw::file("gw/../../evil", b"x")),
        "entry `gw/../../evil` contains `..`",
    );
}

#[test]
fn symbolic_links_are_refused() {
    refused(
        "symlink.tgz",
        &chart_with(Raw::kind("gw/templates/x.yaml", b'2', "/etc/passwd")),
        "entry `gw/templates/x.yaml` is a symbolic link (to `/etc/passwd`)",
    );
}

#[test]
fn hard_links_are_refused() {
    refused(
        "hardlink.tgz",
        &chart_with(Raw::kind("gw/values.yaml", b'1', "gw/Chart.yaml")),
        "entry `gw/values.yaml` is a hard link",
    );
}

#[test]
fn device_files_are_refused() {
    refused(
        "chardev.tgz",
        &chart_with(Raw::kind("gw/null", b'3', "")),
        "entry `gw/null` is a device file",
    );
    refused(
        "blockdev.tgz",
        &chart_with(Raw::kind("gw/sda", b'4', "")),
        "entry `gw/sda` is a device file",
    );
}

#[test]
fn fifos_are_refused() {
    refused(
        "fifo.tgz",
        &chart_with(Raw::kind("gw/pipe", b'6', "")),
        "entry `gw/pipe` is a fifo",
    );
}

#[test]
fn a_duplicate_entry_is_refused() {
    refused(
        "dup.tgz",
        &chart_with(Raw::file(
            "gw/Chart.yaml",
            b"apiVersion: v2\nname: evil\nversion: 6.6.6\n",
        )),
        "entry `gw/Chart.yaml` appears twice",
    );
}

#[test]
fn a_second_top_level_folder_is_refused() {
    refused(
        "twotops.tgz",
        &chart_with(Raw::file("other/Chart.yaml", CHART_YAML)),
        "entry `other/Chart.yaml` lies outside the top-level folder `gw/`",
    );
}

#[test]
fn a_file_at_the_top_level_is_refused() {
    refused(
        "toplevel.tgz",
        &gzip(&raw_tar(&[Raw::file("Chart.yaml", CHART_YAML)])),
        "entry `Chart.yaml` is a file at the top level",
    );
}

#[test]
fn a_non_utf8_name_is_refused() {
    let mut e = Raw::file("", b"x");
    e.name = b"gw/templates/\xff\xfe.yaml";
    refused("latin1.tgz", &chart_with(e), "has a name that is not UTF-8");
}

#[test]
fn a_file_over_the_per_file_limit_is_refused_without_reading_it() {
    // Claims 6 MiB but the stream holds no data: the header alone must stop the read.
    let mut e = Raw::file("gw/huge.bin", b"");
    e.claimed_size = Some(6 * 1024 * 1024);
    refused(
        "bigfile.tgz",
        &chart_with(e),
        "entry `gw/huge.bin` is 6291456 bytes, over the 5 MiB limit",
    );
}

#[test]
fn a_gzip_bomb_is_abandoned_at_the_total_limit() {
    // 25 files of 4.5 MiB of zeros: each under the per-file limit, 112 MiB in all, but the
    // compressed archive is tiny.
    let zeros = vec![0u8; 4608 * 1024];
    let names: Vec<String> = (0..25).map(|i| format!("gw/pad{i:02}.bin")).collect();
    let mut entries = vec![Raw::file("gw/Chart.yaml", CHART_YAML)];
    for n in &names {
        entries.push(Raw::file(n, &zeros));
    }
    let bomb = gzip(&raw_tar(&entries));
    assert!(
        bomb.len() < 1024 * 1024,
        "the bomb should be small: {}",
        bomb.len()
    );
    refused("bomb.tgz", &bomb, "the files add up to more than 100 MiB");
}

#[test]
fn truncated_data_is_refused() {
    let good = chart_with(Raw::file("gw/values.yaml", &[b'a'; 20_000]));
    refused("cut.tgz", &good[..good.len() / 2], "truncated");
}

#[test]
fn data_that_is_not_gzip_is_refused() {
    refused(
        "plain.tgz",
        &raw_tar(&[Raw::file("gw/Chart.yaml", CHART_YAML)]),
        "it is not gzip-compressed",
    );
}

#[test]
fn a_folder_that_does_not_match_the_chart_name_is_refused() {
    refused(
        "renamed.tgz",
        &gzip(&raw_tar(&[Raw::file("ignition/Chart.yaml", CHART_YAML)])),
        "its folder `ignition/` does not match the chart name `gw`",
    );
}

#[test]
fn a_hostile_subchart_inside_a_good_package_is_refused() {
    let inner = chart_with(Raw::file("/abs", b"x"));
    let outer = gzip(&raw_tar(&[
        Raw::file("gw/Chart.yaml", CHART_YAML),
        Raw::file("gw/charts/sub-1.0.0.tgz", &inner),
    ]));
    refused("nested.tgz", &outer, "entry `/abs` has an absolute path");
}

#[test]
fn repository_index_on_a_folder_of_hostile_packages_fails_naming_the_file() {
    let env = Env::new();
    std::fs::create_dir_all(env.path("repo")).unwrap();
    std::fs::write(
        env.path("repo/gw-1.0.0.tgz"),
        chart_with(Raw::kind("gw/x", b'2', "/etc/shadow")),
    )
    .unwrap();
    let err = env.fails(&["repo", "index", "repo"]);
    assert!(err.contains("gw-1.0.0.tgz"), "{err}");
    assert!(err.contains("symbolic link"), "{err}");
    assert!(!env.path("repo/index.yaml").exists());
}

/// A pax extended header record (`LEN key=value\n`, LEN counting itself).
fn pax_record(key: &str, value: &str) -> Vec<u8> {
    let body = format!(" {key}={value}\n");
    let mut len = body.len() + 1;
    while format!("{len}{body}").len() != len {
        len += 1;
    }
    format!("{len}{body}").into_bytes()
}

#[test]
fn a_pax_header_that_renames_an_entry_outside_the_folder_is_refused() {
    let record = pax_record("path", "gw/../../../etc/evil");
    let pax = Raw {
        name: b"gw/PaxHeaders/innocent",
        kind: b'x',
        data: &record,
        link: "",
        claimed_size: None,
    };
    let bytes = gzip(&raw_tar(&[
        Raw::file("gw/Chart.yaml", CHART_YAML),
        pax,
        Raw::file("gw/innocent", b"x"),
    ]));
    refused(
        "pax.tgz",
        &bytes,
        "entry `gw/../../../etc/evil` contains `..`",
    );
}

#[test]
fn a_gnu_long_name_that_escapes_is_refused() {
    let long = format!("gw/{}/../../../../evil", "a".repeat(120));
    let mut data = long.clone().into_bytes();
    data.push(0);
    let gnu = Raw {
        name: b"././@LongLink",
        kind: b'L',
        data: &data,
        link: "",
        claimed_size: None,
    };
    let bytes = gzip(&raw_tar(&[
        Raw::file("gw/Chart.yaml", CHART_YAML),
        gnu,
        Raw::file("gw/short", b"x"),
    ]));
    refused("longname.tgz", &bytes, "contains `..`");
}

#[test]
fn old_style_folder_entries_are_accepted() {
    // Control case: a pre-POSIX folder entry (regular type, trailing slash) is harmless.
    let env = Env::new();
    let bytes = gzip(&raw_tar(&[
        Raw::file("gw/", b""),
        Raw::file("gw/Chart.yaml", CHART_YAML),
        Raw::file("gw/templates/", b""),
    ]));
    std::fs::write(env.path("v7.tgz"), bytes).unwrap();
    let shown = env.ok(&["show", "chart", "v7.tgz"]);
    assert!(shown.contains("name: gw"), "{shown}");
}

/// A gzip stream with stored (uncompressed) blocks, so one byte of content can be edited
/// without breaking the deflate data: only the CRC-32 trailer tells.
fn stored_gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::none());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

fn edited_package() -> Vec<u8> {
    let tar = raw_tar(&[
        Raw::file("gw/Chart.yaml", CHART_YAML),
        Raw::file(
            "gw/values.yaml",
            b"image: registry.example/ignition:8.1.40\n",
        ),
    ]);
    let mut gz = stored_gzip(&tar);
    let at = gz
        .windows(6)
        .position(|w| w == b"8.1.40")
        .expect("stored content is visible");
    gz[at] = b'9';
    gz
}

#[test]
fn a_one_byte_edit_is_caught_by_the_gzip_checksum() {
    refused(
        "edited.tgz",
        &edited_package(),
        "checksum or length does not match",
    );
}

#[test]
fn a_wrong_length_in_the_gzip_trailer_is_refused() {
    let mut gz = gzip(&raw_tar(&[Raw::file("gw/Chart.yaml", CHART_YAML)]));
    let n = gz.len();
    gz[n - 1] ^= 0x01;
    refused("length.tgz", &gz, "checksum or length does not match");
}

#[test]
fn data_appended_after_the_gzip_stream_is_refused() {
    let mut gz = gzip(&raw_tar(&[Raw::file("gw/Chart.yaml", CHART_YAML)]));
    gz.extend_from_slice(b"#!/bin/sh\necho appended\n");
    refused("appended.tgz", &gz, "follow the end of the gzip stream");
}
