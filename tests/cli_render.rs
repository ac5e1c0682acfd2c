//! `stoke template`, `values`, `show`, `create` and `lint` driven through the binary, one
//! test per behaviour and per error path.

mod common;

use common::{chart, documents, stoke_in, write_files};

const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ release.name }}-{{ values.suffix }}\ndata:\n  a: {{ values.a | quote }}\n";

#[test]
fn template_renders_documents_with_source_lines_in_install_order() {
    let tmp = tempfile::tempdir().unwrap();
    chart(
        tmp.path(),
        "c",
        &[
            ("values.yaml", "suffix: cfg\na: 1\n"),
            (
                "templates/z-deploy.yaml",
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  selector: {}\n  template:\n    spec:\n      containers: [{name: x, image: y}]\n",
            ),
            ("templates/cm.yaml", CM),
            (
                "templates/ns.yaml",
                "---\n# only a comment\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns\n",
            ),
            (
                "templates/_helpers.tera",
                "{% component unused() %}x{% endcomponent unused %}",
            ),
        ],
    );
    let run = stoke_in(tmp.path(), &["template", "rel", "c"]).expect(0);
    let sources: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("# Source:"))
        .collect();
    assert_eq!(
        sources,
        [
            "# Source: c/templates/ns.yaml",
            "# Source: c/templates/cm.yaml",
            "# Source: c/templates/z-deploy.yaml"
        ]
    );
    let docs = documents(&run.stdout);
    assert_eq!(docs[1]["metadata"]["name"], "rel-cfg");
    assert_eq!(docs[1]["data"]["a"], "1");
}

#[test]
fn values_files_apply_in_order_and_null_deletes_a_default() {
    let tmp = tempfile::tempdir().unwrap();
    chart(
        tmp.path(),
        "c",
        &[(
            "values.yaml",
            "a: 1\nmap:\n  keep: k\n  drop: d\nlist: [1, 2]\n",
        )],
    );
    write_files(
        tmp.path(),
        &[
            ("one.yaml", "a: 2\nmap:\n  drop: null\n"),
            ("two.yaml", "a: 3\nlist: [9]\n"),
        ],
    );
    let run = stoke_in(
        tmp.path(),
        &[
            "values", "c", "-f", "one.yaml", "-f", "two.yaml", "-o", "json",
        ],
    )
    .expect(0);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"a": 3, "map": {"keep": "k"}, "list": [9]})
    );
}

#[test]
fn subcharts_get_their_section_globals_aliases_and_conditions() {
    let tmp = tempfile::tempdir().unwrap();
    let parent = chart(
        tmp.path(),
        "parent",
        &[(
            "values.yaml",
            "global:\n  site: plant-a\nfront:\n  port: 8088\nback:\n  enabled: false\n",
        )],
    );
    std::fs::write(
        parent.join("Chart.yaml"),
        "apiVersion: v2\nname: parent\nversion: 1.0.0\ndependencies:\n  - name: gw\n    version: ^0.1.0\n    alias: front\n  - name: gw\n    version: ~0.1\n    alias: back\n    condition: back.enabled\n",
    )
    .unwrap();
    chart(
        &parent.join("charts"),
        "gw",
        &[
            (
                "values.yaml",
                "port: 80\nglobal:\n  site: default-site\n  region: eu\n",
            ),
            (
                "templates/svc.yaml",
                "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ chart.name }}\n  labels:\n    site: {{ values.global.site }}\n    region: {{ values.global.region }}\nspec:\n  ports: [{port: {{ values.port }}}]\n",
            ),
        ],
    );
    let run = stoke_in(tmp.path(), &["template", "r", "parent"]).expect(0);
    let docs = documents(&run.stdout);
    assert_eq!(
        docs.len(),
        1,
        "back is disabled by its condition:\n{}",
        run.stdout
    );
    assert_eq!(docs[0]["metadata"]["name"], "front");
    assert_eq!(
        docs[0]["metadata"]["labels"]["site"], "plant-a",
        "the parent's global wins"
    );
    assert_eq!(
        docs[0]["metadata"]["labels"]["region"], "eu",
        "the subchart's own globals fill gaps"
    );
    assert_eq!(docs[0]["spec"]["ports"][0]["port"], 8088);
    assert!(
        run.stdout
            .contains("# Source: parent/charts/front/templates/svc.yaml")
    );

    let values = stoke_in(tmp.path(), &["values", "parent", "-o", "json"]).expect(0);
    let v: serde_json::Value = serde_json::from_str(&values.stdout).unwrap();
    assert_eq!(v["front"]["global"]["site"], "plant-a");
}

#[test]
fn library_charts_render_nothing_but_lend_their_helpers() {
    let tmp = tempfile::tempdir().unwrap();
    let app = chart(
        tmp.path(),
        "app",
        &[(
            "templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ <common.name prefix=\"x\"/> }}\n",
        )],
    );
    let lib = chart(
        &app.join("charts"),
        "common",
        &[
            (
                "templates/_names.tera",
                "{% component common.name(prefix) %}{{ prefix }}-named{% endcomponent common.name %}",
            ),
            (
                "templates/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: never\n",
            ),
        ],
    );
    std::fs::write(
        lib.join("Chart.yaml"),
        "apiVersion: v2\nname: common\nversion: 1.0.0\ntype: library\n",
    )
    .unwrap();
    let run = stoke_in(tmp.path(), &["template", "r", "app"]).expect(0);
    let docs = documents(&run.stdout);
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0]["metadata"]["name"], "x-named");
}

#[test]
fn helpers_and_functions_match_helm_semantics() {
    let tmp = tempfile::tempdir().unwrap();
    chart(
        tmp.path(),
        "c",
        &[
            (
                "values.yaml",
                "name: Gateway Main\nlabels:\n  b: \"2\"\n  a: \"1\"\ngreeting: \"hello {{ release.name }}\"\n",
            ),
            ("files/app.conf", "x=1\ny=2\n"),
            (
                "templates/_h.tera",
                "{% component c.labels(@values) -%}\n{{ values.labels | to_yaml }}\n{%- endcomponent c.labels %}",
            ),
            (
                "templates/cm.yaml",
                concat!(
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ values.name | kebab_case | trunc(length=63) }}\n",
                    "  labels:\n    {{- include(name=\"c.labels\") | nindent(width=4) }}\n",
                    "data:\n  greeting: {{ tpl(template=values.greeting) | quote }}\n",
                    "  conf: {{ files_get(path=\"files/app.conf\") | quote }}\n",
                    "  lines: {{ files_lines(path=\"files/app.conf\") | length | quote }}\n",
                    "  b64: {{ \"abc\" | b64encode | quote }}\n",
                    "  sum: {{ \"abc\" | sha256sum | trunc(length=8) | quote }}\n",
                    "  semver: {{ semver_compare(constraint=\">=1.25.0-0\", version=capabilities.kube_version.version) | quote }}\n",
                    "  dns: {{ \"a-very-long-name-that-goes-on-and-on-and-on-until-it-breaks-the-63-limit-\" | dns_name | quote }}\n",
                    "  missing: {{ lookup(api_version=\"v1\", kind=\"Secret\", namespace=\"default\", name=\"x\") | to_json | quote }}\n",
                ),
            ),
        ],
    );
    let run = stoke_in(tmp.path(), &["template", "rel", "c"]).expect(0);
    let docs = documents(&run.stdout);
    let d = &docs[0];
    assert_eq!(d["metadata"]["name"], "gateway-main");
    assert_eq!(d["metadata"]["labels"]["a"], "1");
    assert_eq!(d["data"]["greeting"], "hello rel");
    assert_eq!(d["data"]["conf"], "x=1\ny=2\n");
    assert_eq!(d["data"]["lines"], "2");
    assert_eq!(d["data"]["b64"], "YWJj");
    assert_eq!(d["data"]["sum"], "ba7816bf");
    assert_eq!(d["data"]["semver"], "true");
    let dns = d["data"]["dns"].as_str().unwrap();
    assert!(dns.len() <= 63 && !dns.ends_with('-'), "{dns}");
    assert_eq!(d["data"]["missing"], "{}");
}

#[test]
fn show_only_and_output_dir_select_and_write_templates() {
    let tmp = tempfile::tempdir().unwrap();
    chart(
        tmp.path(),
        "c",
        &[
            ("values.yaml", "suffix: s\na: 1\n"),
            ("templates/cm.yaml", CM),
            (
                "templates/other.yaml",
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: other\n",
            ),
        ],
    );
    let run = stoke_in(
        tmp.path(),
        &["template", "r", "c", "--show-only", "templates/cm.yaml"],
    )
    .expect(0);
    assert_eq!(documents(&run.stdout).len(), 1);
    let err = stoke_in(
        tmp.path(),
        &["template", "r", "c", "--show-only", "templates/nope.yaml"],
    )
    .expect(1);
    assert!(
        err.stderr
            .contains("could not find template `templates/nope.yaml`"),
        "{}",
        err.stderr
    );

    stoke_in(tmp.path(), &["template", "r", "c", "--output-dir", "out"]).expect(0);
    let written = std::fs::read_to_string(tmp.path().join("out/c/templates/cm.yaml")).unwrap();
    assert!(written.starts_with("---\n# Source: c/templates/cm.yaml\n"));
    assert!(tmp.path().join("out/c/templates/other.yaml").is_file());
}

#[test]
fn notes_render_separately_and_only_with_the_flag() {
    let tmp = tempfile::tempdir().unwrap();
    chart(
        tmp.path(),
        "c",
        &[("templates/NOTES.txt", "Installed {{ release.name }}.\n")],
    );
    let plain = stoke_in(tmp.path(), &["template", "r", "c"]).expect(0);
    assert!(!plain.stdout.contains("Installed"));
    let with = stoke_in(tmp.path(), &["template", "r", "c", "--notes"]).expect(0);
    assert!(with.stdout.contains("# Installed r."), "{}", with.stdout);
}

#[test]
fn kube_version_constraints_and_capabilities_are_honoured() {
    let tmp = tempfile::tempdir().unwrap();
    let c = chart(
        tmp.path(),
        "c",
        &[(
            "templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  v: {{ capabilities.kube_version.version | quote }}\n  cm: {{ (\"cert-manager.io/v1\" in capabilities.api_versions) | quote }}\n",
        )],
    );
    std::fs::write(
        c.join("Chart.yaml"),
        "apiVersion: v2\nname: c\nversion: 1.0.0\nkubeVersion: \">=1.27.0-0\"\n",
    )
    .unwrap();
    let ok = stoke_in(
        tmp.path(),
        &[
            "template",
            "r",
            "c",
            "--kube-version",
            "1.29",
            "--api-versions",
            "cert-manager.io/v1",
        ],
    )
    .expect(0);
    let docs = documents(&ok.stdout);
    assert_eq!(docs[0]["data"]["v"], "v1.29.0");
    assert_eq!(docs[0]["data"]["cm"], "true");
    let old = stoke_in(
        tmp.path(),
        &["template", "r", "c", "--kube-version", "1.25.3"],
    )
    .expect(1);
    assert!(
        old.stderr
            .contains("requires Kubernetes >=1.27.0-0, but the target is v1.25.3"),
        "{}",
        old.stderr
    );
}

#[test]
fn show_prints_metadata_values_and_readme() {
    let tmp = tempfile::tempdir().unwrap();
    chart(
        tmp.path(),
        "c",
        &[
            ("values.yaml", "# the defaults\na: 1\n"),
            ("README.md", "# C chart\n"),
        ],
    );
    assert!(
        stoke_in(tmp.path(), &["show", "chart", "c"])
            .expect(0)
            .stdout
            .contains("name: c")
    );
    assert_eq!(
        stoke_in(tmp.path(), &["show", "values", "c"])
            .expect(0)
            .stdout,
        "# the defaults\na: 1\n"
    );
    assert_eq!(
        stoke_in(tmp.path(), &["show", "readme", "c"])
            .expect(0)
            .stdout,
        "# C chart\n"
    );
    let all = stoke_in(tmp.path(), &["show", "all", "c"]).expect(0).stdout;
    assert!(all.contains("name: c") && all.contains("a: 1") && all.contains("# C chart"));
}

#[test]
fn create_makes_a_chart_that_lints_clean_with_strict_and_renders() {
    let tmp = tempfile::tempdir().unwrap();
    stoke_in(tmp.path(), &["create", "my-gw"]).expect(0);
    let lint = stoke_in(tmp.path(), &["lint", "my-gw", "--strict"]).expect(0);
    assert!(
        lint.stdout.contains("1 chart(s) linted, 0 chart(s) failed"),
        "{}",
        lint.stdout
    );
    let run = stoke_in(tmp.path(), &["template", "edge", "my-gw"]).expect(0);
    let kinds: Vec<String> = documents(&run.stdout)
        .iter()
        .map(|d| d["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kinds, ["ServiceAccount", "Service", "Deployment"]);
    let again = stoke_in(tmp.path(), &["create", "my-gw"]).expect(1);
    assert!(again.stderr.contains("already exists"));
}

#[test]
fn completion_scripts_are_printed_for_each_shell() {
    let tmp = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let run = stoke_in(tmp.path(), &["completion", shell]).expect(0);
        assert!(run.stdout.contains("template"), "{shell}");
    }
}

#[test]
fn usage_errors_exit_with_two() {
    let tmp = tempfile::tempdir().unwrap();
    let run = stoke_in(tmp.path(), &["template"]).expect(2);
    assert!(run.stderr.contains("Usage"));
    stoke_in(tmp.path(), &["no-such-command"]).expect(2);
}

/// Subcommand names listed under `Commands:` in a help text.
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect()
}

/// The start of the description a help text's `Commands:` list gives for `cmd`: its first
/// 30 characters, which no line wrapping cuts, without the list's `[aliases: ...]`.
fn listed_about(help: &str, cmd: &str) -> String {
    let line = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .find(|l| l.split_whitespace().next() == Some(cmd))
        .unwrap_or_else(|| panic!("`{cmd}` is not listed in:\n{help}"));
    let about = line.trim_start().strip_prefix(cmd).unwrap().trim_start();
    let about = about.split(" [alias").next().unwrap();
    about.chars().take(30).collect()
}

#[test]
fn every_command_has_help_with_an_example() {
    let tmp = tempfile::tempdir().unwrap();
    let top = stoke_in(tmp.path(), &["--help"]).expect(0);
    let commands = subcommands(&top.stdout);
    assert!(commands.len() >= 20, "{commands:?}");
    for cmd in commands {
        let help = stoke_in(tmp.path(), &[&cmd, "--help"]).expect(0).stdout;
        assert!(
            help.contains("Example"),
            "`stoke {cmd} --help` has no example"
        );
        // A command's own help opens with the description the command list gives it
        // (commands are defined lazily, and their argument structs must not replace it).
        let about = listed_about(&top.stdout, &cmd);
        assert!(
            !about.is_empty() && help.starts_with(&about),
            "`stoke {cmd} --help` opens with {:?}, but `stoke --help` describes it as {about:?}",
            help.lines().next()
        );
        for sub in subcommands(&help) {
            let run = stoke_in(tmp.path(), &[&cmd, &sub, "--help"]).expect(0);
            assert!(
                run.stdout.contains("Example"),
                "`stoke {cmd} {sub} --help` has no example"
            );
            let about = listed_about(&help, &sub);
            assert!(
                !about.is_empty() && run.stdout.starts_with(&about),
                "`stoke {cmd} {sub} --help` opens with {:?}, but `stoke {cmd} --help` describes it as {about:?}",
                run.stdout.lines().next()
            );
        }
    }
}

#[test]
fn the_set_family_applies_after_files_in_command_line_order() {
    let tmp = tempfile::tempdir().unwrap();
    chart(
        tmp.path(),
        "c",
        &[("values.yaml", "a: 1\nb: {}\nlist: []\ncfg: \"\"\nn: 0\n")],
    );
    write_files(tmp.path(), &[("f.yaml", "a: 2\n"), ("app.conf", "k=v\n")]);
    let run = stoke_in(
        tmp.path(),
        &[
            "values",
            "c",
            "-f",
            "f.yaml",
            "--set",
            "a=3,b.x=true,list={x,y}",
            "--set-string",
            "n=5",
            "--set-json",
            r#"b={"y":[1,{"z":null}]}"#,
            "--set-file",
            "cfg=app.conf",
            "--set",
            "n=6",
            "--set-literal",
            "b.lit=a,b=c",
            "-o",
            "json",
        ],
    )
    .expect(0);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["a"], 3);
    // --set-json replaces `b` as a whole, as in Helm; the later literal adds to it.
    assert_eq!(
        v["b"],
        serde_json::json!({"y": [1, {"z": null}], "lit": "a,b=c"})
    );
    assert_eq!(v["list"], serde_json::json!(["x", "y"]));
    assert_eq!(v["cfg"], "k=v\n");
    assert_eq!(
        v["n"], 6,
        "the later --set wins over the earlier --set-string"
    );
}

#[test]
fn a_malformed_set_argument_names_the_flag_and_the_problem() {
    let tmp = tempfile::tempdir().unwrap();
    chart(tmp.path(), "c", &[("values.yaml", "a: 1\n")]);
    let run = stoke_in(tmp.path(), &["values", "c", "--set", "a={x,y"]).expect(1);
    assert!(
        run.stderr.contains("invalid --set argument `a={x,y`"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("list must terminate with '}'"),
        "{}",
        run.stderr
    );
    let missing = stoke_in(tmp.path(), &["values", "c", "--set-file", "a=nope.txt"]).expect(1);
    assert!(
        missing.stderr.contains("cannot read `nope.txt`"),
        "{}",
        missing.stderr
    );
}

#[test]
fn unknown_keys_from_set_name_the_argument() {
    let tmp = tempfile::tempdir().unwrap();
    chart(tmp.path(), "c", &[("values.yaml", "image:\n  tag: x\n")]);
    let run = stoke_in(tmp.path(), &["values", "c", "--set", "image.tga=y"]).expect(0);
    assert!(
        run.stderr.contains("warning: --set: key `image.tga` is not defined by the chart (did you mean `image.tag`?)"),
        "{}",
        run.stderr
    );
}

#[test]
fn import_values_copy_child_tables_into_the_parent_where_the_parent_does_not_set_them() {
    let tmp = tempfile::tempdir().unwrap();
    let parent = chart(
        tmp.path(),
        "p",
        &[
            (
                "values.yaml",
                "own: 1\nimported:\n  here:\n    keep: parent\n",
            ),
            (
                "templates/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: v\ndata:\n  values: {{ values | to_json | quote }}\n",
            ),
        ],
    );
    std::fs::write(
        parent.join("Chart.yaml"),
        "apiVersion: v2\nname: p\nversion: 1.0.0\ndependencies:\n  - name: c\n    version: 0.1.0\n    import-values:\n      - data\n      - child: settings.inner\n        parent: imported.here\n",
    )
    .unwrap();
    chart(
        &parent.join("charts"),
        "c",
        &[(
            "values.yaml",
            "exports:\n  data:\n    fromChild: yes-really\n    own: 2\nsettings:\n  inner:\n    keep: child\n    extra: x\n",
        )],
    );
    let run = stoke_in(tmp.path(), &["template", "r", "p", "--set", "own=5"]).expect(0);
    let docs = documents(&run.stdout);
    let v: serde_json::Value =
        serde_json::from_str(docs[0]["data"]["values"].as_str().unwrap()).unwrap();
    // What Helm 4 renders for the same chart (checked with helm-python-sdk).
    assert_eq!(
        v["fromChild"], "yes-really",
        "exports.data lands at the top"
    );
    assert_eq!(
        v["own"], 5,
        "the user's value wins over the parent's default and the import"
    );
    assert_eq!(
        v["imported"]["here"],
        serde_json::json!({"keep": "parent", "extra": "x"}),
        "the parent's own values win over an import"
    );
}
