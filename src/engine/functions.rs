//! Functions available to templates: the Helm helpers that are not filters, plus access to
//! the chart's own files and to the release being upgraded.

use std::sync::{Arc, OnceLock, Weak};

use serde_json::Value as Json;
use tera::{Context, Error, Kwargs, State, Tera, TeraResult, Value};

use super::Manifest;
use super::convert::{from_json, to_json};
use super::filters::{display, yaml_text};
use crate::chart::ChartFile;

/// A late-bound handle to the finished Tera instance, for functions that render (`tpl`,
/// `include`): they are registered before the instance exists. Weak, so the instance's own
/// functions do not keep it alive.
pub type TeraHandle = Arc<OnceLock<Weak<Tera>>>;

/// What the functions of one chart's Tera instance can see.
#[derive(Clone)]
pub struct FunctionScope {
    /// The chart's non-template files.
    pub files: Arc<Vec<ChartFile>>,
    /// The finished Tera instance.
    pub tera: TeraHandle,
    /// What `files_glob`, `files_as_config` and `files_as_secrets` returned, by function and
    /// pattern: the files never change, and a fleet renders the same chart hundreds of times.
    views: Arc<std::sync::Mutex<std::collections::HashMap<(&'static str, String), Value>>>,
}

impl FunctionScope {
    /// The scope of a chart with these `files`, rendering through `tera`.
    pub fn new(files: Arc<Vec<ChartFile>>, tera: TeraHandle) -> Self {
        FunctionScope {
            files,
            tera,
            views: Default::default(),
        }
    }

    /// `make`'s value for (`function`, `pattern`), made once per chart.
    fn view(
        &self,
        function: &'static str,
        pattern: String,
        make: impl FnOnce(&[&ChartFile]) -> TeraResult<Value>,
    ) -> TeraResult<Value> {
        let lock = || self.views.lock().unwrap_or_else(|p| p.into_inner());
        let key = (function, pattern);
        if let Some(v) = lock().get(&key) {
            return Ok(v.clone());
        }
        let value = make(&glob(self, &key.1)?)?;
        let mut views = lock();
        // Patterns come from templates, so there are few; the bound is a safeguard.
        if views.len() >= 256 {
            views.clear();
        }
        views.insert(key, value.clone());
        Ok(value)
    }
}

thread_local! {
    /// Resources of the deployed revision for the render running on this thread. Kept
    /// outside the Tera instance so one compiled chart serves renders of any release.
    static DEPLOYED: std::cell::RefCell<Arc<Vec<Manifest>>> = Default::default();
}

/// Sets the deployed resources `lookup` sees for as long as the guard lives.
pub struct DeployedGuard(Arc<Vec<Manifest>>);

impl DeployedGuard {
    /// Installs `deployed` for this thread, remembering what was there.
    pub fn set(deployed: Arc<Vec<Manifest>>) -> Self {
        DeployedGuard(DEPLOYED.with(|d| std::mem::replace(&mut *d.borrow_mut(), deployed)))
    }
}

impl Drop for DeployedGuard {
    fn drop(&mut self) {
        let previous = std::mem::take(&mut self.0);
        DEPLOYED.with(|d| *d.borrow_mut() = previous);
    }
}

thread_local! {
    /// Warnings templates raise with `warn(message=...)` during the render on this thread.
    static WARNINGS: std::cell::RefCell<Vec<String>> = Default::default();
}

/// Takes (and clears) the warnings raised on this thread since the last call.
pub(crate) fn take_warnings() -> Vec<String> {
    WARNINGS.with(|w| std::mem::take(&mut *w.borrow_mut()))
}

/// `warn(message=...)`: records a warning for `stoke lint` and the commands that render,
/// without stopping the render (a chart's answer to "this renders but cannot run"). Outputs
/// nothing; the same message is recorded once.
fn warn(kwargs: Kwargs, _: &State) -> TeraResult<String> {
    let message = kwargs.must_get::<String>("message")?;
    WARNINGS.with(|w| {
        let mut w = w.borrow_mut();
        if !w.contains(&message) {
            w.push(message);
        }
    });
    Ok(String::new())
}

/// The names of the context variables that every template sees, passed on to `tpl` and
/// to components called through `include`.
pub(crate) const CONTEXT_NAMES: [&str; 5] =
    ["values", "release", "chart", "capabilities", "template"];

/// Registers every function on `tera`.
pub(crate) fn register(tera: &mut Tera, scope: &FunctionScope) {
    tera.register_function("fail", fail);
    tera.register_function("warn", warn);
    tera.register_function("semver_compare", semver_compare);
    tera.register_function("regex_match", regex_match);
    tera.register_function("has_key", has_key);
    tera.register_function("rand_alphanumeric", rand_alphanumeric);
    tera.register_function("dict", dict);
    tera.register_function("range", range);

    let s = scope.clone();
    tera.register_function("tpl", move |kwargs: Kwargs, state: &State| {
        tpl(&s, kwargs, state)
    });
    let s = scope.clone();
    tera.register_function("include", move |kwargs: Kwargs, state: &State| {
        include(&s, kwargs, state)
    });
    tera.register_function("lookup", |kwargs: Kwargs, _: &State| lookup(kwargs));
    let s = scope.clone();
    tera.register_function("files_get", move |kwargs: Kwargs, _: &State| {
        let path = kwargs.must_get::<String>("path")?;
        Ok::<_, Error>(file_text(&s, &path)?.unwrap_or_default())
    });
    let s = scope.clone();
    tera.register_function("files_lines", move |kwargs: Kwargs, _: &State| {
        let path = kwargs.must_get::<String>("path")?;
        let text = file_text(&s, &path)?.unwrap_or_default();
        let lines: Vec<Json> = text.lines().map(|l| Json::String(l.to_string())).collect();
        Ok::<_, Error>(from_json(&Json::Array(lines)))
    });
    let s = scope.clone();
    tera.register_function("files_glob", move |kwargs: Kwargs, _: &State| {
        let pattern = kwargs.must_get::<String>("pattern")?;
        s.view("files_glob", pattern, |files| {
            let mut out = serde_json::Map::new();
            for f in files {
                out.insert(
                    f.name.clone(),
                    Json::String(String::from_utf8_lossy(&f.data).into_owned()),
                );
            }
            Ok(from_json(&Json::Object(out)))
        })
    });
    let s = scope.clone();
    tera.register_function("files_as_config", move |kwargs: Kwargs, _: &State| {
        let pattern = kwargs.must_get::<String>("pattern")?;
        s.view("files_as_config", pattern, |files| {
            let mut out = serde_json::Map::new();
            for f in files {
                let text = String::from_utf8_lossy(&f.data).into_owned();
                out.insert(base_name(&f.name).to_string(), Json::String(text));
            }
            yaml_text(&Json::Object(out)).map(Value::from)
        })
    });
    let s = scope.clone();
    tera.register_function("files_as_secrets", move |kwargs: Kwargs, _: &State| {
        use base64::Engine as _;
        let pattern = kwargs.must_get::<String>("pattern")?;
        s.view("files_as_secrets", pattern, |files| {
            let mut out = serde_json::Map::new();
            for f in files {
                let enc = base64::engine::general_purpose::STANDARD.encode(&f.data);
                out.insert(base_name(&f.name).to_string(), Json::String(enc));
            }
            yaml_text(&Json::Object(out)).map(Value::from)
        })
    });
}

fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn file_text(scope: &FunctionScope, path: &str) -> TeraResult<Option<String>> {
    let path = path.trim_start_matches("./");
    match scope.files.iter().find(|f| f.name == path) {
        Some(f) => String::from_utf8(f.data.clone())
            .map(Some)
            .map_err(|_| Error::message(format!("files: `{path}` is not UTF-8 text"))),
        None => Ok(None),
    }
}

thread_local! {
    /// Compiled `files` globs by pattern: a template calls the same few patterns on every
    /// render, and compiling one costs more than matching it against a chart's files.
    static GLOBS: std::cell::RefCell<std::collections::HashMap<String, globset::GlobMatcher>> =
        Default::default();
}

fn glob<'a>(scope: &'a FunctionScope, pattern: &str) -> TeraResult<Vec<&'a ChartFile>> {
    let cached = GLOBS.with(|g| g.borrow().get(pattern).cloned());
    let matcher = match cached {
        Some(m) => m,
        None => {
            let m = globset::GlobBuilder::new(pattern)
                .literal_separator(true)
                .build()
                .map_err(|e| Error::message(format!("files: bad glob `{pattern}`: {e}")))?
                .compile_matcher();
            GLOBS.with(|g| {
                let mut g = g.borrow_mut();
                // Patterns come from templates, so there are few; the bound is a safeguard.
                if g.len() >= 256 {
                    g.clear();
                }
                g.insert(pattern.to_string(), m.clone());
            });
            m
        }
    };
    Ok(scope
        .files
        .iter()
        .filter(|f| matcher.is_match(&f.name))
        .collect())
}

fn fail(kwargs: Kwargs, _: &State) -> TeraResult<Value> {
    let message = kwargs.must_get::<String>("message")?;
    Err(Error::message(message))
}

fn semver_compare(kwargs: Kwargs, _: &State) -> TeraResult<bool> {
    let constraint = kwargs.must_get::<String>("constraint")?;
    let version = kwargs.must_get::<String>("version")?;
    let c = crate::chart::version::parse_constraint(&constraint)
        .map_err(|e| Error::message(format!("semver_compare: {e:#}")))?;
    let v = crate::chart::version::parse_lenient(&version)
        .map_err(|e| Error::message(format!("semver_compare: {e:#}")))?;
    Ok(c.matches(&v))
}

fn regex_match(kwargs: Kwargs, _: &State) -> TeraResult<bool> {
    let pattern = kwargs.must_get::<String>("pattern")?;
    let value = kwargs.must_get::<Value>("value")?;
    let re = regex::Regex::new(&pattern)
        .map_err(|e| Error::message(format!("regex_match: bad pattern `{pattern}`: {e}")))?;
    Ok(re.is_match(&display(&value)?))
}

fn has_key(kwargs: Kwargs, _: &State) -> TeraResult<bool> {
    let map = kwargs.must_get::<Value>("map")?;
    let key = kwargs.must_get::<String>("key")?;
    Ok(match to_json(&map)? {
        Json::Object(m) => m.contains_key(&key),
        _ => false,
    })
}

/// Builds a mapping from keyword arguments (Helm's `dict`), e.g. `dict(a=1, b="x")`.
fn dict(kwargs: Kwargs, _: &State) -> TeraResult<Value> {
    let mut out = serde_json::Map::new();
    for (k, v) in kwargs.iter() {
        let key = k.as_str().map(str::to_string).unwrap_or_default();
        out.insert(key, to_json(v)?);
    }
    Ok(from_json(&Json::Object(out)))
}

fn rand_alphanumeric(kwargs: Kwargs, _: &State) -> TeraResult<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let len = kwargs.must_get::<i64>("length")?;
    if !(1..=4096).contains(&len) {
        return Err(Error::message(format!(
            "rand_alphanumeric: length {len} is out of range 1..=4096"
        )));
    }
    let mut out = String::with_capacity(len as usize);
    let mut buf = [0u8; 64];
    while out.len() < len as usize {
        getrandom::fill(&mut buf).map_err(|e| Error::message(format!("no randomness: {e}")))?;
        // Rejection sampling keeps every character equally likely.
        for b in buf {
            if (b as usize) < 248 && out.len() < len as usize {
                out.push(ALPHABET[b as usize % ALPHABET.len()] as char);
            }
        }
    }
    Ok(out)
}

fn current_context(state: &State) -> TeraResult<Context> {
    let mut ctx = Context::new();
    for name in CONTEXT_NAMES {
        if let Some(v) = state.get::<Value>(name)? {
            ctx.insert_value(name, v);
        }
    }
    Ok(ctx)
}

fn tera_of(scope: &FunctionScope) -> TeraResult<Arc<Tera>> {
    scope
        .tera
        .get()
        .and_then(Weak::upgrade)
        .ok_or_else(|| Error::message("the template engine is not ready"))
}

/// Renders a string as a template in the current context (Helm's `tpl`). Extra keyword
/// arguments become variables of that template.
fn tpl(scope: &FunctionScope, kwargs: Kwargs, state: &State) -> TeraResult<String> {
    let template = kwargs.must_get::<Value>("template")?;
    let source = display(&template)?;
    if !source.contains("{{") && !source.contains("{%") {
        return Ok(source);
    }
    let _depth = super::budget::DepthGuard::enter("tpl")?;
    let mut ctx = current_context(state)?;
    for (k, v) in kwargs.iter() {
        if let Some(name) = k.as_str()
            && name != "template"
        {
            ctx.insert_value(name.to_string(), v.clone());
        }
    }
    tera_of(scope)?
        .render_str_memo(&source, &ctx, false)
        .map_err(|e| {
            if let Some(limit) = super::budget::depth_exceeded() {
                return limit;
            }
            Error::message(format!(
                "tpl: cannot render `{source}`: {}",
                super::error::describe(&e)
            ))
        })
}

/// Renders component `name` with the remaining keyword arguments and returns its output,
/// so a helper's output can go through filters. Implicit (`@`) parameters are taken from
/// the caller's context.
fn include(scope: &FunctionScope, kwargs: Kwargs, state: &State) -> TeraResult<String> {
    let name = kwargs.must_get::<String>("name")?;
    let _depth = super::budget::DepthGuard::enter(&format!("include `{name}`"))?;
    let tera = tera_of(scope)?;
    if !tera.contains_component(&name) {
        let known: Vec<&str> = tera.get_component_names().collect();
        let hint = crate::suggest::did_you_mean(&name, known.iter().copied())
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        return Err(Error::message(format!(
            "include: there is no helper component `{name}`{hint}"
        )));
    }
    let mut args = Context::new();
    for (k, v) in kwargs.iter() {
        if let Some(key) = k.as_str()
            && key != "name"
        {
            args.insert_value(key.to_string(), v.clone());
        }
    }
    let implicits = current_context(state)?;
    tera.render_component_with_implicits(&name, &args, &implicits, None, false)
        .map_err(|e| {
            if let Some(limit) = super::budget::depth_exceeded() {
                return limit;
            }
            Error::message(format!("include `{name}`: {}", super::error::describe(&e)))
        })
}

/// Helm's `lookup`: a single resource when `name` is given, else `{"items": [...]}`; `{}`
/// when there is none. With a live cluster connected ([`crate::lookup`]) the cluster
/// answers; otherwise the resources of the deployed revision do.
fn lookup(kwargs: Kwargs) -> TeraResult<Value> {
    let api_version = kwargs.must_get::<String>("api_version")?;
    let kind = kwargs.must_get::<String>("kind")?;
    let namespace = kwargs.get::<String>("namespace")?.unwrap_or_default();
    let name = kwargs.get::<String>("name")?.unwrap_or_default();
    let items = match crate::lookup::live() {
        Some(source) => source
            .find(&api_version, &kind, &namespace, &name)
            .map_err(|e| Error::message(format!("lookup of {kind} `{name}`: {e:#}")))?,
        None => stored(&api_version, &kind, &namespace, &name)?,
    };
    if !name.is_empty() {
        return Ok(from_json(
            &items
                .into_iter()
                .next()
                .unwrap_or(Json::Object(Default::default())),
        ));
    }
    if items.is_empty() {
        return Ok(from_json(&Json::Object(Default::default())));
    }
    Ok(from_json(&serde_json::json!({ "items": items })))
}

/// The offline answer to `lookup`: matching resources of the deployed revision.
fn stored(api_version: &str, kind: &str, namespace: &str, name: &str) -> TeraResult<Vec<Json>> {
    let deployed = DEPLOYED.with(|d| d.borrow().clone());
    let matches = deployed.iter().filter(|m| {
        m.api_version == api_version
            && m.kind == kind
            && (namespace.is_empty()
                || m.namespace.as_deref().unwrap_or("") == namespace
                || m.namespace.is_none())
            && (name.is_empty() || m.name == name)
    });
    let mut items = Vec::new();
    for m in matches {
        let doc: crate::yaml::Yaml = crate::yaml::try_from_str(&m.body)
            .map_err(|e| Error::message(format!("lookup: stored manifest is not YAML: {e}")))?;
        items.push(crate::yaml::yaml_to_json(doc));
    }
    Ok(items)
}

/// Tera's `range` (same arguments and limits), with every element charged to the render's
/// loop budget: nested `range` loops are how a template multiplies its work.
fn range(kwargs: Kwargs, _: &State) -> TeraResult<Vec<i128>> {
    let start = kwargs.get::<i128>("start")?.unwrap_or_default();
    let end = kwargs.must_get::<i128>("end")?;
    let step_by = kwargs.get::<i128>("step_by")?.unwrap_or(1);
    if step_by == 0 {
        return Err(Error::message("range: `step_by` must not be 0"));
    }
    if start > end && step_by > 0 {
        return Err(Error::message(
            "range: `start` is greater than `end` (use a negative `step_by` to count down)",
        ));
    }
    let overflow = || Error::message("range: the arguments overflow");
    let len = if step_by > 0 {
        let span = end.checked_sub(start).ok_or_else(overflow)?;
        span.checked_add(step_by - 1).ok_or_else(overflow)? / step_by
    } else if start <= end {
        0
    } else {
        let step = step_by.checked_neg().ok_or_else(overflow)?;
        let span = start.checked_sub(end).ok_or_else(overflow)?;
        span.checked_add(step - 1).ok_or_else(overflow)? / step
    };
    // Tera's own cap on one call.
    const MAX_RANGE_LEN: i128 = 100_000;
    if len > MAX_RANGE_LEN {
        return Err(Error::message(format!(
            "range: {len} elements, over the limit of {MAX_RANGE_LEN} for one call"
        )));
    }
    super::budget::charge_iterations(len as u64)?;
    Ok((0..len).map(|i| start + i * step_by).collect())
}
