//! Saving and loading compiled templates (stoke patch, see STOKE-PATCH.md).
//!
//! Compiling templates (lexing, parsing, compiling to bytecode) costs far more than reading
//! the bytecode back, so a program that renders the same templates in many short processes
//! can keep the compiled form on disk. [`CompiledTemplates`] is that form: every template
//! as [`Template::new`] left it, with serde (de)serialisation in a layout that needs no
//! self-describing format (postcard, bincode). Loading it runs the same whole-set checks
//! as [`Tera::add_raw_templates`] (inheritance, includes, components, and that every filter,
//! test and function called is registered on the instance it is loaded into).
//!
//! The compiled form of a template depends only on this crate's compiler, the delimiters
//! and the template's name and source: a caller keying saved forms by those (and by this
//! crate's version and [`COMPILED_FORMAT`]) can never load one that differs from what
//! compiling the source would give.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::delimiters::Delimiters;
use crate::errors::{Error, TeraResult};
use crate::template::Template;
use crate::tera::Tera;
use crate::value::{Key, Map, Value, ValueInner};

/// Changes whenever the saved layout or the compiler's output changes; part of any key a
/// caller stores compiled templates under.
pub const COMPILED_FORMAT: u32 = 2;

/// This crate's version, for the same keys.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The compiled form of a set of templates, detached from any [`Tera`] instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompiledTemplates {
    delimiters: [String; 6],
    templates: Vec<Template>,
}

impl CompiledTemplates {
    /// How many templates this holds.
    pub fn len(&self) -> usize {
        self.templates.len()
    }

    /// Whether this holds no template.
    pub fn is_empty(&self) -> bool {
        self.templates.is_empty()
    }

    /// Each template's name and source, sorted by name.
    /// The templates' names, sorted. Their sources are not part of the compiled form.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.templates.iter().map(|t| t.name.as_str())
    }
}

fn delimiter_texts(d: &Delimiters) -> [String; 6] {
    [
        d.block_start.to_string(),
        d.block_end.to_string(),
        d.variable_start.to_string(),
        d.variable_end.to_string(),
        d.comment_start.to_string(),
        d.comment_end.to_string(),
    ]
}

impl Tera {
    /// The compiled form of every template added to this instance so far, to be given to
    /// [`Tera::add_compiled_templates`] of another instance (in this process or a later one).
    pub fn compiled_templates(&self) -> CompiledTemplates {
        let mut templates: Vec<Template> = self
            .templates
            .values()
            .map(|t| {
                let mut t = t.clone();
                // Worked out again by `finalize_templates` wherever it is loaded.
                t.parents.clear();
                t.block_lineage.clear();
                t.total_content_num_bytes = t.source.len();
                t
            })
            .collect();
        templates.sort_by(|a, b| a.name.cmp(&b.name));
        CompiledTemplates {
            delimiters: delimiter_texts(&self.delimiters),
            templates,
        }
    }

    /// Adds templates compiled earlier by [`Tera::compiled_templates`], as
    /// [`Tera::add_raw_templates`] would add their sources: the same checks run, and on an
    /// error the instance is left as it was. Refused when they were compiled with other
    /// delimiters than this instance's.
    /// Adds compiled templates; `source_of` gives each template's source text (for error
    /// messages), which must be the text it was compiled from.
    pub fn add_compiled_templates<'s>(
        &mut self,
        compiled: CompiledTemplates,
        source_of: impl Fn(&str) -> Option<&'s str>,
    ) -> TeraResult<()> {
        if compiled.delimiters != delimiter_texts(&self.delimiters) {
            return Err(Error::message(
                "the compiled templates were compiled with other delimiters than this instance's",
            ));
        }
        let mut templates = compiled.templates;
        for template in &mut templates {
            let Some(source) = source_of(&template.name) else {
                return Err(Error::message(format!(
                    "no source was given for the compiled template `{}`",
                    template.name
                )));
            };
            template.source = source.to_string();
        }
        let mut inserted: Vec<(String, Option<Template>)> = Vec::new();
        for mut template in templates {
            template.parents.clear();
            template.block_lineage.clear();
            template.total_content_num_bytes = template.source.len();
            let key = template.name.clone();
            let previous = self.templates.insert(key.clone(), template);
            inserted.push((key, previous));
        }
        let result = self.finalize_templates();
        if result.is_err() {
            for (key, previous) in inserted.into_iter().rev() {
                match previous {
                    Some(old) => {
                        self.templates.insert(key, old);
                    }
                    None => {
                        self.templates.remove(&key);
                    }
                }
            }
        }
        result
    }
}

/// A [`Value`] as saved: every kind kept exactly (a safe string stays safe, a 128-bit
/// integer stays 128-bit), in a layout that does not need a self-describing format.
#[derive(Serialize, Deserialize)]
enum SavedValue {
    Undefined,
    None,
    Bool(bool),
    U64(u64),
    I64(i64),
    F64(f64),
    U128(u128),
    I128(i128),
    String(String),
    SafeString(String),
    Array(Vec<SavedValue>),
    Map(Vec<(SavedKey, SavedValue)>),
    Bytes(Vec<u8>),
}

#[derive(Serialize, Deserialize)]
enum SavedKey {
    Bool(bool),
    U64(u64),
    I64(i64),
    U128(u128),
    I128(i128),
    String(String),
}

impl From<&Value> for SavedValue {
    fn from(v: &Value) -> Self {
        match &v.inner {
            ValueInner::Undefined => SavedValue::Undefined,
            ValueInner::None => SavedValue::None,
            ValueInner::Bool(b) => SavedValue::Bool(*b),
            ValueInner::U64(n) => SavedValue::U64(*n),
            ValueInner::I64(n) => SavedValue::I64(*n),
            ValueInner::F64(n) => SavedValue::F64(*n),
            ValueInner::U128(n) => SavedValue::U128(**n),
            ValueInner::I128(n) => SavedValue::I128(**n),
            ValueInner::String(s) => {
                if v.is_safe() {
                    SavedValue::SafeString(s.as_str().to_string())
                } else {
                    SavedValue::String(s.as_str().to_string())
                }
            }
            ValueInner::Array(items) => {
                SavedValue::Array(items.iter().map(SavedValue::from).collect())
            }
            ValueInner::Map(map) => SavedValue::Map(
                map.iter()
                    .map(|(k, v)| (SavedKey::from(k), SavedValue::from(v)))
                    .collect(),
            ),
            ValueInner::Bytes(b) => SavedValue::Bytes(b.as_ref().clone()),
        }
    }
}

impl From<SavedValue> for Value {
    fn from(v: SavedValue) -> Self {
        let inner = match v {
            SavedValue::Undefined => ValueInner::Undefined,
            SavedValue::None => ValueInner::None,
            SavedValue::Bool(b) => ValueInner::Bool(b),
            SavedValue::U64(n) => ValueInner::U64(n),
            SavedValue::I64(n) => ValueInner::I64(n),
            SavedValue::F64(n) => ValueInner::F64(n),
            SavedValue::U128(n) => ValueInner::U128(Box::new(n)),
            SavedValue::I128(n) => ValueInner::I128(Box::new(n)),
            SavedValue::String(s) => return Value::normal_string(&s),
            SavedValue::SafeString(s) => return Value::safe_string(&s),
            SavedValue::Array(items) => {
                ValueInner::Array(Arc::new(items.into_iter().map(Value::from).collect()))
            }
            SavedValue::Map(entries) => {
                let mut map = Map::default();
                for (k, v) in entries {
                    map.insert(Key::from(k), Value::from(v));
                }
                ValueInner::Map(Arc::new(map))
            }
            SavedValue::Bytes(b) => ValueInner::Bytes(Arc::new(b)),
        };
        Value::from(inner)
    }
}

impl From<&Key<'_>> for SavedKey {
    fn from(k: &Key<'_>) -> Self {
        match k {
            Key::Bool(b) => SavedKey::Bool(*b),
            Key::U64(n) => SavedKey::U64(*n),
            Key::I64(n) => SavedKey::I64(*n),
            Key::U128(n) => SavedKey::U128(*n),
            Key::I128(n) => SavedKey::I128(*n),
            Key::String(s) => SavedKey::String(s.to_string()),
            Key::Str(s) => SavedKey::String(s.to_string()),
        }
    }
}

impl From<SavedKey> for Key<'static> {
    fn from(k: SavedKey) -> Self {
        match k {
            SavedKey::Bool(b) => Key::Bool(b),
            SavedKey::U64(n) => Key::U64(n),
            SavedKey::I64(n) => Key::I64(n),
            SavedKey::U128(n) => Key::U128(n),
            SavedKey::I128(n) => Key::I128(n),
            SavedKey::String(s) => Key::String(Arc::from(s)),
        }
    }
}

/// `#[serde(with)]` for a [`Value`] field.
pub(crate) mod value {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(v: &Value, s: S) -> Result<S::Ok, S::Error> {
        SavedValue::from(v).serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        SavedValue::deserialize(d).map(Value::from)
    }
}

/// `#[serde(with)]` for a template's components, each shared (`Arc`) between the template
/// and the instance-wide map `finalize_templates` builds, instead of cloned into it on every
/// load. Saved exactly as the map of plain definitions would be.
pub(crate) mod shared_components {
    use super::*;
    use crate::HashMap;
    use crate::parsing::Chunk;
    use crate::parsing::ast::ComponentDefinition;

    type Shared = HashMap<String, Arc<(ComponentDefinition, Chunk)>>;

    pub(crate) fn serialize<S: Serializer>(m: &Shared, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(m.iter().map(|(k, v)| (k, &**v)))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Shared, D::Error> {
        let plain = HashMap::<String, (ComponentDefinition, Chunk)>::deserialize(d)?;
        Ok(plain.into_iter().map(|(k, v)| (k, Arc::new(v))).collect())
    }
}

/// `#[serde(with)]` for an `Option<Value>` field.
pub(crate) mod opt_value {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(v: &Option<Value>, s: S) -> Result<S::Ok, S::Error> {
        v.as_ref().map(SavedValue::from).serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
        Option::<SavedValue>::deserialize(d).map(|v| v.map(Value::from))
    }
}

/// `#[serde(with)]` for a `BTreeMap<String, Value>` field.
pub(crate) mod value_map {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(
        m: &BTreeMap<String, Value>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let saved: Vec<(&str, SavedValue)> = m
            .iter()
            .map(|(k, v)| (k.as_str(), SavedValue::from(v)))
            .collect();
        saved.serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<String, Value>, D::Error> {
        let saved = Vec::<(String, SavedValue)>::deserialize(d)?;
        Ok(saved
            .into_iter()
            .map(|(k, v)| (k, Value::from(v)))
            .collect())
    }
}
