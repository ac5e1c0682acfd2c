//! The `--set` family's grammar, as Helm parses it.
//!
//! One argument holds comma-separated assignments `path=value`. A path is keys joined by
//! `.`, each optionally followed by list indices `[N]` (`a.b[0][1].c`). Outside
//! `--set-literal`, a backslash makes the next character literal (`\,` `\.` `\=` `\[` `\\`).
//!
//! How values are typed depends on the flag ([`SetKind`]). Helm's parser has many corner
//! cases; this module reproduces them (the differential tests in tests/helm_diff check that
//! against Helm itself), with one deliberate exception: where Helm *silently throws away*
//! part of an argument (an empty key, an unclosed `[`, a path with no `=value`, an empty
//! value at the end of a list element's path), [`apply`] reports an error instead.
//! [`apply_helm_compatible`] keeps Helm's behaviour there too. docs/values.md lists each
//! difference and why.

use std::cell::Cell;

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

impl SetKind {
    /// The command-line flag, for messages.
    pub fn flag(self) -> &'static str {
        match self {
            SetKind::Set => "--set",
            SetKind::String => "--set-string",
            SetKind::Json => "--set-json",
            SetKind::Literal => "--set-literal",
            SetKind::File => "--set-file",
        }
    }
}

/// Helm refuses list indices above this (it would otherwise allocate huge lists).
pub(crate) const MAX_INDEX: i64 = 65536;

/// Helm refuses paths with more than this many `.` separators.
pub(crate) const MAX_NESTING: usize = 30;

/// Applies one `--set`-style argument (`a.b=1,c[0]=x`) to `target`. `read_file` loads the
/// contents for [`SetKind::File`].
///
/// On error `target` is left unchanged, and the message names the flag, the argument and
/// what is wrong with it.
pub fn apply(
    target: &mut Map<String, Value>,
    arg: &str,
    kind: SetKind,
    read_file: &dyn Fn(&str) -> Result<String>,
) -> Result<()> {
    apply_mode(
        target,
        arg,
        kind,
        read_file,
        true,
        &ListBudget::from_limit(),
    )
}

/// Like [`apply`], but changes `target` in place instead of working on a copy, and draws
/// list growth from `budget`: on error `target` may hold part of the argument. For callers
/// that discard `target` on error; applying many arguments this way costs time linear in
/// their total length rather than in the size of `target` for each.
pub fn apply_in_place(
    target: &mut Map<String, Value>,
    arg: &str,
    kind: SetKind,
    read_file: &dyn Fn(&str) -> Result<String>,
    budget: &ListBudget,
) -> Result<()> {
    parse_into(target, arg, kind, read_file, true, budget)
        .map_err(|e| e.context(format!("invalid {} argument `{arg}`", kind.flag())))
}

/// Like [`apply`], but accepts the arguments that Helm silently ignores in part (see the
/// module docs) and does with them exactly what Helm does. Used by the differential tests
/// to check the whole grammar against Helm; commands use [`apply`].
pub fn apply_helm_compatible(
    target: &mut Map<String, Value>,
    arg: &str,
    kind: SetKind,
    read_file: &dyn Fn(&str) -> Result<String>,
) -> Result<()> {
    apply_mode(
        target,
        arg,
        kind,
        read_file,
        false,
        &ListBudget::from_limit(),
    )
}

fn apply_mode(
    target: &mut Map<String, Value>,
    arg: &str,
    kind: SetKind,
    read_file: &dyn Fn(&str) -> Result<String>,
    strict: bool,
    budget: &ListBudget,
) -> Result<()> {
    // Parsing mutates as it goes (as Helm's does); work on a copy so that a failed
    // argument leaves no half-applied assignments behind.
    let mut work = target.clone();
    match parse_into(&mut work, arg, kind, read_file, strict, budget) {
        Ok(()) => {
            *target = work;
            Ok(())
        }
        Err(e) => Err(e.context(format!("invalid {} argument `{arg}`", kind.flag()))),
    }
}

fn parse_into(
    work: &mut Map<String, Value>,
    arg: &str,
    kind: SetKind,
    read_file: &dyn Fn(&str) -> Result<String>,
    strict: bool,
    budget: &ListBudget,
) -> Result<()> {
    let result = if kind == SetKind::Json && arg.trim().starts_with('{') {
        // Helm's CLI (not its strvals parser) takes a --set-json argument that is a whole
        // JSON object and merges it in.
        json_object_form(work, arg.trim())
    } else {
        let mut parser = Parser {
            src: arg,
            pos: 0,
            kind,
            strict,
            read_file,
            budget,
        };
        parser.parse(work)
    };
    match result {
        Ok(()) => Ok(()),
        Err(Stop::Fail(e)) => Err(e),
        Err(Stop::End) => unreachable!("parse() turns the end of input into success"),
    }
}

fn json_object_form(target: &mut Map<String, Value>, text: &str) -> R<()> {
    let parsed: Value = serde_json::from_str(text).map_err(|e| {
        fail(format!(
            "it starts with `{{`, so it must be one JSON object, but it is not valid JSON: {e}"
        ))
    })?;
    let Value::Object(map) = normalize_json_numbers(parsed) else {
        unreachable!("JSON text starting with '{{' is an object")
    };
    crate::merge::deep_merge(target, map, crate::merge::Conflict::Overwrite);
    Ok(())
}

/// Why parsing stopped early. `End` is Helm's `io.EOF`: the input ran out in a place where
/// Helm treats that as success, even deep inside a path.
enum Stop {
    End,
    Fail(anyhow::Error),
}

type R<T> = std::result::Result<T, Stop>;

fn fail(msg: impl Into<String>) -> Stop {
    Stop::Fail(anyhow!(msg.into()))
}

/// The closing part of each "Helm would silently ignore this" error.
const IGNORED: &str = "Helm silently ignores this; stoke rejects it so that no setting is lost";

/// How a value that might be a `{a,b}` list turned out.
enum ListOutcome {
    List(Vec<Value>),
    /// The input ended right after `=`.
    Empty,
    /// The value does not start with `{`.
    NotList,
}

struct Parser<'a> {
    src: &'a str,
    /// Byte offset of the next unread character.
    pos: usize,
    kind: SetKind,
    /// Reject what Helm silently ignores.
    strict: bool,
    read_file: &'a dyn Fn(&str) -> Result<String>,
    budget: &'a ListBudget,
}

impl Parser<'_> {
    fn parse(&mut self, data: &mut Map<String, Value>) -> R<()> {
        loop {
            match self.key(data, 0, false) {
                Ok(()) => continue,
                Err(Stop::End) => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    }

    fn literal(&self) -> bool {
        self.kind == SetKind::Literal
    }

    fn next(&mut self) -> Option<char> {
        let c = self.src[self.pos..].chars().next()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn unread(&mut self, c: char) {
        self.pos -= c.len_utf8();
    }

    /// Reads up to (and consuming) the first character in `stop`, resolving backslash
    /// escapes except for `--set-literal`. `None` as the stop character means the input
    /// ended (also when it ends in a lone backslash).
    fn until(&mut self, stop: &[char]) -> (String, Option<char>) {
        let escapes = !self.literal();
        let mut out = String::new();
        loop {
            let Some(c) = self.next() else {
                return (out, None);
            };
            if stop.contains(&c) {
                return (out, Some(c));
            }
            if escapes && c == '\\' {
                match self.next() {
                    Some(n) => out.push(n),
                    None => return (out, None),
                }
            } else {
                out.push(c);
            }
        }
    }

    fn rest(&mut self) -> String {
        let s = self.src[self.pos..].to_string();
        self.pos = self.src.len();
        s
    }

    /// One assignment (or the rest of one, after a `.`), into `data`. `nested` is false
    /// only at the start of an assignment.
    fn key(&mut self, data: &mut Map<String, Value>, level: usize, nested: bool) -> R<()> {
        let stops: &[char] = if self.literal() {
            &['=', '[', '.']
        } else {
            &['=', '[', ',', '.']
        };
        let (k, last) = self.until(stops);
        let Some(last) = last else {
            if !k.is_empty() {
                return Err(fail(format!(
                    "key `{k}` has no value: write `{k}=VALUE` (`{k}=` for an empty string)"
                )));
            }
            if nested && self.strict {
                return Err(fail(format!(
                    "the key path ends with `.` and sets nothing; {IGNORED}"
                )));
            }
            return Err(Stop::End);
        };
        if last == ',' {
            set(data, &k, Value::String(String::new()));
            return Err(fail(if k.is_empty() {
                "there is an empty assignment (a comma at the start or two commas in a row)"
                    .to_string()
            } else {
                format!("key `{k}` has no value before the `,`: write `{k}=VALUE,`")
            }));
        }
        if k.is_empty() && self.strict {
            return Err(fail(format!(
                "a key is empty (nothing before `{last}`), so the assignment sets nothing; \
                 {IGNORED}"
            )));
        }
        match last {
            '[' => {
                let i = self.key_index(&k)?;
                let mut list = match data.get_mut(&k) {
                    None => Vec::new(),
                    Some(Value::Array(a)) => std::mem::take(a),
                    Some(other) => {
                        return Err(fail(format!(
                            "`{k}[{i}]` treats `{k}` as a list, but it is already {}",
                            crate::yaml::kind_name(other)
                        )));
                    }
                };
                let r = self.list_item(&mut list, i, level);
                set(data, &k, Value::Array(list));
                r
            }
            '=' => self.assign(data, k),
            '.' => {
                let level = level + 1;
                if level > MAX_NESTING {
                    return Err(fail(format!(
                        "the key path is nested more than {MAX_NESTING} levels deep"
                    )));
                }
                let (r, empty) = match data.get_mut(&k) {
                    Some(Value::Object(inner)) => {
                        let r = self.key(inner, level, true);
                        (r, inner.is_empty())
                    }
                    Some(other) => {
                        return Err(fail(format!(
                            "`{k}.` treats `{k}` as a map, but it is already {}",
                            crate::yaml::kind_name(other)
                        )));
                    }
                    None => {
                        let mut inner = Map::new();
                        let r = self.key(&mut inner, level, true);
                        let empty = inner.is_empty();
                        if !empty {
                            set(data, &k, Value::Object(inner));
                        }
                        (r, empty)
                    }
                };
                if r.is_ok() && empty {
                    return Err(fail(format!("key map `{k}` has no value")));
                }
                r
            }
            _ => unreachable!("stop characters are = [ , ."),
        }
    }

    /// The value after `key=`.
    fn assign(&mut self, data: &mut Map<String, Value>, k: String) -> R<()> {
        match self.kind {
            SetKind::Literal => {
                let v = self.rest();
                set(data, &k, Value::String(v));
                Ok(())
            }
            SetKind::Json => {
                if self.empty_value() {
                    set(data, &k, Value::Null);
                    return Ok(());
                }
                let v = self.json_value()?;
                set(data, &k, v);
                self.empty_value();
                Ok(())
            }
            _ => match self.value_list()? {
                ListOutcome::List(items) => {
                    set(data, &k, Value::Array(items));
                    Ok(())
                }
                ListOutcome::Empty => {
                    set(data, &k, Value::String(String::new()));
                    Err(Stop::End)
                }
                ListOutcome::NotList => {
                    let raw = self.value();
                    let v = self.typed(&raw)?;
                    set(data, &k, v);
                    Ok(())
                }
            },
        }
    }

    /// Reads `N]` after a `[`.
    fn key_index(&mut self, key: &str) -> R<i64> {
        let (v, last) = self.until(&[']']);
        if last.is_none() {
            if self.strict {
                return Err(fail(format!(
                    "the list index in `{key}[{v}` is not closed with `]`; {IGNORED}"
                )));
            }
            return Err(Stop::End);
        }
        v.parse::<i64>().map_err(|_| {
            fail(format!(
                "list index `{v}` in `{key}[{v}]` is not a whole number; write e.g. `{key}[0]`"
            ))
        })
    }

    /// What follows `[i]`: `=value`, another `[j]`, or `.key...`; sets element `i` of `list`.
    fn list_item(&mut self, list: &mut Vec<Value>, i: i64, level: usize) -> R<()> {
        if i < 0 {
            return Err(fail(format!("list index {i} is negative")));
        }
        let (k, last) = self.until(&['[', '.', '=']);
        if !k.is_empty() {
            return Err(fail(format!(
                "unexpected `{k}` after the list index `[{i}]`: expected `=`, `.` or `[`"
            )));
        }
        let Some(last) = last else {
            if self.strict {
                return Err(fail(format!(
                    "the key path ends with the list index `[{i}]` and has no `=VALUE`; {IGNORED}"
                )));
            }
            return Err(Stop::End);
        };
        let idx = i as usize;
        match last {
            '=' => match self.kind {
                SetKind::Literal => {
                    let v = self.rest();
                    self.set_index(list, i, Value::String(v))
                }
                SetKind::Json => {
                    if self.empty_value() {
                        return self.set_index(list, i, Value::Null);
                    }
                    let v = self.json_value()?;
                    self.set_index(list, i, v)?;
                    self.empty_value();
                    Ok(())
                }
                _ => match self.value_list()? {
                    ListOutcome::List(items) => self.set_index(list, i, Value::Array(items)),
                    ListOutcome::Empty => self.set_index(list, i, Value::String(String::new())),
                    ListOutcome::NotList => {
                        let raw = self.value();
                        let v = self.typed(&raw)?;
                        self.set_index(list, i, v)
                    }
                },
            },
            '[' => {
                let next = self.key_index(&format!("[{i}]"))?;
                match list.get_mut(idx) {
                    // An existing nested list is extended in place, as in Helm, so that
                    // what happened before an early end of input is kept.
                    Some(Value::Array(inner)) => {
                        let mut inner_list = std::mem::take(inner);
                        let r = self.list_item(&mut inner_list, next, level);
                        list[idx] = Value::Array(inner_list);
                        r?;
                        check_index(i)
                    }
                    Some(v) if !v.is_null() => Err(fail(format!(
                        "`[{i}][{next}]` treats element {i} as a list, but it is already {}",
                        crate::yaml::kind_name(v)
                    ))),
                    _ => {
                        let mut inner_list = Vec::new();
                        self.list_item(&mut inner_list, next, level)?;
                        self.set_index(list, i, Value::Array(inner_list))
                    }
                }
            }
            '.' => {
                if idx < list.len() {
                    // Helm replaces a non-map element here instead of failing.
                    if !list[idx].is_object() {
                        list[idx] = Value::Object(Map::new());
                    }
                    let Value::Object(inner) = &mut list[idx] else {
                        unreachable!("just made a map")
                    };
                    self.key(inner, level, true)?;
                    check_index(i)
                } else {
                    let mut inner = Map::new();
                    match self.key(&mut inner, level, true) {
                        Ok(()) => self.set_index(list, i, Value::Object(inner)),
                        Err(Stop::End) if self.strict => Err(fail(format!(
                            "the value at the end is empty, and then Helm silently drops the new \
                             list element `[{i}]`; stoke rejects it so that no setting is lost. \
                             To set an empty string, end the argument with a comma (`...=,`)"
                        ))),
                        Err(e) => Err(e),
                    }
                }
            }
            _ => unreachable!("stop characters are [ . ="),
        }
    }

    /// Skips whitespace and one comma. True when that reaches a comma or the end, i.e. the
    /// JSON value is empty (Helm takes that as null).
    fn empty_value(&mut self) -> bool {
        loop {
            match self.next() {
                None | Some(',') => return true,
                Some(c) if c.is_whitespace() => continue,
                Some(c) => {
                    self.unread(c);
                    return false;
                }
            }
        }
    }

    /// One JSON value starting at the current position. Like Go's streaming JSON decoder
    /// (which Helm uses) it stops right after the value, so `a=1b=2` reads `1` and leaves
    /// `b=2` for the next assignment.
    fn json_value(&mut self) -> R<Value> {
        let rest = &self.src[self.pos..];
        let end = json_extent(rest).map_err(|e| fail(format!("invalid JSON value: {e}")))?;
        let v: Value = serde_json::from_str(&rest[..end]).map_err(|e| {
            fail(format!(
                "invalid JSON value `{}`: {e}",
                truncate_for_message(&rest[..end])
            ))
        })?;
        self.pos += end;
        Ok(normalize_json_numbers(v))
    }

    /// A `{a,b}` list value, if the value starts with `{`.
    fn value_list(&mut self) -> R<ListOutcome> {
        let Some(c) = self.next() else {
            return Ok(ListOutcome::Empty);
        };
        if c != '{' {
            self.unread(c);
            return Ok(ListOutcome::NotList);
        }
        let mut items = Vec::new();
        loop {
            let (raw, last) = self.until(&[',', '}']);
            match last {
                None => {
                    return Err(fail(
                        "list must terminate with '}' (a value starting with `{` is a list; \
                         escape a literal brace as `\\{`)",
                    ));
                }
                Some('}') => {
                    match self.next() {
                        Some(n) if n != ',' => self.unread(n),
                        _ => {}
                    }
                    items.push(self.typed(&raw)?);
                    return Ok(ListOutcome::List(items));
                }
                Some(_) => items.push(self.typed(&raw)?),
            }
        }
    }

    /// A plain value: up to the next unescaped comma.
    fn value(&mut self) -> String {
        self.until(&[',']).0
    }

    /// Turns raw value text into the flag's kind of value.
    fn typed(&self, raw: &str) -> R<Value> {
        match self.kind {
            SetKind::Set => Ok(infer_type(raw)),
            SetKind::File => (self.read_file)(raw)
                .map(Value::String)
                .map_err(|e| Stop::Fail(e.context(format!("cannot read `{raw}`")))),
            SetKind::String | SetKind::Literal | SetKind::Json => {
                Ok(Value::String(raw.to_string()))
            }
        }
    }
}

/// `data[key] = value`, except that Helm never stores an empty key.
fn set(data: &mut Map<String, Value>, key: &str, value: Value) {
    if !key.is_empty() {
        data.insert(key.to_string(), value);
    }
}

fn check_index(i: i64) -> R<()> {
    if i < 0 {
        return Err(fail(format!("list index {i} is negative")));
    }
    if i > MAX_INDEX {
        return Err(fail(format!(
            "list index {i} is larger than the maximum of {MAX_INDEX}"
        )));
    }
    Ok(())
}

/// How many more list items the `--set` family may create by padding lists (`a[65536]=1`
/// makes 65,537). One budget is shared by all arguments of a command, so neither one
/// argument with a thousand such keys nor a thousand arguments can exhaust memory.
#[derive(Debug)]
pub struct ListBudget(Cell<u64>);

impl ListBudget {
    /// The budget of [`crate::limits::SET_LIST_ITEMS`].
    pub fn from_limit() -> ListBudget {
        ListBudget(Cell::new(crate::limits::SET_LIST_ITEMS.get()))
    }

    /// A budget of `items` list items.
    pub fn new(items: u64) -> ListBudget {
        ListBudget(Cell::new(items))
    }

    /// No bound, for re-applying arguments already checked against a budget.
    pub fn unlimited() -> ListBudget {
        ListBudget(Cell::new(u64::MAX))
    }
}

impl Parser<'_> {
    /// `list[i] = value`, padding the list with nulls as needed.
    fn set_index(&self, list: &mut Vec<Value>, i: i64, value: Value) -> R<()> {
        check_index(i)?;
        let i = i as usize;
        if list.len() <= i {
            let grow = (i + 1 - list.len()) as u64;
            let left = self.budget.0.get();
            if grow > left {
                return Err(fail(crate::limits::SET_LIST_ITEMS.message(format!(
                    "list index [{i}] grows the lists of the --set family past their total size"
                ))));
            }
            self.budget.0.set(left - grow);
            list.resize(i + 1, Value::Null);
        }
        list[i] = value;
        Ok(())
    }
}

/// `--set`'s typing: `true`/`false`/`null` in any letter case, and decimal integers that fit
/// in 64 bits and do not start with `0` (so `007` and `0x1` stay strings, `0` is a number).
/// Everything else, floats included, is a string.
pub(crate) fn infer_type(raw: &str) -> Value {
    if eq_fold(raw, "true") {
        return Value::Bool(true);
    }
    if eq_fold(raw, "false") {
        return Value::Bool(false);
    }
    if eq_fold(raw, "null") {
        return Value::Null;
    }
    if raw == "0" {
        return Value::from(0i64);
    }
    if !raw.is_empty()
        && !raw.starts_with('0')
        && let Ok(n) = raw.parse::<i64>()
    {
        return Value::from(n);
    }
    Value::String(raw.to_string())
}

/// Case-insensitive comparison with an ASCII word under Unicode simple case folding, as
/// Go's `strings.EqualFold` (so the long s `ſ` matches `s`, the Kelvin sign matches `k`).
fn eq_fold(s: &str, ascii_word: &str) -> bool {
    let mut chars = s.chars();
    for w in ascii_word.chars() {
        let Some(c) = chars.next() else {
            return false;
        };
        let matches = c.to_ascii_lowercase() == w
            || (w == 's' && c == '\u{17F}')
            || (w == 'k' && c == '\u{212A}');
        if !matches {
            return false;
        }
    }
    chars.next().is_none()
}

/// Helm decodes JSON numbers as 64-bit floats, so `1.0` and `1e2` are the whole numbers
/// 1 and 100 in Helm's output. Integral floats become integers here for the same result;
/// integers stay exact (Helm rounds those above 2^53; see docs/values.md).
fn normalize_json_numbers(v: Value) -> Value {
    match v {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            if f.fract() == 0.0 && f.abs() < 9.223_372_036_854_775e18 {
                Value::from(f as i64)
            } else {
                Value::Number(n)
            }
        }
        Value::Array(items) => {
            Value::Array(items.into_iter().map(normalize_json_numbers).collect())
        }
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (k, normalize_json_numbers(v)))
                .collect(),
        ),
        other => other,
    }
}

fn truncate_for_message(s: &str) -> String {
    match s.char_indices().nth(60) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_string(),
    }
}

/// The byte length of the one JSON value at the start of `s` (which starts with a
/// non-space), stopping where Go's streaming decoder stops: right after a closing bracket
/// or quote, or at the first character that cannot continue a number or literal. Only the
/// extent is found here; serde_json validates the text.
fn json_extent(s: &str) -> std::result::Result<usize, String> {
    let b = s.as_bytes();
    let Some(&first) = b.first() else {
        return Err("unexpected end of JSON input".into());
    };
    let eof = || "unexpected end of JSON input".to_string();
    match first {
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = 0;
            while i < b.len() {
                match b[i] {
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Ok(i + 1);
                        }
                    }
                    b'"' => i = string_end(b, i).ok_or_else(eof)? - 1,
                    _ => {}
                }
                i += 1;
            }
            Err(eof())
        }
        b'"' => string_end(b, 0).ok_or_else(eof),
        b'-' | b'0'..=b'9' => number_end(b),
        b't' | b'f' | b'n' => {
            let word: &[u8] = match first {
                b't' => b"true",
                b'f' => b"false",
                _ => b"null",
            };
            for (i, &w) in word.iter().enumerate() {
                match b.get(i) {
                    None => return Err(eof()),
                    Some(&c) if c != w => {
                        return Err(format!(
                            "invalid character {:?} in literal {}",
                            c as char,
                            String::from_utf8_lossy(word)
                        ));
                    }
                    Some(_) => {}
                }
            }
            Ok(word.len())
        }
        _ => {
            let c = s.chars().next().unwrap_or_default();
            Err(format!(
                "invalid character {c:?} looking for the beginning of a value"
            ))
        }
    }
}

/// Index just past the closing quote of the string starting at `b[start]`.
fn string_end(b: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// JSON's number grammar, stopping at the first byte that cannot continue the number.
fn number_end(b: &[u8]) -> std::result::Result<usize, String> {
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    let need_digit = |i: usize, after: &str| -> std::result::Result<(), String> {
        match b.get(i) {
            None => Err("unexpected end of JSON input".into()),
            Some(c) if c.is_ascii_digit() => Ok(()),
            Some(&c) => Err(format!("invalid character {:?} {after}", c as char)),
        }
    };
    let mut i = 0;
    if b[i] == b'-' {
        i += 1;
        need_digit(i, "in numeric literal")?;
    }
    if b[i] == b'0' {
        i += 1;
    } else {
        while digit(i) {
            i += 1;
        }
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        need_digit(i, "after decimal point in numeric literal")?;
        while digit(i) {
            i += 1;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        need_digit(i, "in exponent of numeric literal")?;
        while digit(i) {
            i += 1;
        }
    }
    Ok(i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn no_files(path: &str) -> Result<String> {
        anyhow::bail!("no file `{path}` in this test")
    }

    fn parse(kind: SetKind, arg: &str) -> Result<Value> {
        let mut m = Map::new();
        apply(&mut m, arg, kind, &no_files)?;
        Ok(Value::Object(m))
    }

    fn set(arg: &str) -> Value {
        parse(SetKind::Set, arg).unwrap_or_else(|e| panic!("{arg}: {e:#}"))
    }

    fn set_err(kind: SetKind, arg: &str) -> String {
        match parse(kind, arg) {
            Ok(v) => panic!("`{arg}` should fail, gave {v}"),
            Err(e) => format!("{e:#}"),
        }
    }

    /// Helm's behaviour, including what it silently ignores.
    fn helm(kind: SetKind, arg: &str) -> Result<Value> {
        let mut m = Map::new();
        apply_helm_compatible(&mut m, arg, kind, &no_files)?;
        Ok(Value::Object(m))
    }

    #[test]
    fn dotted_paths_build_nested_maps() {
        assert_eq!(set("a.b.c=1"), json!({"a": {"b": {"c": 1}}}));
        assert_eq!(set("a.b=1,a.c=2"), json!({"a": {"b": 1, "c": 2}}));
        assert_eq!(set("a=1,a=2"), json!({"a": 2}));
    }

    #[test]
    fn set_infers_integers_booleans_and_null_like_helm() {
        assert_eq!(
            set("a=true,b=FALSE,c=Null,d=0,e=42,f=-7,g=+5,h=-0"),
            json!({"a": true, "b": false, "c": null, "d": 0, "e": 42, "f": -7, "g": 5, "h": 0})
        );
        // Leading zeros, hex, floats, exponents and out-of-range integers stay strings.
        assert_eq!(
            set("a=007,b=0x1,c=1.5,d=1e3,e=9223372036854775808,f=00,g=1_000,h= 1"),
            json!({"a": "007", "b": "0x1", "c": "1.5", "d": "1e3",
                   "e": "9223372036854775808", "f": "00", "g": "1_000", "h": " 1"})
        );
        assert_eq!(set("a=9223372036854775807"), json!({"a": i64::MAX}));
        assert_eq!(set("a=-01"), json!({"a": -1}));
        // Go's EqualFold: the long s folds to s.
        assert_eq!(set("a=falſe"), json!({"a": false}));
        assert_eq!(set("a=yes,b=on"), json!({"a": "yes", "b": "on"}));
    }

    #[test]
    fn set_string_keeps_every_value_a_string_but_still_makes_lists() {
        assert_eq!(
            parse(SetKind::String, "a=1,b=true,c=null,d={1,x}").unwrap(),
            json!({"a": "1", "b": "true", "c": "null", "d": ["1", "x"]})
        );
    }

    #[test]
    fn an_empty_value_is_an_empty_string() {
        assert_eq!(set("a="), json!({"a": ""}));
        assert_eq!(set("a=,b=1"), json!({"a": "", "b": 1}));
        assert_eq!(set("a.b="), json!({"a": {"b": ""}}));
        assert_eq!(set("a=1,"), json!({"a": 1}));
    }

    #[test]
    fn braces_make_lists_and_are_typed_per_item() {
        assert_eq!(set("a={1,two,true}"), json!({"a": [1, "two", true]}));
        assert_eq!(set("a={x},b=2"), json!({"a": ["x"], "b": 2}));
        // Helm quirks: `{}` is a list with one empty string, and the comma after `}` is
        // optional.
        assert_eq!(set("a={}"), json!({"a": [""]}));
        assert_eq!(set("a={1,2}b=3"), json!({"a": [1, 2], "b": 3}));
        // Only a leading brace starts a list.
        assert_eq!(set("a=x{1}"), json!({"a": "x{1}"}));
        assert_eq!(set("a[1]={x,y}"), json!({"a": [null, ["x", "y"]]}));
    }

    #[test]
    fn list_indices_pad_with_nulls_and_nest() {
        assert_eq!(set("a[2]=x"), json!({"a": [null, null, "x"]}));
        assert_eq!(set("a[0]=1,a[1]=2"), json!({"a": [1, 2]}));
        assert_eq!(set("a[0].b=1,a[0].c=2"), json!({"a": [{"b": 1, "c": 2}]}));
        assert_eq!(set("a[0][1]=2"), json!({"a": [[null, 2]]}));
        assert_eq!(set("a[1][0]=x,a[1][1]=y"), json!({"a": [null, ["x", "y"]]}));
        assert_eq!(
            set("a.b[0].c[1].d=x"),
            json!({"a": {"b": [{"c": [null, {"d": "x"}]}]}})
        );
        // Go's Atoi accepts a sign and leading zeros.
        assert_eq!(
            set("a[+1]=x,b[01]=y"),
            json!({"a": [null, "x"], "b": [null, "y"]})
        );
        // Helm replaces a non-map list element when a path goes through it.
        assert_eq!(set("a[0]=s,a[0].b=1"), json!({"a": [{"b": 1}]}));
    }

    #[test]
    fn list_indices_are_limited() {
        let v = set("a[65536]=x");
        assert_eq!(v["a"].as_array().unwrap().len(), 65537);
        assert!(set_err(SetKind::Set, "a[65537]=x").contains("larger than the maximum of 65536"));
        assert!(set_err(SetKind::Set, "a[-1]=x").contains("negative"));
        assert!(set_err(SetKind::Set, "a[x]=1").contains("list index `x`"));
        assert!(set_err(SetKind::Set, "a[]=1").contains("not a whole number"));
        assert!(set_err(SetKind::Set, "a[99999999999999999999]=1").contains("not a whole number"));
    }

    #[test]
    fn backslash_escapes_make_separators_literal() {
        assert_eq!(set(r"a=x\,y"), json!({"a": "x,y"}));
        assert_eq!(set(r"a\.b=1"), json!({"a.b": 1}));
        assert_eq!(set(r"a\=b=1"), json!({"a=b": 1}));
        assert_eq!(set(r"a=x\\y"), json!({"a": r"x\y"}));
        assert_eq!(set(r"a\[0\]=1"), json!({"a[0]": 1}));
        assert_eq!(set(r"a={x\,y,z}"), json!({"a": ["x,y", "z"]}));
        assert_eq!(set(r"a=\q"), json!({"a": "q"}));
        // A trailing lone backslash is dropped.
        assert_eq!(set(r"a=x\"), json!({"a": "x"}));
        assert!(set_err(SetKind::Set, r"a\").contains("key `a` has no value"));
        // `=` inside a value needs no escape.
        assert_eq!(set("a=b=c"), json!({"a": "b=c"}));
    }

    #[test]
    fn set_json_takes_json_values() {
        let j = |s| parse(SetKind::Json, s).unwrap_or_else(|e| panic!("{s}: {e:#}"));
        assert_eq!(
            j(r#"a={"b":[1,"x",null]},c="s",d=true,e=1.5"#),
            json!({"a": {"b": [1, "x", null]}, "c": "s", "d": true, "e": 1.5})
        );
        assert_eq!(j("a=,b= ,c=1"), json!({"a": null, "b": null, "c": 1}));
        assert_eq!(j("a[1]=[1,2]"), json!({"a": [null, [1, 2]]}));
        assert_eq!(j("a[0].b="), json!({"a": [{"b": null}]}));
        // Numbers are Helm's 64-bit floats: integral ones print as integers.
        assert_eq!(j("a=1.0,b=1e2,c=-0.0"), json!({"a": 1, "b": 100, "c": 0}));
        // Go's streaming decoder stops after the value, so the comma is optional.
        assert_eq!(
            j(r#"a=1b=2,c="x"d={}"#),
            json!({"a": 1, "b": 2, "c": "x", "d": {}})
        );
        // Spaces around the value are skipped; commas in JSON need no escape.
        assert_eq!(j(r#"a= [1, 2] ,b=3"#), json!({"a": [1, 2], "b": 3}));
    }

    #[test]
    fn set_json_rejects_invalid_json() {
        for bad in [
            "a=tru",
            "a=x",
            "a=[1,",
            r#"a="x"#,
            "a=1.",
            "a=-",
            "a=1e",
            "a={\"a\":}",
        ] {
            let e = set_err(SetKind::Json, bad);
            assert!(
                e.contains("--set-json") && e.contains("invalid JSON"),
                "{bad}: {e}"
            );
        }
        // `01` is JSON `0` followed by the key `1` with no value, as in Helm.
        assert!(set_err(SetKind::Json, "a=01").contains("key `1` has no value"));
    }

    /// docs/values.md, "Intended differences": integers stay exact (Helm rounds them to
    /// floats), and lone surrogates are refused (Helm substitutes U+FFFD).
    #[test]
    fn set_json_differs_from_helm_only_as_documented() {
        assert_eq!(
            parse(SetKind::Json, "a=12345678901234567890,b=9007199254740993").unwrap(),
            json!({"a": 12345678901234567890u64, "b": 9007199254740993i64})
        );
        let e = set_err(SetKind::Json, r#"a="\ud800""#);
        assert!(e.contains("invalid JSON value"), "{e}");
        assert_eq!(
            parse(SetKind::Json, r#"a="\u00e9\ud83d\ude00""#).unwrap(),
            json!({"a": "é😀"})
        );
    }

    #[test]
    fn set_json_accepts_a_whole_object_and_merges_it() {
        let mut m = Map::new();
        apply(&mut m, "a.b=1,a.c=2", SetKind::Set, &no_files).unwrap();
        apply(
            &mut m,
            r#" {"a": {"c": 3.0, "d": [1]}, "e": null} "#,
            SetKind::Json,
            &no_files,
        )
        .unwrap();
        assert_eq!(
            Value::Object(m),
            json!({"a": {"b": 1, "c": 3, "d": [1]}, "e": null})
        );
        let e = set_err(SetKind::Json, "{a=1");
        assert!(e.contains("must be one JSON object"), "{e}");
    }

    #[test]
    fn set_literal_takes_the_rest_verbatim() {
        let l = |s| parse(SetKind::Literal, s).unwrap_or_else(|e| panic!("{s}: {e:#}"));
        assert_eq!(l(r"a=x,y=z\,{1}"), json!({"a": r"x,y=z\,{1}"}));
        assert_eq!(l("a.b[1]=true"), json!({"a": {"b": [null, "true"]}}));
        // No escapes and no comma separator in keys.
        assert_eq!(l(r"a,b\=c"), json!({"a,b\\": "c"}));
        assert_eq!(l("a="), json!({"a": ""}));
        assert!(set_err(SetKind::Literal, "a").contains("no value"));
    }

    #[test]
    fn set_file_reads_each_value_as_a_path() {
        let files = |p: &str| match p {
            "cert.pem" => Ok("PEM\n".to_string()),
            "x,y" => Ok("comma".to_string()),
            other => anyhow::bail!("{other}: no such file"),
        };
        let mut m = Map::new();
        apply(
            &mut m,
            r"a=cert.pem,b={cert.pem,x\,y},c=",
            SetKind::File,
            &files,
        )
        .unwrap();
        assert_eq!(
            Value::Object(m),
            json!({"a": "PEM\n", "b": ["PEM\n", "comma"], "c": ""})
        );
        let mut m = Map::new();
        let e = apply(&mut m, "a=missing.txt", SetKind::File, &files).unwrap_err();
        let msg = format!("{e:#}");
        assert!(
            msg.contains("invalid --set-file argument `a=missing.txt`"),
            "{msg}"
        );
        assert!(msg.contains("cannot read `missing.txt`"), "{msg}");
        assert!(msg.contains("no such file"), "{msg}");
    }

    #[test]
    fn later_arguments_update_earlier_ones_in_place() {
        let mut m = Map::new();
        for arg in ["a[0]=1", "a[2]=3", "b.c=1", "b.d=2", "a[1]=2"] {
            apply(&mut m, arg, SetKind::Set, &no_files).unwrap();
        }
        apply(&mut m, "b.c=1", SetKind::String, &no_files).unwrap();
        assert_eq!(
            Value::Object(m),
            json!({"a": [1, 2, 3], "b": {"c": "1", "d": 2}})
        );
    }

    #[test]
    fn type_conflicts_are_errors_naming_the_key() {
        for (arg, expected) in [
            (
                "a=x,a.b=1",
                "`a.` treats `a` as a map, but it is already a string",
            ),
            ("a=null,a.b=1", "already null"),
            (
                "a=x,a[0]=1",
                "`a[0]` treats `a` as a list, but it is already a string",
            ),
            (
                "a[0]=x,a[0][0]=1",
                "treats element 0 as a list, but it is already a string",
            ),
            ("a.b=1,a[0]=1", "already a mapping"),
        ] {
            let e = set_err(SetKind::Set, arg);
            assert!(e.contains(expected), "{arg}: {e}");
            assert!(
                e.contains(&format!("invalid --set argument `{arg}`")),
                "{arg}: {e}"
            );
        }
    }

    #[test]
    fn malformed_arguments_are_errors() {
        for (arg, expected) in [
            ("a", "key `a` has no value"),
            ("a.b", "key `b` has no value"),
            ("a,b=1", "key `a` has no value before the `,`"),
            ("a=1,,b=2", "empty assignment"),
            (",", "empty assignment"),
            ("a={1,2", "list must terminate with '}'"),
            ("a[0]x=1", "unexpected `x` after the list index `[0]`"),
            ("a.=1", "a key is empty"),
            ("a[0]=1,a[0]]=2", "unexpected `]`"),
        ] {
            let e = set_err(SetKind::Set, arg);
            assert!(e.contains(expected), "{arg}: {e}");
        }
        let deep = (0..32)
            .map(|i| format!("k{i}"))
            .collect::<Vec<_>>()
            .join(".")
            + "=1";
        assert!(set_err(SetKind::Set, &deep).contains("more than 30 levels"));
        let ok = (0..31)
            .map(|i| format!("k{i}"))
            .collect::<Vec<_>>()
            .join(".")
            + "=1";
        parse(SetKind::Set, &ok).unwrap();
    }

    #[test]
    fn a_failed_argument_leaves_the_values_unchanged() {
        let mut m = Map::new();
        apply(&mut m, "a=1", SetKind::Set, &no_files).unwrap();
        apply(&mut m, "b=2,a.c=3", SetKind::Set, &no_files).unwrap_err();
        assert_eq!(Value::Object(m), json!({"a": 1}));
    }

    #[test]
    fn empty_input_sets_nothing() {
        assert_eq!(set(""), json!({}));
        assert_eq!(parse(SetKind::Json, "").unwrap(), json!({}));
        assert_eq!(parse(SetKind::Literal, "").unwrap(), json!({}));
    }

    /// Each of these is accepted by Helm, which then drops (part of) the assignment
    /// without a word. stoke rejects them (docs/values.md, "Intended differences").
    #[test]
    fn what_helm_silently_ignores_is_an_error() {
        for (arg, helm_result) in [
            ("=b", json!({})),
            ("[0]=1", json!({})),
            (".a=1", json!({})),
            ("a.c=2,a..b=1", json!({"a": {"c": 2}})),
            ("a[0", json!({})),
            ("x=1,a[", json!({"x": 1})),
            ("a[0]", json!({"a": []})),
            ("a.b[0][1]", json!({"a": {"b": []}})),
            ("a.", json!({})),
            ("a[0].", json!({"a": []})),
            ("a[0].b=", json!({"a": []})),
            ("a[0].b.c=", json!({"a": []})),
        ] {
            assert_eq!(helm(SetKind::Set, arg).unwrap(), helm_result, "{arg}");
            let e = set_err(SetKind::Set, arg);
            assert!(
                e.contains("Helm silently") || e.contains("silently drops"),
                "{arg}: {e}"
            );
        }
        // The trailing-comma spelling of an empty value works in both.
        assert_eq!(set("a[0].b=,"), json!({"a": [{"b": ""}]}));
        // An existing element keeps what the path set, in Helm too: nothing is lost.
        assert_eq!(set("a[0].x=1,a[0].b="), json!({"a": [{"b": "", "x": 1}]}));
    }
}
