//! Release names made for the user: Helm's `--generate-name` and `--name-template`, and
//! the placeholder name `template` renders with when none is given.

use anyhow::{Result, bail};

use crate::record::key::{MAX_RELEASE_NAME, validate_release_name};

/// The release name `template CHART` renders with when no name is given, as Helm's.
pub const PLACEHOLDER: &str = "release-name";

/// Helm's generated name: the chart's name and the current Unix time in seconds
/// (`ignition-1767225600`), the chart part shortened so the whole stays a valid name.
pub fn generate(chart_name: &str) -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let suffix = format!("-{secs}");
    let mut base: String = chart_name
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    base.truncate(MAX_RELEASE_NAME - suffix.len());
    let base = base.trim_matches('-');
    let base = if base.is_empty() { "release" } else { base };
    format!("{base}{suffix}")
}

/// Renders `--name-template`: a Tera template (stoke's template language) that sees
/// `chart` (the chart's name) and may call `rand_alpha(length=N)`,
/// `rand_alphanumeric(length=N)` and `now_unix()`; Tera's filters such as `lower` apply.
/// Helm's Go-template spelling (`{{randAlpha 5 | lower}}`) is refused with the Tera
/// equivalent.
pub fn from_template(template: &str, chart_name: &str) -> Result<String> {
    if let Some(hint) = go_template_hint(template) {
        bail!(
            "--name-template `{template}` is written as a Go template; stoke templates are Tera: {hint}"
        );
    }
    let mut tera = tera::Tera::default();
    tera.register_function("rand_alpha", |kwargs: tera::Kwargs, _: &tera::State| {
        random_text(
            kwargs,
            b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
        )
    });
    tera.register_function(
        "rand_alphanumeric",
        |kwargs: tera::Kwargs, _: &tera::State| {
            random_text(
                kwargs,
                b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
            )
        },
    );
    tera.register_function("now_unix", |_: tera::Kwargs, _: &tera::State| {
        Ok::<u64, tera::Error>(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        )
    });
    let mut ctx = tera::Context::new();
    ctx.insert("chart", chart_name);
    let name = tera
        .render_str(template, &ctx, false)
        .map_err(|e| anyhow::anyhow!("--name-template `{template}`: {e}"))?;
    let name = name.trim().to_string();
    validate_release_name(&name).map_err(|e| {
        anyhow::anyhow!("--name-template `{template}` made the name `{name}`, which is not a valid release name: {e}")
    })?;
    Ok(name)
}

fn random_text(kwargs: tera::Kwargs, alphabet: &[u8]) -> Result<String, tera::Error> {
    let len = kwargs.must_get::<usize>("length")?;
    if !(1..=MAX_RELEASE_NAME).contains(&len) {
        return Err(tera::Error::message(format!(
            "length {len} is out of range 1..={}",
            MAX_RELEASE_NAME
        )));
    }
    let mut buf = vec![0u8; len];
    getrandom::fill(&mut buf).map_err(|e| tera::Error::message(format!("no randomness: {e}")))?;
    Ok(buf
        .iter()
        .map(|b| alphabet[*b as usize % alphabet.len()] as char)
        .collect())
}

/// The Tera spelling of the Sprig calls Helm users put in name templates.
fn go_template_hint(template: &str) -> Option<String> {
    let compact: String = template.split_whitespace().collect::<Vec<_>>().join(" ");
    for (go, tera) in [
        ("randAlphaNum", "rand_alphanumeric(length=N)"),
        ("randAlpha", "rand_alpha(length=N)"),
        ("randNumeric", "rand_alphanumeric(length=N)"),
        ("now | unixEpoch", "now_unix()"),
        (".Chart.Name", "chart"),
    ] {
        if compact.contains(go) {
            return Some(format!(
                "write `{tera}` for `{go}`, e.g. --name-template 'gw-{{{{ rand_alpha(length=5) | lower }}}}'"
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_names_are_chart_and_seconds_and_always_valid() {
        let n = generate("ignition");
        assert!(n.starts_with("ignition-"), "{n}");
        assert!(validate_release_name(&n).is_ok());
        let long = generate(&"Very_Long_Chart_Name".repeat(5));
        assert!(long.len() <= MAX_RELEASE_NAME);
        assert!(validate_release_name(&long).is_ok(), "{long}");
    }

    #[test]
    fn name_templates_are_tera_and_go_spellings_get_the_tera_one() {
        let n = from_template("gw-{{ rand_alpha(length=5) | lower }}", "ignition").unwrap();
        assert!(n.starts_with("gw-") && n.len() == 8, "{n}");
        assert_eq!(
            from_template("{{ chart }}-a", "ignition").unwrap(),
            "ignition-a"
        );
        let e = from_template("gw-{{randAlpha 5 | lower}}", "x")
            .unwrap_err()
            .to_string();
        assert!(e.contains("rand_alpha(length=N)"), "{e}");
        assert!(from_template("UPPER", "x").is_err());
    }
}
