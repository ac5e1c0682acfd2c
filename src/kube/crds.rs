//! A chart's `crds/` folder: CustomResourceDefinitions that are not templates. Helm's rule,
//! which stoke keeps: they are installed before anything else on the first install, and
//! never upgraded or deleted by a release (a CRD's removal would delete every custom
//! resource of its kinds, in every namespace).

use anyhow::{Context, Result};

use crate::chart::Chart;
use crate::engine::manifest::parse_output;
use crate::manifest::Manifest;

/// The objects of `chart`'s `crds/` folders, its subcharts' included, in path order.
pub fn crds(chart: &Chart) -> Result<Vec<Manifest>> {
    let mut out = Vec::new();
    collect(chart, &mut out)?;
    Ok(out)
}

fn collect(chart: &Chart, out: &mut Vec<Manifest>) -> Result<()> {
    for f in chart.files.iter() {
        let Some(rest) = f.name.strip_prefix("crds/") else {
            continue;
        };
        if !(rest.ends_with(".yaml") || rest.ends_with(".yml") || rest.ends_with(".json")) {
            continue;
        }
        let source = format!("{}/{}", chart.path, f.name);
        let text =
            std::str::from_utf8(&f.data).with_context(|| format!("{source} is not UTF-8 text"))?;
        out.extend(parse_output(&source, text)?);
    }
    for sub in &chart.subcharts {
        collect(sub, out)?;
    }
    Ok(())
}

/// The CRDs as one YAML stream with `# Source:` lines, as `show crds` prints them.
pub fn crds_text(crds: &[Manifest]) -> String {
    crds.iter()
        .map(|m| format!("---\n# Source: {}\n{}", m.source, m.body))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::ChartFile;

    #[test]
    fn only_yaml_files_under_crds_are_read_subcharts_included() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("Chart.yaml"),
            "apiVersion: v2\nname: c\nversion: 1.0.0\n",
        )
        .unwrap();
        let mut chart = crate::chart::load::load_dir(dir.path()).unwrap();
        let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\n";
        std::sync::Arc::make_mut(&mut chart.files).push(ChartFile {
            name: "crds/widgets.yaml".into(),
            data: crd.as_bytes().to_vec(),
        });
        std::sync::Arc::make_mut(&mut chart.files).push(ChartFile {
            name: "crds/README.md".into(),
            data: b"not yaml: [".to_vec(),
        });
        std::sync::Arc::make_mut(&mut chart.files).push(ChartFile {
            name: "files/x.yaml".into(),
            data: crd.as_bytes().to_vec(),
        });
        let mut sub = chart.clone();
        sub.path = "c/charts/s".into();
        sub.subcharts.clear();
        chart.subcharts.push(sub);
        let got = crds(&chart).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].source, "c/crds/widgets.yaml");
        assert_eq!(got[1].source, "c/charts/s/crds/widgets.yaml");
        assert_eq!(got[0].name, "widgets.example.com");
        assert!(crds_text(&got).starts_with("---\n# Source: c/crds/widgets.yaml\napiVersion"));
    }
}
