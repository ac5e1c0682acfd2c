//! The chart model: metadata, default values, schema, templates, other files and subcharts,
//! loaded from a directory (or, through the same path, from an archive's file list).

pub mod archive;
pub mod cache;
pub mod ignore;
pub mod links;
pub mod load;
pub mod metadata;
pub(crate) mod parsed;
pub mod version;

use std::path::PathBuf;

pub use cache::{ChartCache, ChartId};
pub use metadata::{Dependency, Metadata};

/// A file inside a chart, named by its path relative to the chart root with `/` separators.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartFile {
    /// Relative path, e.g. `templates/deployment.yaml`.
    pub name: String,
    /// Raw contents.
    pub data: Vec<u8>,
}

/// A loaded chart. Subcharts are fully loaded charts of their own.
#[derive(Debug, Clone)]
pub struct Chart {
    /// Parsed `Chart.yaml`.
    pub metadata: Metadata,
    /// Parsed `values.yaml` (an empty map when absent).
    pub values: serde_json::Map<String, serde_json::Value>,
    /// The text of `values.yaml`, kept to point at lines in messages.
    pub values_text: String,
    /// Parsed `values.schema.json`, if present.
    pub schema: Option<serde_json::Value>,
    /// Files under `templates/`, in path order.
    pub templates: Vec<ChartFile>,
    /// Every other file that is not metadata, values, schema or a subchart, in path order
    /// (what templates see through `files`); shared, not copied, with the compiled chart's
    /// functions.
    pub files: std::sync::Arc<Vec<ChartFile>>,
    /// Subcharts found under `charts/`, in path order.
    pub subcharts: Vec<Chart>,
    /// Where the chart came from, for messages (a directory or archive path).
    pub origin: PathBuf,
    /// Path of this chart inside its parents' tree, e.g. `umbrella/charts/backend`; the
    /// chart name for a top-level chart. Template names start with it.
    pub path: String,
    /// Identity of the templates as compiled (the engine's cache key); a copy renamed for
    /// an alias or cut down to some templates gets a fresh one.
    pub id: ChartId,
    /// Identity of the schema as compiled (the values layer's cache key); shared by
    /// renamed copies, whose schema does not change.
    pub schema_id: ChartId,
}

impl Chart {
    /// The chart's name from its metadata.
    pub fn name(&self) -> &str {
        &self.metadata.name
    }

    /// The chart's README (`README.md` or `README`, any case), as `stoke show readme`
    /// prints it; lossy where the file is not UTF-8.
    pub fn readme(&self) -> Option<String> {
        self.files
            .iter()
            .find(|f| {
                f.name.eq_ignore_ascii_case("README.md") || f.name.eq_ignore_ascii_case("README")
            })
            .map(|f| String::from_utf8_lossy(&f.data).into_owned())
    }

    /// The subchart that serves dependency `dep` (matched by chart name).
    pub fn subchart(&self, name: &str) -> Option<&Chart> {
        self.subcharts.iter().find(|c| c.name() == name)
    }
}
