//! `Chart.yaml`: the chart's metadata, parsed and validated the way Helm does.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

/// The parsed contents of `Chart.yaml`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    /// `v2` for current charts; `v1` is accepted for reading.
    #[serde(default)]
    pub api_version: String,
    /// The chart's name; must be DNS-safe.
    #[serde(default)]
    pub name: String,
    /// The chart's SemVer 2 version.
    #[serde(default)]
    pub version: String,
    /// Version of the application the chart deploys (free text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_version: Option<String>,
    /// A semver constraint on the Kubernetes version, e.g. `>=1.25.0-0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kube_version: Option<String>,
    /// One-line description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `application` (the default) or `library`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub chart_type: Option<String>,
    /// Search keywords.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    /// Project home page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home: Option<String>,
    /// Source code locations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    /// Charts this chart depends on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<Dependency>,
    /// People responsible for the chart.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub maintainers: Vec<Maintainer>,
    /// URL of an icon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    /// Whether the chart is deprecated.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deprecated: bool,
    /// Free-form annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// One entry of `dependencies` in `Chart.yaml`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dependency {
    /// The dependency's chart name.
    #[serde(default)]
    pub name: String,
    /// A semver constraint on its version.
    #[serde(default)]
    pub version: String,
    /// Where it comes from: a URL, `@repo`, `file://...`, or empty for a vendored chart.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub repository: String,
    /// A values path (or comma-separated paths) whose boolean enables the dependency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// Tags that enable the dependency through `tags.<tag>` in the values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Values imported from the child into the parent (Helm spells the key `import-values`).
    #[serde(
        default,
        rename = "import-values",
        alias = "importValues",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub import_values: Vec<serde_json::Value>,
    /// The name the dependency is known by in the parent (values section, release).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
}

impl Dependency {
    /// The name of the dependency's section in the parent's values: its alias, else its name.
    pub(crate) fn effective_name(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.name)
    }
}

/// A chart maintainer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Maintainer {
    /// Name of the person or team.
    #[serde(default)]
    pub name: String,
    /// Contact address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Web address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl Metadata {
    /// Parses `Chart.yaml` text; `origin` names the file in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self> {
        let meta: Metadata = crate::yaml::from_str(text, origin)?;
        meta.validate()
            .with_context(|| format!("invalid chart metadata in {origin}"))?;
        Ok(meta)
    }

    /// Checks the fields Helm checks, with messages that say what to change.
    pub fn validate(&self) -> Result<()> {
        match self.api_version.as_str() {
            "v2" | "v1" => {}
            "" => bail!("apiVersion is required (use `apiVersion: v2`)"),
            other => bail!("apiVersion `{other}` is not supported (use `apiVersion: v2`)"),
        }
        if self.name.is_empty() {
            bail!("name is required");
        }
        if !is_valid_chart_name(&self.name) {
            bail!(
                "name `{}` is not valid: use lower-case letters, digits, `-` and `_`, starting with a letter or digit",
                self.name
            );
        }
        if self.version.is_empty() {
            bail!("version is required");
        }
        semver::Version::parse(&self.version).with_context(|| {
            format!(
                "version `{}` is not a valid SemVer 2 version (e.g. 1.2.3)",
                self.version
            )
        })?;
        match self.chart_type.as_deref() {
            None | Some("") | Some("application") | Some("library") => {}
            Some(other) => bail!("type `{other}` is not valid: use `application` or `library`"),
        }
        if let Some(kv) = &self.kube_version {
            crate::chart::version::parse_constraint(kv)
                .with_context(|| format!("kubeVersion `{kv}` is not a valid constraint"))?;
        }
        for (i, dep) in self.dependencies.iter().enumerate() {
            if dep.name.is_empty() {
                bail!("dependencies[{i}]: name is required");
            }
            if dep.version.is_empty() && !dep.repository.is_empty() {
                bail!("dependencies[{i}] ({}): version is required", dep.name);
            }
            if !dep.version.is_empty() {
                crate::chart::version::parse_constraint(&dep.version).with_context(|| {
                    format!(
                        "dependencies[{i}] ({}): version `{}` is not a valid constraint",
                        dep.name, dep.version
                    )
                })?;
            }
            if let Some(alias) = &dep.alias
                && !is_valid_chart_name(alias)
            {
                bail!(
                    "dependencies[{i}] ({}): alias `{alias}` is not valid",
                    dep.name
                );
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for dep in &self.dependencies {
            if !seen.insert(dep.effective_name()) {
                bail!(
                    "dependency `{}` is listed twice; give one of them an alias",
                    dep.effective_name()
                );
            }
        }
        Ok(())
    }

    /// Whether this is a library chart (renders nothing of its own).
    pub(crate) fn is_library(&self) -> bool {
        self.chart_type.as_deref() == Some("library")
    }
}

/// Helm's rule for chart names: lower-case alphanumerics, `-` and `_`, starting alphanumeric.
pub(crate) fn is_valid_chart_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_' || c == '.'
        })
        && name.len() <= 250
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minimal_v2_chart_is_valid() {
        let m =
            Metadata::parse("apiVersion: v2\nname: demo\nversion: 0.1.0\n", "Chart.yaml").unwrap();
        assert_eq!(m.name, "demo");
        assert!(!m.is_library());
    }

    #[test]
    fn a_non_semver_version_is_rejected_with_its_value() {
        let err = Metadata::parse("apiVersion: v2\nname: demo\nversion: one\n", "Chart.yaml")
            .unwrap_err();
        assert!(
            format!("{err:#}").contains("`one` is not a valid SemVer"),
            "{err:#}"
        );
    }

    #[test]
    fn upper_case_names_are_rejected() {
        let err = Metadata::parse("apiVersion: v2\nname: Demo\nversion: 1.0.0\n", "Chart.yaml")
            .unwrap_err();
        assert!(format!("{err:#}").contains("name `Demo` is not valid"));
    }

    #[test]
    fn an_unknown_type_is_rejected() {
        let err = Metadata::parse("apiVersion: v2\nname: d\nversion: 1.0.0\ntype: app\n", "C")
            .unwrap_err();
        assert!(format!("{err:#}").contains("type `app`"));
    }

    #[test]
    fn duplicate_dependency_names_need_an_alias() {
        let text = "apiVersion: v2\nname: d\nversion: 1.0.0\ndependencies:\n- {name: a, version: 1.x}\n- {name: a, version: 1.x}\n";
        let err = Metadata::parse(text, "C").unwrap_err();
        assert!(format!("{err:#}").contains("listed twice"));
    }
}
