//! A fixture chart the size of the official Ignition chart: 15 templates and about 800
//! lines of helpers, written to a temporary folder so benchmarks need no checked-in output.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Number of helper components; each is about 40 lines.
const HELPERS: usize = 20;

/// Writes the fixture under `root` and returns the chart directory.
pub fn write(root: &Path) -> PathBuf {
    let dir = root.join("bench-gateway");
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::write(
        dir.join("Chart.yaml"),
        "apiVersion: v2\nname: bench-gateway\nversion: 1.2.3\nappVersion: \"8.3.3\"\n",
    )
    .unwrap();
    let mut values = String::from(
        "replicas: 2\nimage:\n  repository: inductiveautomation/ignition\n  tag: 8.3.3\npodAnnotations: {}\nenv:\n",
    );
    for i in 0..20 {
        writeln!(values, "  VAR_{i}: \"value-{i}\"").unwrap();
    }
    values.push_str("services:\n");
    for i in 0..5 {
        writeln!(
            values,
            "  svc{i}:\n    port: {}\n    annotations:\n      a{i}: b{i}",
            8000 + i
        )
        .unwrap();
    }
    values.push_str("gateway:\n  name: plant\n  modules: [opc-ua, perspective, tag-historian, alarm-notification]\n  redundancy:\n    enabled: true\n    role: primary\n");
    std::fs::write(dir.join("values.yaml"), values).unwrap();

    let mut helpers = String::new();
    for i in 0..HELPERS {
        writeln!(
            helpers,
            "{{% component h{i}.labels(extra=\"\", @values, @release, @chart) -%}}"
        )
        .unwrap();
        writeln!(helpers, "app.kubernetes.io/name: {{{{ chart.name }}}}").unwrap();
        writeln!(
            helpers,
            "app.kubernetes.io/instance: {{{{ release.name }}}}"
        )
        .unwrap();
        writeln!(
            helpers,
            "app.kubernetes.io/version: {{{{ chart.app_version | quote }}}}"
        )
        .unwrap();
        writeln!(helpers, "app.kubernetes.io/component: h{i}").unwrap();
        for j in 0..10 {
            writeln!(helpers, "{{%- if values.gateway.redundancy.enabled %}}\nexample.com/k{j}: {{{{ values.gateway.name ~ \"-{j}\" | kebab_case }}}}\n{{%- endif %}}").unwrap();
        }
        writeln!(
            helpers,
            "{{%- if extra %}}\nextra: {{{{ extra }}}}\n{{%- endif %}}"
        )
        .unwrap();
        writeln!(helpers, "{{%- endcomponent h{i}.labels %}}\n").unwrap();
    }
    std::fs::write(dir.join("templates/_helpers.tera"), helpers).unwrap();

    for t in 0..15 {
        let mut text = String::new();
        let h = t % HELPERS;
        write!(
            text,
            "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: {{{{ release.name }}}}-t{t}\n  labels:\n    {{{{- <h{h}.labels extra=\"t{t}\"/> | nindent(width=4) }}}}\nspec:\n  replicas: {{{{ values.replicas }}}}\n  selector:\n    matchLabels:\n      {{{{- <h{h}.labels/> | nindent(width=6) }}}}\n  template:\n    metadata:\n      labels:\n        {{{{- <h{h}.labels/> | nindent(width=8) }}}}\n    spec:\n      containers:\n        - name: gateway\n          image: \"{{{{ values.image.repository }}}}:{{{{ values.image.tag }}}}\"\n          env:\n          {{%- for k, v in values.env %}}\n            - name: {{{{ k }}}}\n              value: {{{{ v | quote }}}}\n          {{%- endfor %}}\n          ports:\n          {{%- for name, s in values.services %}}\n            - name: {{{{ name }}}}\n              containerPort: {{{{ s.port }}}}\n          {{%- endfor %}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{{{ release.name }}}}-cfg{t}\ndata:\n  modules: {{{{ values.gateway.modules | join(sep=\",\") | quote }}}}\n  services: |\n    {{{{- values.services | to_yaml | nindent(width=4) }}}}\n"
        )
        .unwrap();
        std::fs::write(dir.join(format!("templates/t{t:02}.yaml")), text).unwrap();
    }
    dir
}
