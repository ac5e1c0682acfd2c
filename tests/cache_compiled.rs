//! The on-disk cache of compiled artifacts (docs/cache.md): a second run reads a chart's
//! compiled templates back instead of compiling them, and nothing about the cache — an
//! edited template, a damaged or foreign entry, a folder that cannot be written — ever
//! changes what a render prints or makes it fail.

mod common;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use common::{Run, stoke_command};

/// A chart whose templates use a component, a filter section and a captured block, so the
/// saved form carries each kind of compiled code.
fn sample_chart(root: &Path) -> PathBuf {
    common::chart(
        root,
        "cached",
        &[
            (
                "templates/_helpers.tera",
                "{% component labels(name, tier=\"web\") %}app: {{ name }}\ntier: {{ tier }}{% endcomponent labels %}\n",
            ),
            (
                "templates/configmap.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ release.name }}-config\n  labels:\n{% filter indent(width=4, first=true) %}{{<labels name={release.name}/>}}{% endfilter %}\ndata:\n  greeting: {{ values.greeting | quote }}\n{% set n = values.count * 2 %}  doubled: \"{{ n }}\"\n",
            ),
            ("values.yaml", "greeting: hello\ncount: 21\n"),
        ],
    )
}

fn render(cwd: &Path, cache: &Path, chart: &Path, extra_env: &[(&str, &str)]) -> Run {
    let mut cmd = stoke_command(cwd);
    cmd.args(["template", "rel"])
        .arg(chart)
        .env("STOKE_CACHE_DIR", cache);
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    Run::from(cmd.output().expect("the stoke binary runs")).ok()
}

/// The compiled-template entries in `cache`, by path, with their inode (a rewrite renames a
/// new file into place, so the inode tells a read from a rewrite).
fn entries(cache: &Path) -> Vec<(PathBuf, u64)> {
    entries_of(cache, "tera-")
}

/// The entries of one kind (`tera-`, `schema-`) in `cache`, with their inode.
fn entries_of(cache: &Path, prefix: &str) -> Vec<(PathBuf, u64)> {
    let Ok(list) = std::fs::read_dir(cache) else {
        return Vec::new();
    };
    let mut out: Vec<(PathBuf, u64)> = list
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .map(|p| {
            let ino = std::fs::metadata(&p).unwrap().ino();
            (p, ino)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn a_second_run_reads_the_compiled_templates_back_and_prints_the_same() {
    let tmp = tempfile::tempdir().unwrap();
    let chart = sample_chart(tmp.path());
    let cache = tmp.path().join("cache");

    let first = render(tmp.path(), &cache, &chart, &[]);
    common::assert_contains(&first.stdout, "name: rel-config");
    common::assert_contains(&first.stdout, "    app: rel\n    tier: web");
    common::assert_contains(&first.stdout, "doubled: \"42\"");
    let saved = entries(&cache);
    assert_eq!(saved.len(), 1, "one entry for the chart: {saved:?}");

    let second = render(tmp.path(), &cache, &chart, &[]);
    assert_eq!(second.stdout, first.stdout);
    assert_eq!(second.stderr, first.stderr);
    assert_eq!(entries(&cache), saved, "a hit leaves the entry as it was");

    let uncached = render(tmp.path(), &cache, &chart, &[("STOKE_NO_CACHE", "1")]);
    assert_eq!(uncached.stdout, first.stdout);
}

#[test]
fn editing_one_template_misses_and_renders_the_new_text() {
    let tmp = tempfile::tempdir().unwrap();
    let chart = sample_chart(tmp.path());
    let cache = tmp.path().join("cache");
    let before = render(tmp.path(), &cache, &chart, &[]);

    let helpers = chart.join("templates/_helpers.tera");
    let text = std::fs::read_to_string(&helpers).unwrap();
    std::fs::write(&helpers, text.replace("tier=\"web\"", "tier=\"db\"")).unwrap();
    let after = render(tmp.path(), &cache, &chart, &[]);
    common::assert_contains(&after.stdout, "tier: db");
    assert_eq!(
        after.stdout,
        before.stdout.replace("tier: web", "tier: db"),
        "only the edited text changed"
    );
    assert_eq!(
        entries(&cache).len(),
        2,
        "a second entry for the new sources"
    );

    // Back to the first sources: the first entry is found again, untouched.
    let first_entries = entries(&cache);
    std::fs::write(&helpers, &text).unwrap();
    let again = render(tmp.path(), &cache, &chart, &[]);
    assert_eq!(again.stdout, before.stdout);
    assert_eq!(entries(&cache), first_entries);
}

#[test]
fn a_damaged_entry_is_ignored_and_rebuilt_with_the_same_output() {
    let tmp = tempfile::tempdir().unwrap();
    let chart = sample_chart(tmp.path());
    let cache = tmp.path().join("cache");
    let good = render(tmp.path(), &cache, &chart, &[]);
    let [(path, ino)] = entries(&cache).try_into().unwrap();
    let whole = std::fs::read(&path).unwrap();

    let damages: Vec<(&str, Vec<u8>)> = vec![
        ("a flipped byte in the payload", {
            let mut b = whole.clone();
            let mid = b.len() - 40;
            b[mid] ^= 0x20;
            b
        }),
        ("a truncated entry", whole[..whole.len() / 2].to_vec()),
        ("an empty file", Vec::new()),
        ("garbage", b"not a cache entry at all\n".repeat(50)),
    ];
    for (what, bytes) in damages {
        std::fs::write(&path, &bytes).unwrap();
        let damaged_ino = std::fs::metadata(&path).unwrap().ino();
        let run = render(tmp.path(), &cache, &chart, &[]);
        assert_eq!(run.stdout, good.stdout, "{what}: same output");
        assert_eq!(
            run.stderr, good.stderr,
            "{what}: nothing said about the cache"
        );
        let [(_, rebuilt)] = entries(&cache).try_into().unwrap();
        assert_ne!(rebuilt, damaged_ino, "{what}: the entry was rewritten");
        assert_eq!(
            std::fs::read(&path).unwrap().len(),
            whole.len(),
            "{what}: whole again"
        );
        // The rebuilt entry is good: the next run reads it and leaves it alone.
        let next = render(tmp.path(), &cache, &chart, &[]);
        assert_eq!(next.stdout, good.stdout);
        assert_eq!(
            entries(&cache),
            [(path.clone(), rebuilt)],
            "{what}: read back"
        );
    }
    // (The first damage was written over the original entry, so its check above already
    // shows the original was replaced; a later entry may reuse the freed inode number.)
    let _ = ino;
}

#[test]
fn another_charts_entry_under_this_charts_name_is_not_trusted() {
    let tmp = tempfile::tempdir().unwrap();
    let chart = sample_chart(tmp.path());
    let other = common::chart(
        tmp.path(),
        "other",
        &[(
            "templates/configmap.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\n",
        )],
    );
    let cache = tmp.path().join("cache");
    let good = render(tmp.path(), &cache, &chart, &[]);
    let [(mine, _)] = entries(&cache).try_into().unwrap();
    render(tmp.path(), &cache, &other, &[]);
    let theirs = entries(&cache)
        .into_iter()
        .find(|(p, _)| *p != mine)
        .unwrap()
        .0;
    std::fs::copy(&theirs, &mine).unwrap();

    let run = render(tmp.path(), &cache, &chart, &[]);
    assert_eq!(run.stdout, good.stdout);
    assert_ne!(
        std::fs::read(&mine).unwrap(),
        std::fs::read(&theirs).unwrap()
    );
}

#[test]
fn a_cache_folder_that_cannot_be_created_or_is_missing_still_renders() {
    let tmp = tempfile::tempdir().unwrap();
    let chart = sample_chart(tmp.path());
    let reference = render(tmp.path(), &tmp.path().join("c1"), &chart, &[]);

    // Under a regular file: nothing can be created there, by root either.
    let blocker = tmp.path().join("a-file");
    std::fs::write(&blocker, "").unwrap();
    for _ in 0..2 {
        let run = render(tmp.path(), &blocker.join("cache"), &chart, &[]);
        assert_eq!(run.stdout, reference.stdout);
        assert_eq!(run.stderr, reference.stderr);
    }

    // Missing, several levels deep: created on the first write.
    let deep = tmp.path().join("not/yet/there");
    let run = render(tmp.path(), &deep, &chart, &[]);
    assert_eq!(run.stdout, reference.stdout);
    assert_eq!(entries(&deep).len(), 1);
}

#[test]
fn the_cache_is_off_with_stoke_no_cache_and_under_xdg_cache_home_by_default() {
    let tmp = tempfile::tempdir().unwrap();
    let chart = sample_chart(tmp.path());
    let xdg = tmp.path().join("xdg");
    let run = |env: &[(&str, &str)]| {
        let mut cmd = stoke_command(tmp.path());
        cmd.args(["template", "rel"])
            .arg(&chart)
            .env("XDG_CACHE_HOME", &xdg);
        for (k, v) in env {
            cmd.env(k, v);
        }
        Run::from(cmd.output().unwrap()).ok()
    };
    run(&[("STOKE_NO_CACHE", "1")]);
    assert!(!xdg.exists(), "nothing written with STOKE_NO_CACHE=1");
    run(&[]);
    assert_eq!(entries(&xdg.join("stoke/compiled")).len(), 1);
}

#[test]
fn a_template_that_does_not_compile_fails_alike_with_and_without_the_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let chart = common::chart(
        tmp.path(),
        "broken",
        &[(
            "templates/a.yaml",
            "kind: {{ values.x | no_such_filter }}\n",
        )],
    );
    let cache = tmp.path().join("cache");
    let run = |env: &[(&str, &str)]| {
        let mut cmd = stoke_command(tmp.path());
        cmd.args(["template", "rel"])
            .arg(&chart)
            .env("STOKE_CACHE_DIR", &cache);
        for (k, v) in env {
            cmd.env(k, v);
        }
        Run::from(cmd.output().unwrap()).fails()
    };
    let cached = run(&[]);
    common::assert_contains(&cached.stderr, "no_such_filter");
    assert!(
        entries(&cache).is_empty(),
        "nothing saved for a failed compile"
    );
    let uncached = run(&[("STOKE_NO_CACHE", "1")]);
    assert_eq!(cached.stderr, uncached.stderr);
}

#[test]
fn the_ignition_chart_renders_byte_for_byte_alike_cold_warm_and_uncached() {
    let tmp = tempfile::tempdir().unwrap();
    let chart = common::repo().join("charts/ignition");
    let cache = tmp.path().join("cache");
    let values = common::repo().join("values/redundant.yaml");
    let run = |env: &[(&str, &str)]| {
        let mut cmd = stoke_command(tmp.path());
        cmd.args(["template", "gw"])
            .arg(&chart)
            .arg("-f")
            .arg(&values)
            // A Secret of our own, so no password is generated at random.
            .args(["--set", "commissioning.auth.existingSecret=gw-admin"])
            .env("STOKE_CACHE_DIR", &cache);
        for (k, v) in env {
            cmd.env(k, v);
        }
        Run::from(cmd.output().unwrap()).ok()
    };
    let uncached = run(&[("STOKE_NO_CACHE", "1")]);
    let cold = run(&[]);
    let warm = run(&[]);
    assert_eq!(cold.stdout, uncached.stdout);
    assert_eq!(warm.stdout, uncached.stdout);
    assert_eq!(warm.stderr, uncached.stderr);
}

#[test]
fn a_render_error_points_at_the_same_line_and_column_from_a_saved_entry() {
    let tmp = tempfile::tempdir().unwrap();
    let chart = common::chart(
        tmp.path(),
        "pointing",
        &[(
            "templates/a.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ values.naem }}\n",
        )],
    );
    let cache = tmp.path().join("cache");
    let run = |env: &[(&str, &str)]| {
        let mut cmd = stoke_command(tmp.path());
        cmd.args(["template", "rel"])
            .arg(&chart)
            .args(["--set", "name=x"])
            .env("STOKE_CACHE_DIR", &cache);
        for (k, v) in env {
            cmd.env(k, v);
        }
        Run::from(cmd.output().unwrap()).fails()
    };
    let uncached = run(&[("STOKE_NO_CACHE", "1")]);
    common::assert_contains(&uncached.stderr, "naem");
    let cold = run(&[]);
    assert_eq!(entries(&cache).len(), 1, "compiled fine, so saved");
    let warm = run(&[]);
    assert_eq!(cold.stderr, uncached.stderr);
    assert_eq!(warm.stderr, uncached.stderr);
}

/// A chart with a schema that requires `replicas` to be an integer of at least 1.
fn schema_chart(root: &Path) -> PathBuf {
    common::chart(
        root,
        "checked",
        &[
            (
                "templates/a.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  n: \"{{ values.replicas }}\"\n",
            ),
            ("values.yaml", "replicas: 1\n"),
            (
                "values.schema.json",
                r#"{"type": "object", "properties": {"replicas": {"type": "integer", "minimum": 1}}}"#,
            ),
        ],
    )
}

#[test]
fn a_saved_schema_verdict_is_only_ever_for_the_same_values() {
    let tmp = tempfile::tempdir().unwrap();
    let chart = schema_chart(tmp.path());
    let cache = tmp.path().join("cache");
    let run = |set: &str, env: &[(&str, &str)]| {
        let mut cmd = stoke_command(tmp.path());
        cmd.args(["template", "rel"])
            .arg(&chart)
            .args(["--set", set])
            .env("STOKE_CACHE_DIR", &cache);
        for (k, v) in env {
            cmd.env(k, v);
        }
        Run::from(cmd.output().unwrap())
    };

    let valid = run("replicas=3", &[]).ok();
    let saved = entries_of(&cache, "schema-");
    assert_eq!(saved.len(), 1, "one verdict for valid values");
    let again = run("replicas=3", &[]).ok();
    assert_eq!(again.stdout, valid.stdout);
    assert_eq!(
        entries_of(&cache, "schema-"),
        saved,
        "read back, not rewritten"
    );

    // Other values are checked afresh, and the errors read exactly as without a cache.
    let invalid = run("replicas=0", &[]).fails();
    common::assert_contains(&invalid.stderr, "replicas");
    let uncached = run("replicas=0", &[("STOKE_NO_CACHE", "1")]).fails();
    assert_eq!(invalid.stderr, uncached.stderr);
    assert_eq!(
        entries_of(&cache, "schema-"),
        saved,
        "nothing saved for values that do not match"
    );
    assert_eq!(run("replicas=0", &[]).fails().stderr, uncached.stderr);

    // A damaged verdict reads as none: the values are validated again.
    let [(path, _)] = saved.try_into().unwrap();
    std::fs::write(&path, b"garbage").unwrap();
    assert_eq!(run("replicas=3", &[]).ok().stdout, valid.stdout);
    assert_eq!(run("replicas=0", &[]).fails().stderr, uncached.stderr);
}

#[test]
fn editing_the_schema_makes_saved_verdicts_stale() {
    let tmp = tempfile::tempdir().unwrap();
    let chart = schema_chart(tmp.path());
    let cache = tmp.path().join("cache");
    let run = || {
        let mut cmd = stoke_command(tmp.path());
        cmd.args(["template", "rel"])
            .arg(&chart)
            .args(["--set", "replicas=3"])
            .env("STOKE_CACHE_DIR", &cache);
        Run::from(cmd.output().unwrap())
    };
    run().ok();
    std::fs::write(
        chart.join("values.schema.json"),
        r#"{"type": "object", "properties": {"replicas": {"type": "integer", "maximum": 2}}}"#,
    )
    .unwrap();
    run().fails().stderr_has(&["replicas", "2"]);
}

/// A chart's parsed `values.yaml` is saved too: the second run reads it back, an edit to the
/// file misses (the render shows the new value), and a damaged entry is parsed again with
/// the same output.
#[test]
fn a_charts_parsed_values_file_is_read_back_and_never_outlives_an_edit() {
    let tmp = tempfile::tempdir().unwrap();
    let chart = sample_chart(tmp.path());
    let cache = tmp.path().join("cache");
    let first = render(tmp.path(), &cache, &chart, &[]);
    let [(path, ino)] = entries_of(&cache, "values-").try_into().unwrap();
    let second = render(tmp.path(), &cache, &chart, &[]);
    assert_eq!(second.stdout, first.stdout);
    assert_eq!(
        entries_of(&cache, "values-"),
        [(path.clone(), ino)],
        "read back, not rewritten"
    );

    let mut damaged = std::fs::read(&path).unwrap();
    let last = damaged.len() - 1;
    damaged[last] ^= 0x01;
    std::fs::write(&path, &damaged).unwrap();
    let third = render(tmp.path(), &cache, &chart, &[]);
    assert_eq!(
        third.stdout, first.stdout,
        "a damaged entry changes nothing"
    );

    std::fs::write(chart.join("values.yaml"), "greeting: bonjour\ncount: 4\n").unwrap();
    let edited = render(tmp.path(), &cache, &chart, &[]);
    assert!(
        edited.stdout.contains("greeting: \"bonjour\""),
        "{}",
        edited.stdout
    );
    assert!(
        edited.stdout.contains("doubled: \"8\""),
        "{}",
        edited.stdout
    );
    assert_eq!(
        entries_of(&cache, "values-").len(),
        2,
        "one entry per file content"
    );
}

/// `stoke ARGS` with the cache in `cache`, or with the cache off (exit status not checked).
fn stoke_in(cwd: &Path, cache: &Path, args: &[&std::ffi::OsStr], no_cache: bool) -> Run {
    let mut cmd = stoke_command(cwd);
    cmd.args(args).env("STOKE_CACHE_DIR", cache);
    if no_cache {
        cmd.env("STOKE_NO_CACHE", "1");
    }
    Run::from(cmd.output().expect("the stoke binary runs"))
}

/// `stoke template rel CHART -f FILE` with the cache in `cache`.
fn render_with(cwd: &Path, cache: &Path, chart: &Path, file: &Path, no_cache: bool) -> Run {
    let args = [
        "template".as_ref(),
        "rel".as_ref(),
        chart.as_os_str(),
        "-f".as_ref(),
        file.as_os_str(),
    ];
    stoke_in(cwd, cache, &args, no_cache)
}

#[test]
fn a_saved_chart_yaml_and_values_file_are_read_back_and_never_outlive_an_edit() {
    let tmp = tempfile::tempdir().unwrap();
    let chart = sample_chart(tmp.path());
    let cache = tmp.path().join("cache");
    let file = tmp.path().join("site.yaml");
    std::fs::write(&file, "greeting: hallo\n").unwrap();

    let first = render_with(tmp.path(), &cache, &chart, &file, false).ok();
    assert!(
        first.stdout.contains("greeting: \"hallo\""),
        "{}",
        first.stdout
    );
    let chart_entries = entries_of(&cache, "chartyaml-");
    let values_entries = entries_of(&cache, "values-");
    assert_eq!(chart_entries.len(), 1, "Chart.yaml is saved");
    assert_eq!(
        values_entries.len(),
        2,
        "values.yaml and the -f file are saved"
    );
    let second = render_with(tmp.path(), &cache, &chart, &file, false).ok();
    assert_eq!(second.stdout, first.stdout);
    assert_eq!(entries_of(&cache, "chartyaml-"), chart_entries, "read back");
    assert_eq!(entries_of(&cache, "values-"), values_entries, "read back");

    // An edited values file is parsed again.
    std::fs::write(&file, "greeting: hej\ncount: 1\n").unwrap();
    let edited = render_with(tmp.path(), &cache, &chart, &file, false).ok();
    assert!(
        edited.stdout.contains("greeting: \"hej\""),
        "{}",
        edited.stdout
    );
    assert!(
        edited.stdout.contains("doubled: \"2\""),
        "{}",
        edited.stdout
    );

    // A Chart.yaml edited into a bad one fails exactly as without the cache.
    let chart_yaml = chart.join("Chart.yaml");
    let good = std::fs::read_to_string(&chart_yaml).unwrap();
    std::fs::write(
        &chart_yaml,
        good.replace("version: ", "version: v-not-semver-"),
    )
    .unwrap();
    let cached = render_with(tmp.path(), &cache, &chart, &file, false);
    let uncached = render_with(tmp.path(), &cache, &chart, &file, true);
    assert_ne!(cached.code, 0, "{}", cached.stderr);
    assert_eq!(cached.code, uncached.code);
    assert_eq!(cached.stderr, uncached.stderr);
    assert!(
        cached.stderr.contains("not a valid SemVer"),
        "{}",
        cached.stderr
    );

    // Back to the good text: its saved entry is read again.
    std::fs::write(&chart_yaml, &good).unwrap();
    let back = render_with(tmp.path(), &cache, &chart, &file, false).ok();
    assert_eq!(back.stdout, edited.stdout);
    assert_eq!(entries_of(&cache, "chartyaml-"), chart_entries);
}

/// `stoke fleet template -f FLEET` with the cache in `cache`.
fn fleet_with(cwd: &Path, cache: &Path, fleet: &Path, no_cache: bool) -> Run {
    let args = [
        "fleet".as_ref(),
        "template".as_ref(),
        "-f".as_ref(),
        fleet.as_os_str(),
    ];
    stoke_in(cwd, cache, &args, no_cache)
}

#[test]
fn a_saved_fleet_file_is_read_back_and_an_edit_or_a_mistake_reads_as_without_the_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let chart = sample_chart(tmp.path());
    let cache = tmp.path().join("cache");
    let fleet = tmp.path().join("fleet.yaml");
    let entry = |name: &str| {
        format!(
            "  - name: {name}\n    namespace: plant\n    chart: {}\n",
            chart.display()
        )
    };
    let two = format!("name: plants\nreleases:\n{}{}", entry("a"), entry("b"));
    std::fs::write(&fleet, &two).unwrap();

    let first = fleet_with(tmp.path(), &cache, &fleet, false).ok();
    assert!(first.stdout.contains("name: b-config"), "{}", first.stdout);
    let saved = entries_of(&cache, "values-");
    assert_eq!(saved.len(), 2, "values.yaml and the fleet file are saved");
    let second = fleet_with(tmp.path(), &cache, &fleet, false).ok();
    assert_eq!(second.stdout, first.stdout);
    assert_eq!(entries_of(&cache, "values-"), saved, "read back");
    let uncached = fleet_with(tmp.path(), &cache, &fleet, true).ok();
    assert_eq!(uncached.stdout, first.stdout);

    // An added release is seen at once.
    std::fs::write(&fleet, format!("{two}{}", entry("c"))).unwrap();
    let edited = fleet_with(tmp.path(), &cache, &fleet, false).ok();
    assert!(
        edited.stdout.contains("name: c-config"),
        "{}",
        edited.stdout
    );

    // A mistake is reported at its line, word for word as without the cache.
    std::fs::write(
        &fleet,
        format!("{two}  - name: d\n    chrat: {}\n", chart.display()),
    )
    .unwrap();
    let cached = fleet_with(tmp.path(), &cache, &fleet, false);
    let fresh = fleet_with(tmp.path(), &cache, &fleet, true);
    assert_ne!(cached.code, 0, "{}", cached.stderr);
    assert_eq!((cached.code, &cached.stderr), (fresh.code, &fresh.stderr));
    assert!(
        cached.stderr.contains("fleet.yaml:9:") && cached.stderr.contains("release #3"),
        "{}",
        cached.stderr
    );
}
