//! The fleet file: a list of releases, each a chart with its own values, parsed with the
//! text kept so that any later error can name the file, the line and the release
//! (docs/fleet.md describes the format).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::storage::ReleaseKey;
use crate::values::{SetKind, ValuesOptions};
use crate::yaml::pos::KeyLines;

/// The label every release applied from a fleet carries, naming the fleet; `fleet apply
/// --prune` finds the releases that left the file by it.
pub const FLEET_LABEL: &str = "stoke.dev/fleet";

/// A parsed fleet file.
#[derive(Debug, Clone)]
pub struct Fleet {
    /// The fleet file, as given.
    pub path: PathBuf,
    /// The fleet's name: `name:` in the file, else the file name without its extension.
    pub name: String,
    /// The releases, in file order.
    pub releases: Vec<FleetRelease>,
}

/// One release of a fleet.
#[derive(Debug, Clone)]
pub struct FleetRelease {
    /// Release name and namespace.
    pub key: ReleaseKey,
    /// The chart reference as written.
    pub chart: String,
    /// The chart reference to load: a local path resolved against the fleet file's folder
    /// when it names something there, otherwise the reference as written (`REPO/NAME`,
    /// URLs).
    pub chart_ref: PathBuf,
    /// Version constraint for repository charts.
    pub version: Option<String>,
    /// Values files, resolved against the fleet file's folder, in order.
    pub values: Vec<PathBuf>,
    /// `set:` entries as `--set`-family arguments, in file order.
    pub sets: Vec<(SetKind, String)>,
    /// Labels from the file (selectable with `-l`).
    pub labels: BTreeMap<String, String>,
    /// Where the entry is written: its index under `releases:` in the file.
    index: usize,
    place: Arc<Place>,
}

/// A fleet file's name and text, read for lines only when a message asks for one.
#[derive(Debug)]
struct Place {
    origin: String,
    lines: KeyLines,
}

impl Place {
    /// `FILE:LINE` of the key at `path`, or `FILE` when the line is not known.
    fn at(&self, path: &str) -> String {
        self.lines.locate(&self.origin, path)
    }
}

impl FleetRelease {
    /// 1-based line of the entry in the fleet file (0 if it cannot be told).
    pub fn line(&self) -> usize {
        self.place.lines.line_of(&self.entry()).unwrap_or(0)
    }

    /// `FILE:LINE (release NAMESPACE/NAME)`, to lead messages about this release.
    pub fn at(&self) -> String {
        format!("{} (release {})", self.place.at(&self.entry()), self.key)
    }

    fn entry(&self) -> String {
        format!("releases[{}]", self.index)
    }

    /// The values options `stoke template`/`install` would get for this release: the files,
    /// then the `set:` entries.
    pub fn values_options(&self) -> ValuesOptions {
        ValuesOptions {
            files: self.values.clone(),
            sets: self.sets.clone(),
            ..ValuesOptions::default()
        }
    }

    /// The labels recorded on the release: the file's labels plus [`FLEET_LABEL`].
    pub fn recorded_labels(&self, fleet: &str) -> BTreeMap<String, String> {
        let mut l = self.labels.clone();
        l.insert(FLEET_LABEL.to_string(), fleet.to_string());
        l
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFleet {
    #[serde(default)]
    name: Option<String>,
    /// Read entry by entry (see [`parse`]); here so that the key is known.
    #[serde(rename = "releases")]
    _releases: serde::de::IgnoredAny,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRelease {
    name: String,
    #[serde(default)]
    namespace: Option<String>,
    chart: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    values: OneOrMany,
    #[serde(default)]
    set: Map<String, Value>,
    #[serde(default)]
    labels: Map<String, Value>,
}

/// `values:` may be one path or a list of them.
#[derive(Deserialize, Default)]
#[serde(untagged)]
enum OneOrMany {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

/// Reads and checks a fleet file. Releases without a `namespace` go to `default_namespace`.
pub fn load(path: &Path, default_namespace: &str) -> Result<Fleet> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read fleet file `{}`", path.display()))?;
    parse(&text, path, default_namespace)
}

/// Parses fleet file `text` read from `path`. The parse is kept in the artifact cache as
/// a values file's is (a fleet file is read on every fleet command, and most runs find it
/// unchanged); lines are read from the text only for messages.
pub fn parse(text: &str, path: &Path, default_namespace: &str) -> Result<Fleet> {
    let origin = path.display().to_string();
    let mut doc = crate::chart::parsed::values_yaml(text, &origin)
        .with_context(|| format!("cannot read fleet file `{origin}`"))?;
    let place = Arc::new(Place {
        origin: origin.clone(),
        lines: KeyLines::scan(text),
    });
    let at_path = |p: &str| place.at(p);
    let Some(Value::Array(items)) = doc.remove("releases") else {
        bail!(
            "{}: a fleet file needs `releases:`, a list of releases with at least `name` and `chart` (see docs/fleet.md)",
            at_path("releases")
        );
    };
    // Each entry is checked on its own, so a mistake is reported at its own line.
    let mut raws = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        raws.push(serde_json::from_value::<RawRelease>(item).map_err(|e| {
            anyhow!(
                "{}: release #{} is not valid: {e} (fields: name, namespace, chart, version, values, set, labels)",
                at_path(&format!("releases[{i}]")),
                i + 1
            )
        })?);
    }
    // The rest of the file (the entries are checked above).
    doc.insert("releases".into(), Value::Array(Vec::new()));
    let raw: RawFleet = serde_json::from_value(Value::Object(doc))
        .map_err(|e| anyhow!("{origin}: {e} (top-level fields: name, releases)"))?;
    let dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
    let name = match raw.name {
        Some(n) => n,
        None => path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "fleet".into()),
    };
    if name.is_empty() || name.len() > 63 {
        bail!(
            "{}: the fleet name `{name}` must be 1 to 63 characters (it is recorded as label {FLEET_LABEL})",
            at_path("name")
        );
    }
    // The order of `set` keys needs a second reading of the file; most fleets have none.
    let set_order = if raws.iter().any(|r| !r.set.is_empty()) {
        set_key_order(text)
    } else {
        Vec::new()
    };
    // Fleets name a few charts many times: each is looked for on disk once.
    let mut chart_refs: HashMap<String, PathBuf> = HashMap::new();
    let mut releases = Vec::with_capacity(raws.len());
    let mut seen = BTreeSet::new();
    for (i, r) in raws.into_iter().enumerate() {
        let entry = format!("releases[{i}]");
        let namespace = r.namespace.unwrap_or_else(|| default_namespace.to_string());
        let key = ReleaseKey::new(&namespace, &r.name)
            .with_context(|| format!("{}: release `{}`", at_path(&entry), r.name))?;
        if !seen.insert(key.clone()) {
            bail!(
                "{} (release {key}): the release is listed twice; each namespace/name may appear once",
                at_path(&entry)
            );
        }
        let values = match r.values {
            OneOrMany::None => Vec::new(),
            OneOrMany::One(v) => vec![v],
            OneOrMany::Many(v) => v,
        }
        .into_iter()
        .map(|v| dir.join(v))
        .collect();
        // The parsed map does not keep the file's order; later entries must win as later
        // `--set` arguments do, so apply them in the order they are written.
        let order = set_order.get(i).map(Vec::as_slice).unwrap_or_default();
        let mut keys: Vec<&String> = r.set.keys().collect();
        keys.sort_by_key(|k| order.iter().position(|o| o == *k).unwrap_or(usize::MAX));
        let sets = keys
            .into_iter()
            .map(|k| set_argument(k, &r.set[k]))
            .collect();
        let mut labels = BTreeMap::new();
        for (k, v) in r.labels {
            let text = match v {
                Value::String(s) => s,
                Value::Number(_) | Value::Bool(_) => v.to_string(),
                other => bail!(
                    "{}: label `{k}` of release {key} must be a string, found {}",
                    at_path(&format!("{entry}.labels.{k}")),
                    crate::yaml::kind_name(&other)
                ),
            };
            if k == FLEET_LABEL {
                bail!(
                    "{}: label `{FLEET_LABEL}` is set by stoke to the fleet's name; use another key",
                    at_path(&format!("{entry}.labels"))
                );
            }
            labels.insert(k, text);
        }
        let chart_ref = chart_refs
            .entry(r.chart.clone())
            .or_insert_with(|| {
                let local = dir.join(&r.chart);
                if !r.chart.contains("://") && local.exists() {
                    local
                } else {
                    PathBuf::from(&r.chart)
                }
            })
            .clone();
        releases.push(FleetRelease {
            key,
            chart: r.chart,
            chart_ref,
            version: r.version,
            values,
            sets,
            labels,
            index: i,
            place: place.clone(),
        });
    }
    Ok(Fleet {
        path: path.to_path_buf(),
        name,
        releases,
    })
}

/// The keys of each release's `set:` mapping in the order the file writes them (empty
/// when the text cannot be read that way; the main parse reports errors).
fn set_key_order(text: &str) -> Vec<Vec<String>> {
    #[derive(Deserialize)]
    struct Probe {
        #[serde(default)]
        releases: Vec<ReleaseProbe>,
    }
    #[derive(Deserialize)]
    struct ReleaseProbe {
        #[serde(default)]
        set: Keys,
    }
    #[derive(Default)]
    struct Keys(Vec<String>);
    impl<'de> Deserialize<'de> for Keys {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Keys, D::Error> {
            struct Visit;
            impl<'de> serde::de::Visitor<'de> for Visit {
                type Value = Keys;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("a mapping")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut m: A,
                ) -> Result<Keys, A::Error> {
                    let mut keys = Vec::new();
                    while let Some(k) = m.next_key::<String>()? {
                        m.next_value::<serde::de::IgnoredAny>()?;
                        keys.push(k);
                    }
                    Ok(Keys(keys))
                }
            }
            d.deserialize_map(Visit)
        }
    }
    crate::yaml::try_from_str::<Probe>(text)
        .map(|p| p.releases.into_iter().map(|r| r.set.0).collect())
        .unwrap_or_default()
}

/// One `set:` entry as the `--set`-family argument with the same meaning: scalars as
/// `--set KEY=VALUE` (escaped so that commas and backslashes stay literal), lists and
/// mappings as `--set-json KEY=JSON`.
fn set_argument(key: &str, value: &Value) -> (SetKind, String) {
    let scalar = match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some("null".into()),
        Value::Array(_) | Value::Object(_) => None,
    };
    match scalar {
        Some(s) => {
            let escaped = s.replace('\\', "\\\\").replace(',', "\\,");
            (SetKind::Set, format!("{key}={escaped}"))
        }
        None => (SetKind::Json, format!("{key}={value}")),
    }
}

/// A `-l` selector: every `key=value` must match a release's labels (`key!=value` must
/// not).
#[derive(Debug, Clone, Default)]
pub struct Selector {
    terms: Vec<(String, String, bool)>,
}

impl Selector {
    /// Parses `-l` arguments; each may hold several terms separated by commas.
    pub fn parse(args: &[String]) -> Result<Selector> {
        let mut terms = Vec::new();
        for arg in args {
            for term in arg.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                let (k, v, eq) = if let Some((k, v)) = term.split_once("!=") {
                    (k, v, false)
                } else if let Some((k, v)) = term.split_once('=') {
                    (k.trim_end_matches('='), v, true)
                } else {
                    bail!("-l `{term}`: a selector is KEY=VALUE or KEY!=VALUE (e.g. -l region=eu)");
                };
                if k.trim().is_empty() {
                    bail!("-l `{term}`: the label key is empty");
                }
                terms.push((k.trim().to_string(), v.trim().to_string(), eq));
            }
        }
        Ok(Selector { terms })
    }

    /// Whether no terms were given (everything matches).
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Whether `labels` satisfy every term.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.terms
            .iter()
            .all(|(k, v, eq)| (labels.get(k) == Some(v)) == *eq)
    }
}

impl Fleet {
    /// The releases the selector picks, in file order.
    pub fn select(&self, selector: &Selector) -> Vec<&FleetRelease> {
        self.releases
            .iter()
            .filter(|r| selector.matches(&r.labels))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLEET: &str = "\
name: plants
releases:
  - name: site-1
    namespace: plant-1
    chart: charts/ignition
    values: [values/edge.yaml, sites/site-1.yaml]
    set: {gateway.replicas: 1, commissioning.acceptEula: true, note: 'a,b', env: [1, 2]}
    labels: {region: eu, tier: 2}
  - name: site-2
    chart: oci://registry.example/charts/ignition
    version: ^0.2
    values: sites/site-2.yaml
    labels: {region: us}
";

    #[test]
    fn entries_resolve_against_the_fleet_folder_and_keep_their_lines() {
        let f = parse(FLEET, Path::new("fleets/prod.yaml"), "scada").unwrap();
        assert_eq!(f.name, "plants");
        let [a, b] = &f.releases[..] else {
            panic!("two releases")
        };
        assert_eq!(a.key.to_string(), "plant-1/site-1");
        assert_eq!(b.key.to_string(), "scada/site-2", "default namespace");
        assert_eq!(
            a.values,
            [
                PathBuf::from("fleets/values/edge.yaml"),
                PathBuf::from("fleets/sites/site-1.yaml")
            ]
        );
        assert_eq!(b.values, [PathBuf::from("fleets/sites/site-2.yaml")]);
        assert_eq!(
            b.chart_ref,
            PathBuf::from("oci://registry.example/charts/ignition")
        );
        assert_eq!((a.line(), b.line()), (3, 9));
        assert_eq!(a.at(), "fleets/prod.yaml:3 (release plant-1/site-1)");
        assert_eq!(a.labels["tier"], "2");
        assert_eq!(
            a.sets,
            [
                (SetKind::Set, "gateway.replicas=1".to_string()),
                (SetKind::Set, "commissioning.acceptEula=true".to_string()),
                (SetKind::Set, "note=a\\,b".to_string()),
                (SetKind::Json, "env=[1,2]".to_string()),
            ]
        );
    }

    #[test]
    fn mistakes_name_the_file_and_line() {
        let bad = "releases:\n  - name: a\n    chart: c\n  - name: b\n    chrat: c\n";
        let e = parse(bad, Path::new("f.yaml"), "default").unwrap_err();
        let msg = format!("{e:#}");
        assert!(msg.contains("f.yaml:4"), "{msg}");
        assert!(msg.contains("release #2"), "{msg}");
        assert!(msg.contains("chrat"), "{msg}");

        let twice = "releases:\n  - {name: a, chart: c}\n  - {name: a, chart: d}\n";
        let msg = format!("{:#}", parse(twice, Path::new("f.yaml"), "ns").unwrap_err());
        assert!(msg.contains("f.yaml:3 (release ns/a)"), "{msg}");
        assert!(msg.contains("twice"), "{msg}");

        let bad_name = "releases:\n  - {name: Site_1, chart: c}\n";
        let msg = format!(
            "{:#}",
            parse(bad_name, Path::new("f.yaml"), "ns").unwrap_err()
        );
        assert!(msg.contains("f.yaml:2"), "{msg}");
        assert!(msg.contains("invalid release name"), "{msg}");
    }

    #[test]
    fn selectors_pick_by_label() {
        let f = parse(FLEET, Path::new("fleet.yaml"), "default").unwrap();
        let names = |args: &[&str]| -> Vec<String> {
            let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
            f.select(&Selector::parse(&args).unwrap())
                .iter()
                .map(|r| r.key.name.clone())
                .collect()
        };
        assert_eq!(names(&[]), ["site-1", "site-2"]);
        assert_eq!(names(&["region=eu"]), ["site-1"]);
        assert_eq!(names(&["region!=eu"]), ["site-2"]);
        assert_eq!(names(&["region=eu,tier=3"]), Vec::<String>::new());
        assert!(Selector::parse(&["region".into()]).is_err());
    }
}
