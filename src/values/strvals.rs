//! The `--set` family's grammar, as Helm parses it (its `strvals` package): dotted keys,
//! list indices, `{a,b}` lists, backslash escapes, and typing rules per flag.
//!
//! The behaviour is checked against real Helm by tests/helm_differential.rs; where it
//! differs on purpose, docs/values.md says so.

use anyhow::{Result, anyhow};
use serde_json::{Map, Value};

/// Which flag a `--set`-style argument came from; decides how values are typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetKind {
    /// `--set`: values are typed (integers, booleans, null), lists with `{a,b}`.
    Set,
    /// `--set-string`: every value is a string.
    String,
    /// `--set-json`: every value is JSON.
    Json,
    /// `--set-literal`: the whole right-hand side is one literal string, no escapes or lists.
    Literal,
    /// `--set-file`: the value is a path whose contents become the string value.
    File,
}

/// Deepest `a.b.c...` nesting Helm accepts.
pub const MAX_NESTED_NAME_LEVEL: usize = 30;
/// Largest list index Helm accepts.
pub const MAX_INDEX: i64 = 65536;

/// Applies one `--set`-style argument (`a.b=1,c[0]=x`) to `target`. `read_file` loads the
/// contents for [`SetKind::File`].
pub fn apply(
    target: &mut Map<String, Value>,
    arg: &str,
    kind: SetKind,
    read_file: &dyn Fn(&str) -> Result<String>,
) -> Result<()> {
    let mut p = Parser {
        chars: arg.chars().collect(),
        pos: 0,
        kind,
        read_file,
    };
    loop {
        let r = if kind == SetKind::Literal {
            p.literal_key(target, 0)
        } else {
            p.key(target, 0)
        };
        match r {
            Ok(()) => continue,
            Err(Stop::Eof) => return Ok(()),
            Err(Stop::Fail(e)) => return Err(e),
        }
    }
}

/// Why parsing stopped: the input ran out (not an error at the top level) or it is wrong.
enum Stop {
    Eof,
    Fail(anyhow::Error),
}

fn fail(msg: impl Into<String>) -> Stop {
    Stop::Fail(anyhow!(msg.into()))
}

impl From<anyhow::Error> for Stop {
    fn from(e: anyhow::Error) -> Self {
        Stop::Fail(e)
    }
}

/// Result of reading up to a stop character: the text read and the stop met (None at the
/// end of input).
type Read = (String, Option<char>);

/// Outcome of trying to read a `{a,b}` list.
enum ListRead {
    List(Vec<Value>),
    NotList,
    Eof,
}

struct Parser<'a> {
    chars: Vec<char>,
    pos: usize,
    kind: SetKind,
    read_file: &'a dyn Fn(&str) -> Result<String>,
}

/// Stores `v` under `key`; an empty key stores nothing, as in Helm.
fn set(data: &mut Map<String, Value>, key: &str, v: Value) {
    if !key.is_empty() {
        data.insert(key.to_string(), v);
    }
}

fn set_index(mut list: Vec<Value>, index: i64, v: Value) -> Result<Vec<Value>, Stop> {
    if index < 0 {
        return Err(fail(format!("negative {index} index not allowed")));
    }
    if index > MAX_INDEX {
        return Err(fail(format!(
            "index of {index} is greater than maximum supported index of {MAX_INDEX}"
        )));
    }
    let i = index as usize;
    if list.len() <= i {
        list.resize(i + 1, Value::Null);
    }
    list[i] = v;
    Ok(list)
}

/// `--set` typing: true/false/null in any case, integers without a leading zero; anything
/// else (floats included) stays a string.
pub fn typed_value(text: &str) -> Value {
    if text.eq_ignore_ascii_case("true") {
        return Value::Bool(true);
    }
    if text.eq_ignore_ascii_case("false") {
        return Value::Bool(false);
    }
    if text.eq_ignore_ascii_case("null") {
        return Value::Null;
    }
    if text == "0" {
        return Value::from(0);
    }
    if !text.is_empty()
        && !text.starts_with('0')
        && let Ok(i) = text.parse::<i64>()
    {
        return Value::from(i);
    }
    Value::String(text.to_string())
}

impl Parser<'_> {
    fn next(&mut self) -> Option<char> {
        let c = self.chars.get(self.pos).copied();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    fn unread(&mut self) {
        self.pos -= 1;
    }

    /// Reads until one of `stops`; a backslash takes the next character literally (not in
    /// literal mode).
    fn until(&mut self, stops: &[char]) -> Result<Read, Stop> {
        let mut out = String::new();
        loop {
            match self.next() {
                None => return Ok((out, None)),
                Some(c) if stops.contains(&c) => return Ok((out, Some(c))),
                Some('\\') if self.kind != SetKind::Literal => match self.next() {
                    None => return Ok((out, None)),
                    Some(n) => out.push(n),
                },
                Some(c) => out.push(c),
            }
        }
    }

    fn read_value(&self, text: &str) -> Result<Value, Stop> {
        Ok(match self.kind {
            SetKind::String => Value::String(text.to_string()),
            SetKind::File => Value::String((self.read_file)(text)?),
            _ => typed_value(text),
        })
    }

    fn key_index(&mut self) -> Result<i64, Stop> {
        let (text, stop) = self.until(&[']'])?;
        if stop.is_none() {
            // Helm treats a cut-off index like the end of the input: nothing more is set.
            return Err(Stop::Eof);
        }
        text.parse::<i64>()
            .map_err(|_| fail(format!("error parsing index: `{text}` is not an integer")))
    }

    /// Skips blanks and one comma; true when no value follows (`a=` or `a=,`).
    fn empty_value(&mut self) -> bool {
        loop {
            match self.next() {
                None | Some(',') => return true,
                Some(c) if c.is_whitespace() => continue,
                Some(_) => {
                    self.unread();
                    return false;
                }
            }
        }
    }

    /// Decodes one JSON value from the rest of the input, then skips blanks and a comma.
    fn json_value(&mut self) -> Result<Value, Stop> {
        let rest: String = self.chars[self.pos..].iter().collect();
        let mut stream = serde_json::Deserializer::from_str(&rest).into_iter::<Value>();
        let value = match stream.next() {
            Some(Ok(v)) => v,
            Some(Err(e)) => return Err(fail(format!("invalid JSON value: {e}"))),
            None => return Err(fail("invalid JSON value: nothing to decode")),
        };
        let used = rest[..stream.byte_offset()].chars().count();
        self.pos += used;
        self.empty_value();
        Ok(value)
    }

    fn value_list(&mut self) -> Result<ListRead, Stop> {
        match self.next() {
            None => return Ok(ListRead::Eof),
            Some('{') => {}
            Some(_) => {
                self.unread();
                return Ok(ListRead::NotList);
            }
        }
        let mut list = Vec::new();
        loop {
            let (text, stop) = self.until(&[',', '}'])?;
            match stop {
                None => return Err(fail("list must terminate with '}'")),
                Some('}') => {
                    if let Some(c) = self.next()
                        && c != ','
                    {
                        self.unread();
                    }
                    list.push(self.read_value(&text)?);
                    return Ok(ListRead::List(list));
                }
                _ => list.push(self.read_value(&text)?),
            }
        }
    }

    /// The value after `=`, for the typed, string and file flags.
    fn assigned_value(&mut self) -> Result<(Value, bool), Stop> {
        match self.value_list()? {
            ListRead::List(l) => Ok((Value::Array(l), false)),
            ListRead::Eof => Ok((Value::String(String::new()), true)),
            ListRead::NotList => {
                let (text, _) = self.until(&[','])?;
                Ok((self.read_value(&text)?, false))
            }
        }
    }

    fn take_map(data: &mut Map<String, Value>, key: &str) -> Result<Map<String, Value>, Stop> {
        match data.remove(key) {
            None => Ok(Map::new()),
            Some(Value::Object(m)) => Ok(m),
            Some(other) => {
                let kind = crate::values::kind_name(&other);
                data.insert(key.to_string(), other);
                Err(fail(format!(
                    "unable to parse key: `{key}` is {kind}, not a map"
                )))
            }
        }
    }

    fn take_list(data: &mut Map<String, Value>, key: &str) -> Result<Vec<Value>, Stop> {
        match data.remove(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(l)) => Ok(l),
            Some(other) => {
                let kind = crate::values::kind_name(&other);
                data.insert(key.to_string(), other);
                Err(fail(format!(
                    "unable to parse key: `{key}` is {kind}, not a list"
                )))
            }
        }
    }

    fn nested(level: usize) -> Result<usize, Stop> {
        let level = level + 1;
        if level > MAX_NESTED_NAME_LEVEL {
            return Err(fail(format!(
                "value name nested level is greater than maximum supported nested level of {MAX_NESTED_NAME_LEVEL}"
            )));
        }
        Ok(level)
    }

    fn key(&mut self, data: &mut Map<String, Value>, level: usize) -> Result<(), Stop> {
        let (key, stop) = self.until(&['=', '[', ',', '.'])?;
        match stop {
            None if key.is_empty() => Err(Stop::Eof),
            None => Err(fail(format!("key \"{key}\" has no value"))),
            Some('[') => {
                let i = self.key_index()?;
                let list = Self::take_list(data, &key)?;
                let (list, r) = match self.list_item(list, i, level) {
                    Ok(l) => (l, Ok(())),
                    Err(Stop::Eof) => (Vec::new(), Err(Stop::Eof)),
                    Err(e) => return Err(e),
                };
                set(data, &key, Value::Array(list));
                r
            }
            Some('=') if self.kind == SetKind::Json => {
                if self.empty_value() {
                    set(data, &key, Value::Null);
                    return Ok(());
                }
                let v = self.json_value()?;
                set(data, &key, v);
                Ok(())
            }
            Some('=') => {
                let (v, at_end) = self.assigned_value()?;
                set(data, &key, v);
                if at_end { Err(Stop::Eof) } else { Ok(()) }
            }
            Some(',') => Err(fail(format!(
                "key \"{key}\" has no value (cannot end with ,)"
            ))),
            Some(_) => {
                let level = Self::nested(level)?;
                let mut inner = Self::take_map(data, &key)?;
                let r = self.key(&mut inner, level);
                if r.is_ok() && inner.is_empty() {
                    return Err(fail(format!("key map \"{key}\" has no value")));
                }
                if !inner.is_empty() {
                    set(data, &key, Value::Object(inner));
                }
                r
            }
        }
    }

    fn list_item(&mut self, list: Vec<Value>, i: i64, level: usize) -> Result<Vec<Value>, Stop> {
        if i < 0 {
            return Err(fail(format!("negative {i} index not allowed")));
        }
        let (extra, stop) = self.until(&['[', '.', '='])?;
        if !extra.is_empty() {
            return Err(fail(format!(
                "unexpected data at end of array index: \"{extra}\""
            )));
        }
        match stop {
            None => Err(Stop::Eof),
            Some('=') if self.kind == SetKind::Json => {
                if self.empty_value() {
                    return set_index(list, i, Value::Null);
                }
                let v = self.json_value()?;
                set_index(list, i, v)
            }
            Some('=') if self.kind == SetKind::Literal => {
                let rest: String = self.chars[self.pos..].iter().collect();
                self.pos = self.chars.len();
                set_index(list, i, Value::String(rest))
            }
            Some('=') => {
                let (v, _) = self.assigned_value()?;
                set_index(list, i, v)
            }
            Some('[') => {
                let next = self.key_index()?;
                let current = match list.get(i as usize) {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::Array(l)) => l.clone(),
                    Some(other) => {
                        return Err(fail(format!(
                            "unable to parse key: list item {i} is {}, not a list",
                            crate::values::kind_name(other)
                        )));
                    }
                };
                let inner = self.list_item(current, next, level)?;
                set_index(list, i, Value::Array(inner))
            }
            Some(_) => {
                // Out-of-order indices leave non-map placeholders; Helm replaces them.
                let mut inner = match list.get(i as usize) {
                    Some(Value::Object(m)) => m.clone(),
                    _ => Map::new(),
                };
                if self.kind == SetKind::Literal {
                    self.literal_key(&mut inner, level)?;
                } else {
                    self.key(&mut inner, level)?;
                }
                set_index(list, i, Value::Object(inner))
            }
        }
    }

    /// `--set-literal`: keys split on `.` and `[`, and everything after the first `=` is
    /// the value, commas and backslashes included.
    fn literal_key(&mut self, data: &mut Map<String, Value>, level: usize) -> Result<(), Stop> {
        let (key, stop) = self.until(&['=', '[', '.'])?;
        match stop {
            None if key.is_empty() => Err(Stop::Eof),
            None => Err(fail(format!("key \"{key}\" has no value"))),
            Some('=') => {
                let rest: String = self.chars[self.pos..].iter().collect();
                self.pos = self.chars.len();
                set(data, &key, Value::String(rest));
                Ok(())
            }
            Some('.') => {
                let level = Self::nested(level)?;
                let mut inner = Self::take_map(data, &key)?;
                let r = self.literal_key(&mut inner, level);
                if r.is_ok() && inner.is_empty() {
                    return Err(fail(format!("key map \"{key}\" has no value")));
                }
                if !inner.is_empty() {
                    set(data, &key, Value::Object(inner));
                }
                r
            }
            Some(_) => {
                let i = self.key_index()?;
                let list = Self::take_list(data, &key)?;
                let (list, r) = match self.list_item(list, i, level) {
                    Ok(l) => (l, Ok(())),
                    Err(Stop::Eof) => (Vec::new(), Err(Stop::Eof)),
                    Err(e) => return Err(e),
                };
                set(data, &key, Value::Array(list));
                r
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(kind: SetKind, arg: &str) -> Result<Value> {
        let mut m = Map::new();
        apply(&mut m, arg, kind, &|p| Ok(format!("<contents of {p}>")))?;
        Ok(Value::Object(m))
    }

    fn set_ok(arg: &str) -> Value {
        parse(SetKind::Set, arg).unwrap()
    }

    #[test]
    fn dotted_keys_build_nested_maps() {
        assert_eq!(
            set_ok("a.b.c=1,a.d=x"),
            json!({"a": {"b": {"c": 1}, "d": "x"}})
        );
    }

    #[test]
    fn typing_follows_helm() {
        assert_eq!(
            set_ok("a=true,b=FALSE,c=null,d=0,e=007,f=-12,g=1.5,h=+3,i=99999999999999999999,j="),
            json!({"a": true, "b": false, "c": null, "d": 0, "e": "007", "f": -12, "g": "1.5", "h": 3, "i": "99999999999999999999", "j": ""})
        );
        assert_eq!(
            parse(SetKind::String, "a=true,b=1").unwrap(),
            json!({"a": "true", "b": "1"})
        );
    }

    #[test]
    fn lists_indices_and_padding() {
        assert_eq!(set_ok("a={x,2,true}"), json!({"a": ["x", 2, true]}));
        assert_eq!(set_ok("a[2]=z"), json!({"a": [null, null, "z"]}));
        assert_eq!(
            set_ok("a[0].b=1,a[0].c=2"),
            json!({"a": [{"b": 1, "c": 2}]})
        );
        assert_eq!(set_ok("a[0][1]=x"), json!({"a": [[null, "x"]]}));
        assert_eq!(set_ok("a={}"), json!({"a": [""]}));
    }

    #[test]
    fn escapes_keep_special_characters() {
        assert_eq!(
            set_ok(r"a\.b=c\,d,e=f\=g"),
            json!({"a.b": "c,d", "e": "f=g"})
        );
        assert_eq!(
            set_ok(r#"annotations.kubernetes\.io/ingress\.class=nginx"#),
            json!({"annotations": {"kubernetes.io/ingress.class": "nginx"}})
        );
    }

    #[test]
    fn json_values_and_literals() {
        assert_eq!(
            parse(SetKind::Json, r#"a={"b":[1,"x"]},c=null,d="s""#).unwrap(),
            json!({"a": {"b": [1, "x"]}, "c": null, "d": "s"})
        );
        assert_eq!(parse(SetKind::Json, "a=").unwrap(), json!({"a": null}));
        assert_eq!(
            parse(SetKind::Literal, r"a.b=x,y=\z{}").unwrap(),
            json!({"a": {"b": r"x,y=\z{}"}})
        );
    }

    #[test]
    fn set_file_reads_the_path() {
        assert_eq!(
            parse(SetKind::File, "cfg=files/a.txt").unwrap(),
            json!({"cfg": "<contents of files/a.txt>"})
        );
    }

    #[test]
    fn malformed_arguments_say_what_is_wrong() {
        let msg = |a: &str| parse(SetKind::Set, a).unwrap_err().to_string();
        assert_eq!(msg("a"), "key \"a\" has no value");
        assert_eq!(msg("a,b=1"), "key \"a\" has no value (cannot end with ,)");
        assert!(msg("a[x]=1").contains("error parsing index"));
        assert!(msg("a={b,c").contains("list must terminate"));
        assert!(msg("a[-1]=1").contains("negative"));
        assert!(msg("a[70000]=1").contains("maximum supported index"));
        assert!(msg("a=1,a.b=2").contains("unable to parse key"));
        let deep = format!("{}=1", vec!["k"; 40].join("."));
        assert!(msg(&deep).contains("nested level"));
    }

    #[test]
    fn quirks_kept_for_compatibility() {
        // An empty key stores nothing; an index with no value leaves an empty list.
        assert_eq!(set_ok("=1"), json!({}));
        assert_eq!(set_ok("a[0]"), json!({"a": []}));
        assert_eq!(set_ok("a."), json!({}));
    }
}
