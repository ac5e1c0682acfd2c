//! Filters with the meaning of Helm's (Sprig's) template functions of the same purpose.
//!
//! Names follow Tera's snake_case convention; docs/templates.md maps each to its Helm name.

use base64::Engine as _;
use serde_json::Value as Json;
use sha2::Digest as _;
use tera::{Error, Kwargs, State, Tera, TeraResult, Value};

use super::convert::{from_json, to_json};
use crate::merge::{Conflict, deep_merge};

/// Registers every filter on `tera`.
pub(crate) fn register(tera: &mut Tera) {
    tera.register_filter("to_yaml", to_yaml);
    tera.register_filter("to_json", to_json_filter);
    tera.register_filter("to_pretty_json", to_pretty_json);
    tera.register_filter("from_yaml", from_yaml);
    tera.register_filter("from_json", from_json_filter);
    tera.register_filter("indent", indent);
    tera.register_filter("nindent", nindent);
    tera.register_filter("quote", quote);
    tera.register_filter("squote", squote);
    tera.register_filter("b64encode", b64encode);
    tera.register_filter("b64decode", b64decode);
    tera.register_filter("sha256sum", sha256sum);
    tera.register_filter("trunc", trunc);
    tera.register_filter("trim_prefix", trim_prefix);
    tera.register_filter("trim_suffix", trim_suffix);
    tera.register_filter("required", required);
    tera.register_filter("regex_replace", regex_replace);
    tera.register_filter("kebab_case", kebab_case);
    tera.register_filter("snake_case", snake_case);
    tera.register_filter("camel_case", camel_case);
    tera.register_filter("title", title);
    tera.register_filter("dns_name", dns_name);
    tera.register_filter("merge", merge);
    tera.register_filter("merge_overwrite", merge_overwrite);
    tera.register_filter("pick", pick);
    tera.register_filter("omit", omit);
    tera.register_filter("keys", keys);
    tera.register_filter("append", append);
    tera.register_filter("concat", concat);
    tera.register_filter("uniq", uniq);
    tera.register_filter("compact", compact);
    tera.register_filter("empty", empty);
    tera.register_filter("to_string", to_string);
}

/// The value as Helm would print it with `{{ . }}`: strings bare, scalars in their plain form,
/// maps and lists as JSON.
pub fn display(v: &Value) -> TeraResult<String> {
    if let Some(s) = v.as_str() {
        return Ok(s.to_string());
    }
    if v.is_none() || v.is_undefined() {
        return Ok(String::new());
    }
    super::budget::check_value_depth(v, "printing a value")?;
    match to_json(v)? {
        Json::String(s) => Ok(s),
        other @ (Json::Array(_) | Json::Object(_)) => Ok(other.to_string()),
        other => Ok(other.to_string()),
    }
}

fn to_string(v: Value, _: Kwargs, _: &State) -> TeraResult<String> {
    display(&v)
}

/// YAML text of a value with sorted keys and no trailing newline, like Helm's `toYaml`.
pub(crate) fn yaml_text(v: &Json) -> TeraResult<String> {
    Ok(super::yaml_emit::to_yaml(v))
}

fn to_yaml(v: Value, _: Kwargs, _: &State) -> TeraResult<String> {
    if v.is_undefined() {
        return Err(Error::message("to_yaml: the value is undefined"));
    }
    super::budget::check_value_depth(&v, "to_yaml")?;
    yaml_text(&to_json(&v)?)
}

fn to_json_filter(v: Value, _: Kwargs, _: &State) -> TeraResult<String> {
    super::budget::check_value_depth(&v, "to_json")?;
    serde_json::to_string(&to_json(&v)?).map_err(|e| Error::message(format!("to_json: {e}")))
}

fn to_pretty_json(v: Value, _: Kwargs, _: &State) -> TeraResult<String> {
    super::budget::check_value_depth(&v, "to_pretty_json")?;
    serde_json::to_string_pretty(&to_json(&v)?)
        .map_err(|e| Error::message(format!("to_pretty_json: {e}")))
}

fn from_yaml(text: &str, _: Kwargs, _: &State) -> TeraResult<Value> {
    let doc: crate::yaml::Yaml = crate::yaml::try_from_str(text)
        .map_err(|e| Error::message(format!("from_yaml: the text is not valid YAML: {e}")))?;
    Ok(from_json(&crate::yaml::yaml_to_json(doc)))
}

fn from_json_filter(text: &str, _: Kwargs, _: &State) -> TeraResult<Value> {
    let v: Json = serde_json::from_str(text)
        .map_err(|e| Error::message(format!("from_json: the text is not valid JSON: {e}")))?;
    Ok(from_json(&v))
}

fn width(kwargs: &Kwargs, filter: &str) -> TeraResult<usize> {
    match kwargs.get::<i64>("width")? {
        Some(w) if (0..=1000).contains(&w) => Ok(w as usize),
        Some(w) => Err(Error::message(format!(
            "{filter}: width {w} is out of range 0..=1000"
        ))),
        None => Err(Error::message(format!(
            "{filter}: the `width` argument is required, e.g. {filter}(width=4)"
        ))),
    }
}

/// Helm's `indent`: every line, the first and blank ones included, gets `width` spaces.
fn indent(v: Value, kwargs: Kwargs, _: &State) -> TeraResult<String> {
    indented(&v, &kwargs, false)
}

/// `text` with `pad` before its first line and after every newline, `lead` newline first.
fn indented(v: &Value, kwargs: &Kwargs, lead: bool) -> TeraResult<String> {
    let width = width(kwargs, "indent")?;
    let text = display(v)?;
    let lines = text.bytes().filter(|&b| b == b'\n').count() + 1;
    let mut out = String::with_capacity(text.len() + lines * width + 1);
    if lead {
        out.push('\n');
    }
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.extend(std::iter::repeat_n(' ', width));
        out.push_str(line);
    }
    Ok(out)
}

/// Helm's `nindent`: a newline, then `indent`.
fn nindent(v: Value, kwargs: Kwargs, _: &State) -> TeraResult<String> {
    indented(&v, &kwargs, true)
}

fn quote(v: Value, _: Kwargs, _: &State) -> TeraResult<String> {
    if v.is_none() || v.is_undefined() {
        return Ok("\"\"".to_string());
    }
    // Go's %q escaping, which JSON's string escaping matches for the characters that matter.
    Ok(serde_json::to_string(&display(&v)?).unwrap_or_default())
}

fn squote(v: Value, _: Kwargs, _: &State) -> TeraResult<String> {
    if v.is_none() || v.is_undefined() {
        return Ok("''".to_string());
    }
    Ok(format!("'{}'", display(&v)?))
}

fn b64encode(v: Value, _: Kwargs, _: &State) -> TeraResult<String> {
    Ok(base64::engine::general_purpose::STANDARD.encode(display(&v)?))
}

fn b64decode(text: &str, _: Kwargs, _: &State) -> TeraResult<String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| Error::message(format!("b64decode: not valid base64: {e}")))?;
    String::from_utf8(bytes)
        .map_err(|_| Error::message("b64decode: the decoded bytes are not UTF-8"))
}

fn sha256sum(v: Value, _: Kwargs, _: &State) -> TeraResult<String> {
    let digest = sha2::Sha256::digest(display(&v)?.as_bytes());
    Ok(digest.iter().map(|b| format!("{b:02x}")).collect())
}

/// Sprig's `trunc`: a positive length keeps the start, a negative one keeps the end.
fn trunc(v: Value, kwargs: Kwargs, _: &State) -> TeraResult<String> {
    let len = kwargs.must_get::<i64>("length")?;
    let text = display(&v)?;
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len() as i64;
    Ok(if len >= 0 {
        chars[..len.min(n) as usize].iter().collect()
    } else {
        chars[(n + len).max(0) as usize..].iter().collect()
    })
}

fn trim_prefix(v: Value, kwargs: Kwargs, _: &State) -> TeraResult<String> {
    let prefix = kwargs.must_get::<String>("prefix")?;
    let text = display(&v)?;
    Ok(text
        .strip_prefix(prefix.as_str())
        .unwrap_or(&text)
        .to_string())
}

fn trim_suffix(v: Value, kwargs: Kwargs, _: &State) -> TeraResult<String> {
    let suffix = kwargs.must_get::<String>("suffix")?;
    let text = display(&v)?;
    Ok(text
        .strip_suffix(suffix.as_str())
        .unwrap_or(&text)
        .to_string())
}

/// Whether a value counts as empty the way Sprig's `empty` sees it.
pub fn is_empty(v: &Value) -> bool {
    if v.is_undefined() || v.is_none() {
        return true;
    }
    if let Some(b) = v.as_bool() {
        return !b;
    }
    if let Some(n) = v.as_number() {
        return n.as_float() == 0.0;
    }
    v.len() == Some(0)
}

fn empty(v: Value, _: Kwargs, _: &State) -> bool {
    is_empty(&v)
}

/// Fails rendering with `message` when the value is missing, null or an empty string.
fn required(v: Value, kwargs: Kwargs, _: &State) -> TeraResult<Value> {
    let missing = v.is_undefined() || v.is_none() || v.as_str() == Some("");
    if missing {
        let message = kwargs
            .get::<String>("message")?
            .unwrap_or_else(|| "a required value is missing".to_string());
        return Err(Error::message(message));
    }
    Ok(v)
}

fn regex_replace(text: &str, kwargs: Kwargs, _: &State) -> TeraResult<String> {
    let pattern = kwargs.must_get::<String>("pattern")?;
    let rep = kwargs.must_get::<String>("rep")?;
    let re = regex::Regex::new(&pattern)
        .map_err(|e| Error::message(format!("regex_replace: bad pattern `{pattern}`: {e}")))?;
    Ok(re.replace_all(text, rep.as_str()).into_owned())
}

fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        let boundary = c.is_uppercase()
            && !cur.is_empty()
            && (cur
                .chars()
                .last()
                .is_some_and(|p| p.is_lowercase() || p.is_ascii_digit())
                || chars.get(i + 1).is_some_and(|n| n.is_lowercase()));
        if boundary {
            out.push(std::mem::take(&mut cur));
        }
        cur.push(c);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn kebab_case(text: &str, _: Kwargs, _: &State) -> String {
    words(text)
        .iter()
        .map(|w| w.to_lowercase())
        .collect::<Vec<_>>()
        .join("-")
}

fn snake_case(text: &str, _: Kwargs, _: &State) -> String {
    words(text)
        .iter()
        .map(|w| w.to_lowercase())
        .collect::<Vec<_>>()
        .join("_")
}

fn capitalised(w: &str) -> String {
    let mut c = w.chars();
    match c.next() {
        Some(f) => f
            .to_uppercase()
            .chain(c.flat_map(|x| x.to_lowercase()))
            .collect(),
        None => String::new(),
    }
}

/// Sprig's `camelcase`: `foo_bar` becomes `FooBar`.
fn camel_case(text: &str, _: Kwargs, _: &State) -> String {
    words(text).iter().map(|w| capitalised(w)).collect()
}

/// Sprig's `title`: the first letter of each space-separated word upper-cased.
fn title(text: &str, _: Kwargs, _: &State) -> String {
    text.split(' ')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Cuts a name to a DNS label's 63 characters and trims the `-` the cut may leave.
fn dns_name(v: Value, kwargs: Kwargs, _: &State) -> TeraResult<String> {
    let max = kwargs.get::<i64>("length")?.unwrap_or(63).clamp(1, 253) as usize;
    let text = display(&v)?;
    let cut: String = text.chars().take(max).collect();
    Ok(cut.trim_end_matches('-').to_string())
}

fn as_object(v: &Value, filter: &str) -> TeraResult<serde_json::Map<String, Json>> {
    match to_json(v)? {
        Json::Object(m) => Ok(m),
        Json::Null => Ok(serde_json::Map::new()),
        other => Err(Error::message(format!(
            "{filter}: expected a mapping, got {}",
            crate::yaml::kind_name(&other)
        ))),
    }
}

/// Sprig's `merge`: keys already in the piped map win; `with` fills in the rest, deeply.
fn merge(v: Value, kwargs: Kwargs, _: &State) -> TeraResult<Value> {
    let mut dst = as_object(&v, "merge")?;
    let with = kwargs.must_get::<Value>("with")?;
    deep_merge(&mut dst, as_object(&with, "merge")?, Conflict::Keep);
    Ok(from_json(&Json::Object(dst)))
}

/// Sprig's `mergeOverwrite`: keys from `with` win, deeply.
fn merge_overwrite(v: Value, kwargs: Kwargs, _: &State) -> TeraResult<Value> {
    let mut dst = as_object(&v, "merge_overwrite")?;
    let with = kwargs.must_get::<Value>("with")?;
    deep_merge(
        &mut dst,
        as_object(&with, "merge_overwrite")?,
        Conflict::Overwrite,
    );
    Ok(from_json(&Json::Object(dst)))
}

fn key_list(kwargs: &Kwargs, filter: &str) -> TeraResult<Vec<String>> {
    let keys = kwargs
        .get::<Value>("keys")?
        .ok_or_else(|| Error::message(format!("{filter}: the `keys` argument is required")))?;
    match to_json(&keys)? {
        Json::Array(items) => Ok(items
            .into_iter()
            .map(|k| match k {
                Json::String(s) => s,
                other => other.to_string(),
            })
            .collect()),
        Json::String(s) => Ok(vec![s]),
        _ => Err(Error::message(format!(
            "{filter}: `keys` must be a list of names"
        ))),
    }
}

fn pick(v: Value, kwargs: Kwargs, _: &State) -> TeraResult<Value> {
    let keys = key_list(&kwargs, "pick")?;
    let map = as_object(&v, "pick")?;
    let out: serde_json::Map<_, _> = map.into_iter().filter(|(k, _)| keys.contains(k)).collect();
    Ok(from_json(&Json::Object(out)))
}

fn omit(v: Value, kwargs: Kwargs, _: &State) -> TeraResult<Value> {
    let keys = key_list(&kwargs, "omit")?;
    let map = as_object(&v, "omit")?;
    let out: serde_json::Map<_, _> = map.into_iter().filter(|(k, _)| !keys.contains(k)).collect();
    Ok(from_json(&Json::Object(out)))
}

/// Sorted keys of a map (Helm's `keys | sortAlpha`, which charts almost always want).
fn keys(v: Value, _: Kwargs, _: &State) -> TeraResult<Value> {
    let map = as_object(&v, "keys")?;
    let mut ks: Vec<Json> = map.keys().map(|k| Json::String(k.clone())).collect();
    ks.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    Ok(from_json(&Json::Array(ks)))
}

fn as_list(v: &Value, filter: &str) -> TeraResult<Vec<Json>> {
    match to_json(v)? {
        Json::Array(items) => Ok(items),
        Json::Null => Ok(Vec::new()),
        other => Err(Error::message(format!(
            "{filter}: expected a list, got {}",
            crate::yaml::kind_name(&other)
        ))),
    }
}

fn append(v: Value, kwargs: Kwargs, _: &State) -> TeraResult<Value> {
    let mut list = as_list(&v, "append")?;
    list.push(to_json(&kwargs.must_get::<Value>("value")?)?);
    Ok(from_json(&Json::Array(list)))
}

fn concat(v: Value, kwargs: Kwargs, _: &State) -> TeraResult<Value> {
    let mut list = as_list(&v, "concat")?;
    list.extend(as_list(&kwargs.must_get::<Value>("with")?, "concat")?);
    Ok(from_json(&Json::Array(list)))
}

fn uniq(v: Value, _: Kwargs, _: &State) -> TeraResult<Value> {
    let mut out: Vec<Json> = Vec::new();
    for item in as_list(&v, "uniq")? {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    Ok(from_json(&Json::Array(out)))
}

fn compact(v: Value, _: Kwargs, _: &State) -> TeraResult<Value> {
    let list = as_list(&v, "compact")?;
    let out: Vec<Json> = list
        .into_iter()
        .filter(|j| !is_empty(&from_json(j)))
        .collect();
    Ok(from_json(&Json::Array(out)))
}
