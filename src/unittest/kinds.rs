//! The assertion types stoke knows, in one table: each entry names a type, says whether it
//! inverts its family's check (`notEqual` inverts `equal`), and points at the family, which
//! lists the parameters it reads and turns them into a typed [`Kind`]. The list of names
//! that typo hints offer and the parser both come from [`ASSERTION_TYPES`], so they cannot
//! drift apart.
//!
//! Everything is validated here, once, when the suite is read: paths are parsed, regular
//! expressions compiled, counts checked. Evaluation (`assert.rs`) never re-parses.

use anyhow::Result;
use regex::Regex;
use serde_json::Value as Json;

use super::path::Path;
use super::suite::{Ctx, Fields, join};
use crate::yaml::Yaml;

/// What an assertion checks, with its parameters in their checked form. Antonyms share a
/// variant; [`super::suite::Assertion::negative`] says which way it points.
#[derive(Debug, Clone)]
pub enum Kind {
    /// `equal` / `notEqual`.
    Equal {
        /// Where the value is.
        path: Path,
        /// What it must equal.
        value: Json,
        /// Decode the value as base64 first.
        decode_base64: bool,
    },
    /// `equalRaw` / `notEqualRaw`: the document's text.
    EqualRaw {
        /// The expected text.
        value: String,
    },
    /// `matchRegex` / `notMatchRegex`.
    MatchRegex {
        /// Where the string is.
        path: Path,
        /// The pattern it must match.
        pattern: Regex,
        /// Decode the value as base64 first.
        decode_base64: bool,
    },
    /// `matchRegexRaw` / `notMatchRegexRaw`: the document's text.
    MatchRegexRaw {
        /// The pattern the text must match.
        pattern: Regex,
    },
    /// `contains` / `notContains`.
    Contains {
        /// Where the list is.
        path: Path,
        /// The item looked for.
        content: Json,
        /// How many items must match, when given.
        count: Option<i64>,
        /// Match items that have `content`'s keys (a subset) instead of equal ones.
        any: bool,
    },
    /// `isNullOrEmpty`, `isEmpty` and their antonyms.
    IsNullOrEmpty {
        /// Where the value is.
        path: Path,
    },
    /// `exists` / `notExists`, and `isNotNull` / `isNull`, which helm-unittest reads as
    /// them.
    Exists {
        /// The path that must lead somewhere.
        path: Path,
    },
    /// `isKind`.
    IsKind {
        /// The expected `kind`.
        of: String,
    },
    /// `isAPIVersion`.
    IsApiVersion {
        /// The expected `apiVersion`.
        of: String,
    },
    /// `hasDocuments`.
    HasDocuments {
        /// How many documents the template renders.
        count: usize,
        /// Count the selected documents instead of all.
        filter_aware: bool,
    },
    /// `isSubset` / `isNotSubset`.
    IsSubset {
        /// Where the mapping is.
        path: Path,
        /// The keys and values it must have.
        content: Json,
    },
    /// `lengthEqual` / `notLengthEqual`.
    LengthEqual {
        /// The lists measured.
        paths: Vec<Path>,
        /// Their expected length; without it, all must have the same length.
        count: Option<usize>,
    },
    /// `isType` / `isNotType`.
    IsType {
        /// Where the value is.
        path: Path,
        /// The type as written.
        type_name: String,
        /// The Go type name it stands for.
        want: &'static str,
    },
    /// `failedTemplate` / `notFailedTemplate`.
    FailedTemplate {
        /// What the render error must say, if anything.
        expect: Option<ErrorMatch>,
    },
    /// `matchSnapshot`.
    MatchSnapshot {
        /// What is snapshotted (the whole document when empty).
        path: Path,
        /// The snapshot text must match this instead of the stored snapshot.
        match_regex: Option<Regex>,
        /// The snapshot text must not match this.
        not_match_regex: Option<Regex>,
    },
    /// `matchSnapshotRaw`: the document's text against the stored snapshot.
    MatchSnapshotRaw,
    /// `greaterOrEqual` / `lessOrEqual` and their antonyms.
    Compare {
        /// Where the value is.
        path: Path,
        /// The bound, a number or a string.
        value: Json,
        /// `greaterOrEqual` rather than `lessOrEqual`.
        greater: bool,
    },
    /// `containsDocument`.
    ContainsDocument {
        /// The expected `kind`.
        kind: String,
        /// The expected `apiVersion`.
        api_version: String,
        /// The expected `metadata.name`, when given.
        name: Option<String>,
        /// The expected `metadata.namespace`, when given.
        namespace: Option<String>,
        /// One matching document is enough; otherwise every selected one must match.
        any: bool,
    },
}

/// How `failedTemplate` matches the render error.
#[derive(Debug, Clone)]
pub enum ErrorMatch {
    /// `errorMessage`: contained in the error.
    Message(String),
    /// `errorPattern`: a regular expression searched in the whole error.
    Pattern(Regex),
}

/// One assertion type: its name, whether it is its family's antonym, and the family.
pub(crate) struct AssertionType {
    /// The name as suites write it.
    pub(crate) name: &'static str,
    /// Whether the type itself inverts the check (`notEqual`).
    pub(crate) antonym: bool,
    family: &'static Family,
}

/// What a family of antonyms reads: its parameters and the parser that checks them.
struct Family {
    params: &'static [&'static str],
    parse: fn(&mut Params) -> Result<Kind>,
}

const fn of(name: &'static str, antonym: bool, family: &'static Family) -> AssertionType {
    AssertionType {
        name,
        antonym,
        family,
    }
}

/// Every assertion type. The order is the order typo hints prefer on a tie.
pub(crate) const ASSERTION_TYPES: &[AssertionType] = &[
    of("equal", false, &EQUAL),
    of("notEqual", true, &EQUAL),
    of("equalRaw", false, &EQUAL_RAW),
    of("notEqualRaw", true, &EQUAL_RAW),
    of("matchRegex", false, &MATCH_REGEX),
    of("notMatchRegex", true, &MATCH_REGEX),
    of("matchRegexRaw", false, &MATCH_REGEX_RAW),
    of("notMatchRegexRaw", true, &MATCH_REGEX_RAW),
    of("contains", false, &CONTAINS),
    of("notContains", true, &CONTAINS),
    of("isNullOrEmpty", false, &NULL_OR_EMPTY),
    of("isNotNullOrEmpty", true, &NULL_OR_EMPTY),
    of("isEmpty", false, &NULL_OR_EMPTY),
    of("isNotEmpty", true, &NULL_OR_EMPTY),
    of("exists", false, &EXISTS),
    of("notExists", true, &EXISTS),
    // helm-unittest reads `isNull` as `notExists` and `isNotNull` as `exists`.
    of("isNull", true, &EXISTS),
    of("isNotNull", false, &EXISTS),
    of("isKind", false, &IS_KIND),
    of("isAPIVersion", false, &IS_API_VERSION),
    of("hasDocuments", false, &HAS_DOCUMENTS),
    of("isSubset", false, &IS_SUBSET),
    of("isNotSubset", true, &IS_SUBSET),
    of("lengthEqual", false, &LENGTH_EQUAL),
    of("notLengthEqual", true, &LENGTH_EQUAL),
    of("isType", false, &IS_TYPE),
    of("isNotType", true, &IS_TYPE),
    of("failedTemplate", false, &FAILED_TEMPLATE),
    of("notFailedTemplate", true, &FAILED_TEMPLATE),
    of("matchSnapshot", false, &MATCH_SNAPSHOT),
    of("matchSnapshotRaw", false, &MATCH_SNAPSHOT_RAW),
    of("containsDocument", false, &CONTAINS_DOCUMENT),
    of("greaterOrEqual", false, &GREATER_OR_EQUAL),
    of("notGreaterOrEqual", true, &GREATER_OR_EQUAL),
    of("lessOrEqual", false, &LESS_OR_EQUAL),
    of("notLessOrEqual", true, &LESS_OR_EQUAL),
];

/// The entry for `name`, if stoke knows that type.
pub(crate) fn lookup(name: &str) -> Option<&'static AssertionType> {
    ASSERTION_TYPES.iter().find(|t| t.name == name)
}

/// Every type name, for "did you mean" hints.
pub(crate) fn names() -> impl Iterator<Item = &'static str> + Clone {
    ASSERTION_TYPES.iter().map(|t| t.name)
}

const EQUAL: Family = Family {
    params: &["path", "value", "decodeBase64"],
    parse: |p| {
        Ok(Kind::Equal {
            path: p.path()?,
            value: p.json("value"),
            decode_base64: p.flag("decodeBase64")?,
        })
    },
};

const EQUAL_RAW: Family = Family {
    params: &["value"],
    parse: |p| {
        Ok(Kind::EqualRaw {
            value: p.required_string("value")?,
        })
    },
};

const MATCH_REGEX: Family = Family {
    params: &["path", "pattern", "decodeBase64"],
    parse: |p| {
        Ok(Kind::MatchRegex {
            path: p.path()?,
            pattern: p.regex("pattern")?,
            decode_base64: p.flag("decodeBase64")?,
        })
    },
};

const MATCH_REGEX_RAW: Family = Family {
    params: &["pattern"],
    parse: |p| {
        Ok(Kind::MatchRegexRaw {
            pattern: p.regex("pattern")?,
        })
    },
};

const CONTAINS: Family = Family {
    params: &["path", "content", "count", "any"],
    parse: |p| {
        Ok(Kind::Contains {
            path: p.path()?,
            content: p.json("content"),
            count: p.int("count")?,
            any: p.flag("any")?,
        })
    },
};

const NULL_OR_EMPTY: Family = Family {
    params: &["path"],
    parse: |p| Ok(Kind::IsNullOrEmpty { path: p.path()? }),
};

const EXISTS: Family = Family {
    params: &["path"],
    parse: |p| Ok(Kind::Exists { path: p.path()? }),
};

const IS_KIND: Family = Family {
    params: &["of"],
    parse: |p| {
        Ok(Kind::IsKind {
            of: p.required_string("of")?,
        })
    },
};

const IS_API_VERSION: Family = Family {
    params: &["of"],
    parse: |p| {
        Ok(Kind::IsApiVersion {
            of: p.required_string("of")?,
        })
    },
};

const HAS_DOCUMENTS: Family = Family {
    params: &["count", "filterAware"],
    parse: |p| {
        let count = p
            .uint("count")?
            .ok_or_else(|| p.error("`hasDocuments` needs `count`"))?;
        Ok(Kind::HasDocuments {
            count: count as usize,
            filter_aware: p.flag("filterAware")?,
        })
    },
};

const IS_SUBSET: Family = Family {
    params: &["path", "content"],
    parse: |p| {
        Ok(Kind::IsSubset {
            path: p.path()?,
            content: p.json("content"),
        })
    },
};

const LENGTH_EQUAL: Family = Family {
    params: &["path", "paths", "count"],
    parse: |p| {
        let single = p.optional_string("path")?;
        let many = p.strings("paths")?;
        let count = p.uint("count")?.map(|c| c as usize);
        let texts = match (single, many.is_empty()) {
            (Some(_), false) => {
                return Err(p.error("`lengthEqual` takes `path` or `paths`, not both"));
            }
            (Some(s), true) => {
                if count.is_none() {
                    return Err(p.error("`lengthEqual` with `path` needs `count`"));
                }
                vec![(p.key("path"), s)]
            }
            (None, false) => many
                .into_iter()
                .enumerate()
                .map(|(i, s)| (format!("{}[{i}]", p.key("paths")), s))
                .collect(),
            (None, true) => return Err(p.error("`lengthEqual` needs `path` or `paths`")),
        };
        let paths = texts
            .iter()
            .map(|(at, s)| Path::parse(s).map_err(|e| p.ctx.err(at, e)))
            .collect::<Result<_>>()?;
        Ok(Kind::LengthEqual { paths, count })
    },
};

const IS_TYPE: Family = Family {
    params: &["path", "type"],
    parse: |p| {
        let path = p.path()?;
        let type_name = p.required_string("type")?;
        Ok(Kind::IsType {
            path,
            want: go_type(&type_name),
            type_name,
        })
    },
};

const FAILED_TEMPLATE: Family = Family {
    params: &["errorMessage", "errorPattern"],
    parse: |p| {
        let message = p.optional_string("errorMessage")?;
        let pattern = p.optional_regex("errorPattern")?;
        let expect = match (message, pattern) {
            (Some(_), Some(_)) => {
                return Err(p.error("give `errorMessage` or `errorPattern`, not both"));
            }
            (Some(m), None) => Some(ErrorMatch::Message(m)),
            (None, Some(r)) => Some(ErrorMatch::Pattern(r)),
            (None, None) => None,
        };
        Ok(Kind::FailedTemplate { expect })
    },
};

const MATCH_SNAPSHOT: Family = Family {
    params: &["path", "matchRegex", "notMatchRegex"],
    parse: |p| {
        Ok(Kind::MatchSnapshot {
            path: p.optional_path()?,
            match_regex: p.pattern_section("matchRegex")?,
            not_match_regex: p.pattern_section("notMatchRegex")?,
        })
    },
};

const MATCH_SNAPSHOT_RAW: Family = Family {
    params: &[],
    parse: |_| Ok(Kind::MatchSnapshotRaw),
};

const GREATER_OR_EQUAL: Family = Family {
    params: &["path", "value"],
    parse: |p| compare(p, true),
};

const LESS_OR_EQUAL: Family = Family {
    params: &["path", "value"],
    parse: |p| compare(p, false),
};

const CONTAINS_DOCUMENT: Family = Family {
    params: &["kind", "apiVersion", "name", "namespace", "any"],
    parse: |p| {
        Ok(Kind::ContainsDocument {
            kind: p.required_string("kind")?,
            api_version: p.required_string("apiVersion")?,
            name: p.optional_string("name")?,
            namespace: p.optional_string("namespace")?,
            any: p.flag("any")?,
        })
    },
};

fn compare(p: &mut Params, greater: bool) -> Result<Kind> {
    let value = Some(p.json("value"))
        .filter(|v| v.is_number() || v.is_string())
        .ok_or_else(|| {
            p.error(format!(
                "`{}` needs `value`, a number or a string",
                p.type_name
            ))
        })?;
    Ok(Kind::Compare {
        path: p.path()?,
        value,
        greater,
    })
}

/// Go's type name for a type as suites write it: helm-unittest compares Go's names
/// (`map[string]interface {}`); the friendly aliases stand for them. An unknown name never
/// matches.
fn go_type(t: &str) -> &'static str {
    match t.trim() {
        "bool" | "boolean" => "bool",
        "int" | "int64" | "integer" => "int",
        "float64" | "float" => "float64",
        "string" => "string",
        "nil" | "null" | "" => "nil",
        "[]interface {}" | "[]interface{}" | "[]any" | "slice" | "list" | "array" => {
            "[]interface {}"
        }
        "map[string]interface {}"
        | "map[string]interface{}"
        | "map[string]any"
        | "map"
        | "object" => "map[string]interface {}",
        _ => "unknown type",
    }
}

/// Parses the parameters of the assertion at `at` (its type key in the suite) with the
/// family of `ty`; unknown parameters are warnings (errors under `--strict`), as
/// helm-unittest ignores them.
pub(super) fn parse(
    ctx: &Ctx,
    at: &str,
    ty: &'static AssertionType,
    params: &Yaml,
) -> Result<Kind> {
    let empty = Yaml::Mapping(Default::default());
    let params = if params.is_null() { &empty } else { params };
    let what = format!("`{}`", ty.name);
    let fields = ctx.fields(at, params, &what)?;
    let mut p = Params {
        ctx,
        at: at.to_string(),
        type_name: ty.name,
        fields,
    };
    let kind = (ty.family.parse)(&mut p)?;
    ctx.finish_lenient(p.fields, &what, ty.family.params, false)?;
    Ok(kind)
}

/// The parameters of one assertion, taken one by one and checked as they are taken.
struct Params<'c, 'y> {
    ctx: &'c Ctx<'c>,
    at: String,
    type_name: &'static str,
    fields: Fields<'y>,
}

impl Params<'_, '_> {
    fn key(&self, k: &str) -> String {
        join(&self.at, k)
    }

    /// An error about the assertion as a whole, at its line.
    fn error(&self, msg: impl std::fmt::Display) -> anyhow::Error {
        self.ctx.err(&self.at, msg)
    }

    fn json(&mut self, k: &str) -> Json {
        self.fields
            .take(k)
            .map(|v| crate::yaml::yaml_to_json(v.clone()))
            .unwrap_or(Json::Null)
    }

    fn flag(&mut self, k: &str) -> Result<bool> {
        let v = self.fields.take(k);
        self.ctx.bool(&self.key(k), v)
    }

    fn int(&mut self, k: &str) -> Result<Option<i64>> {
        let v = self.fields.take(k);
        self.ctx.int(&self.key(k), v)
    }

    fn uint(&mut self, k: &str) -> Result<Option<u64>> {
        let v = self.fields.take(k);
        self.ctx.uint(&self.key(k), v)
    }

    fn strings(&mut self, k: &str) -> Result<Vec<String>> {
        let v = self.fields.take(k);
        self.ctx.strings(&self.key(k), v)
    }

    fn optional_string(&mut self, k: &str) -> Result<Option<String>> {
        let v = self.fields.take(k);
        self.ctx.opt_string(&self.key(k), v)
    }

    fn required_string(&mut self, k: &str) -> Result<String> {
        self.optional_string(k)?
            .ok_or_else(|| self.error(format!("`{}` needs `{k}`", self.type_name)))
    }

    /// The required `path`, parsed.
    fn path(&mut self) -> Result<Path> {
        let text = self.required_string("path")?;
        Path::parse(&text).map_err(|e| self.ctx.err(&self.key("path"), e))
    }

    /// `path`, parsed; the whole document when absent.
    fn optional_path(&mut self) -> Result<Path> {
        let text = self.optional_string("path")?.unwrap_or_default();
        Path::parse(&text).map_err(|e| self.ctx.err(&self.key("path"), e))
    }

    fn compile(&self, at: &str, pattern: &str) -> Result<Regex> {
        Regex::new(pattern).map_err(|e| self.ctx.err(at, format!("invalid pattern: {e}")))
    }

    fn regex(&mut self, k: &str) -> Result<Regex> {
        let text = self.required_string(k)?;
        self.compile(&self.key(k), &text)
    }

    fn optional_regex(&mut self, k: &str) -> Result<Option<Regex>> {
        match self.optional_string(k)? {
            Some(text) => self.compile(&self.key(k), &text).map(Some),
            None => Ok(None),
        }
    }

    /// `matchRegex: {pattern: ...}` inside `matchSnapshot`.
    fn pattern_section(&mut self, k: &str) -> Result<Option<Regex>> {
        let Some(v) = self.fields.take(k) else {
            return Ok(None);
        };
        let at = self.key(k);
        let what = format!("`{k}`");
        let mut section = self.ctx.fields(&at, v, &what)?;
        let pattern_at = join(&at, "pattern");
        let text = self.ctx.opt_string(&pattern_at, section.take("pattern"))?;
        self.ctx.finish(section, &what, &["pattern"])?;
        text.map(|t| self.compile(&pattern_at, &t)).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_listed_once() {
        let mut names: Vec<&str> = names().collect();
        let all = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all);
    }

    #[test]
    fn antonyms_share_their_familys_parameters() {
        for t in ASSERTION_TYPES.iter().filter(|t| t.antonym) {
            let base = ASSERTION_TYPES
                .iter()
                .find(|b| !b.antonym && std::ptr::eq(b.family, t.family));
            assert!(base.is_some(), "`{}` has no positive form", t.name);
        }
    }

    #[test]
    fn go_type_names_and_friendly_aliases_agree() {
        assert_eq!(go_type("map"), "map[string]interface {}");
        assert_eq!(go_type("[]interface {}"), go_type("list"));
        assert_eq!(go_type("float"), "float64");
        assert_eq!(go_type("integer"), "int");
        assert_eq!(go_type("whatever"), "unknown type");
    }
}
