//! Version constraints in Helm's syntax (Masterminds semver): `^1.2`, `~1.2.3`, `1.2.x`,
//! `>=1.0 <2.0`, `1.0 - 1.4`, alternatives joined by `||`, and the `-0` suffix that admits
//! pre-releases.

use anyhow::{Result, bail};
use semver::Version;

/// A parsed constraint: any one of the alternatives must hold, and within an alternative
/// every comparison must hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Constraint {
    alternatives: Vec<Vec<Comparison>>,
    original: String,
}

#[derive(Debug, Clone, PartialEq)]
struct Comparison {
    op: Op,
    version: Version,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

/// Parses a constraint such as `>=1.25.0-0` or `^2.1 || ~3.0`.
pub(crate) fn parse_constraint(text: &str) -> Result<Constraint> {
    let mut alternatives = Vec::new();
    for alt in text.split("||") {
        let alt = alt.trim();
        let mut comparisons = Vec::new();
        // Normalise `>= 1.2` to `>=1.2` and separate terms on spaces or commas.
        let normalised = normalise_spacing(alt);
        let terms: Vec<&str> = normalised
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|t| !t.is_empty())
            .collect();
        let mut i = 0;
        while i < terms.len() {
            if i + 2 < terms.len() && terms[i + 1] == "-" {
                let low = parse_partial(terms[i])?;
                let high = parse_partial(terms[i + 2])?;
                comparisons.push(Comparison {
                    op: Op::Ge,
                    version: low.floor(),
                });
                comparisons.extend(high.upper_inclusive());
                i += 3;
                continue;
            }
            comparisons.extend(parse_term(terms[i])?);
            i += 1;
        }
        if comparisons.is_empty() {
            // An empty constraint (or `*`) matches any release version.
            comparisons.push(Comparison {
                op: Op::Ge,
                version: Version::new(0, 0, 0),
            });
        }
        alternatives.push(comparisons);
    }
    Ok(Constraint {
        alternatives,
        original: text.to_string(),
    })
}

fn normalise_spacing(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if matches!(c, '>' | '<' | '=' | '!' | '~' | '^') {
            while chars.peek().is_some_and(|n| n.is_whitespace()) {
                chars.next();
            }
        }
    }
    out
}

/// A version with possibly missing or wildcard parts: `1`, `1.2`, `1.2.x`, `*`.
#[derive(Debug, Clone)]
struct Partial {
    major: Option<u64>,
    minor: Option<u64>,
    patch: Option<u64>,
    pre: semver::Prerelease,
}

impl Partial {
    fn floor(&self) -> Version {
        let mut v = Version::new(
            self.major.unwrap_or(0),
            self.minor.unwrap_or(0),
            self.patch.unwrap_or(0),
        );
        v.pre = self.pre.clone();
        v
    }

    /// `<=` the version when fully given, else `<` the next version at the first missing part.
    fn upper_inclusive(&self) -> Vec<Comparison> {
        match (self.major, self.minor, self.patch) {
            (None, _, _) => vec![],
            (Some(ma), None, _) => vec![lt(Version::new(ma + 1, 0, 0))],
            (Some(ma), Some(mi), None) => vec![lt(Version::new(ma, mi + 1, 0))],
            (Some(_), Some(_), Some(_)) => vec![Comparison {
                op: Op::Le,
                version: self.floor(),
            }],
        }
    }
}

fn lt(version: Version) -> Comparison {
    Comparison {
        op: Op::Lt,
        version,
    }
}

fn parse_partial(text: &str) -> Result<Partial> {
    let text = text.trim_start_matches(['v', 'V']);
    let (core, pre) = match text.split_once('-') {
        Some((core, pre)) => (core, pre),
        None => (text, ""),
    };
    let core = core.split('+').next().unwrap_or(core);
    let mut parts = core.split('.');
    let mut next = || -> Result<Option<u64>> {
        match parts.next() {
            None | Some("x") | Some("X") | Some("*") => Ok(None),
            Some(n) => match n.parse::<u64>() {
                Ok(v) => Ok(Some(v)),
                Err(_) => bail!("`{text}` is not a version"),
            },
        }
    };
    let major = next()?;
    let minor = if major.is_some() { next()? } else { None };
    let patch = if minor.is_some() { next()? } else { None };
    if parts.next().is_some() {
        bail!("`{text}` has more than three version parts");
    }
    let pre = if pre.is_empty() {
        semver::Prerelease::EMPTY
    } else {
        semver::Prerelease::new(pre).map_err(|e| anyhow::anyhow!("`{text}`: {e}"))?
    };
    Ok(Partial {
        major,
        minor,
        patch,
        pre,
    })
}

fn parse_term(term: &str) -> Result<Vec<Comparison>> {
    let ops = ["!=", ">=", "<=", "=>", "=<", ">", "<", "=", "~>", "~", "^"];
    let (op, rest) = ops
        .iter()
        .find_map(|op| term.strip_prefix(op).map(|rest| (*op, rest)))
        .unwrap_or(("", term));
    if rest.is_empty() {
        bail!("`{term}` has an operator but no version");
    }
    let p = parse_partial(rest)?;
    let base = p.floor();
    let out = match op {
        "" | "=" => match (p.major, p.minor, p.patch) {
            (None, _, _) => vec![Comparison {
                op: Op::Ge,
                version: Version::new(0, 0, 0),
            }],
            (Some(_), Some(_), Some(_)) => vec![Comparison {
                op: Op::Eq,
                version: base,
            }],
            _ => {
                let mut v = vec![Comparison {
                    op: Op::Ge,
                    version: base,
                }];
                v.extend(p.upper_inclusive());
                v
            }
        },
        "!=" => vec![Comparison {
            op: Op::Ne,
            version: base,
        }],
        ">" => match (p.minor, p.patch) {
            (Some(_), Some(_)) => vec![Comparison {
                op: Op::Gt,
                version: base,
            }],
            // `>1.2` means beyond the whole 1.2 series.
            _ => p
                .upper_inclusive()
                .into_iter()
                .map(|c| Comparison {
                    op: Op::Ge,
                    version: c.version,
                })
                .collect(),
        },
        ">=" | "=>" => vec![Comparison {
            op: Op::Ge,
            version: base,
        }],
        "<" => vec![lt(base)],
        "<=" | "=<" => p.upper_inclusive(),
        "~" | "~>" => {
            let upper = match (p.major, p.minor) {
                (Some(ma), Some(mi)) => Version::new(ma, mi + 1, 0),
                (Some(ma), None) => Version::new(ma + 1, 0, 0),
                _ => bail!("`{term}` needs a version after `~`"),
            };
            vec![
                Comparison {
                    op: Op::Ge,
                    version: base,
                },
                lt(upper),
            ]
        }
        "^" => {
            let upper = match (p.major, p.minor, p.patch) {
                (Some(0), Some(0), Some(pa)) if p.patch.is_some() && pa > 0 => {
                    Version::new(0, 0, pa + 1)
                }
                (Some(0), Some(mi), _) if mi > 0 => Version::new(0, mi + 1, 0),
                (Some(0), Some(0), _) => Version::new(0, 1, 0),
                (Some(ma), _, _) => Version::new(ma + 1, 0, 0),
                (None, _, _) => bail!("`{term}` needs a version after `^`"),
            };
            vec![
                Comparison {
                    op: Op::Ge,
                    version: base,
                },
                lt(upper),
            ]
        }
        _ => unreachable!("operator list is closed"),
    };
    Ok(out)
}

impl Constraint {
    /// Whether `version` satisfies the constraint. As in Helm, a pre-release only satisfies
    /// an alternative whose comparisons mention a pre-release (`>=1.25.0-0`).
    pub fn matches(&self, version: &Version) -> bool {
        self.alternatives.iter().any(|alt| {
            if !version.pre.is_empty() && !alt.iter().any(|c| !c.version.pre.is_empty()) {
                return false;
            }
            alt.iter().all(|c| c.holds(version))
        })
    }

    /// The constraint as written.
    pub fn as_str(&self) -> &str {
        &self.original
    }
}

impl Comparison {
    fn holds(&self, v: &Version) -> bool {
        // Build metadata never takes part in precedence.
        let cmp = cmp_ignoring_build(v, &self.version);
        use std::cmp::Ordering::*;
        match self.op {
            Op::Eq => cmp == Equal,
            Op::Ne => cmp != Equal,
            Op::Gt => cmp == Greater,
            Op::Ge => cmp != Less,
            Op::Lt => cmp == Less,
            Op::Le => cmp != Greater,
        }
    }
}

fn cmp_ignoring_build(a: &Version, b: &Version) -> std::cmp::Ordering {
    (a.major, a.minor, a.patch, &a.pre).cmp(&(b.major, b.minor, b.patch, &b.pre))
}

/// Parses a Kubernetes or chart version leniently: `v1.29`, `1.29.3-eks-abc`, `1.30+`.
pub(crate) fn parse_lenient(text: &str) -> Result<Version> {
    let p = parse_partial(text.trim().trim_end_matches('+'))?;
    match p.major {
        Some(_) => Ok(p.floor()),
        None => bail!("`{text}` is not a version"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(c: &str, v: &str) -> bool {
        parse_constraint(c)
            .unwrap()
            .matches(&Version::parse(v).unwrap())
    }

    #[test]
    fn caret_allows_minor_and_patch_updates() {
        assert!(ok("^1.2.3", "1.9.0"));
        assert!(!ok("^1.2.3", "2.0.0"));
        assert!(!ok("^1.2.3", "1.2.2"));
        assert!(ok("^0.2.3", "0.2.9"));
        assert!(!ok("^0.2.3", "0.3.0"));
    }

    #[test]
    fn tilde_allows_patch_updates() {
        assert!(ok("~1.2.3", "1.2.9"));
        assert!(!ok("~1.2.3", "1.3.0"));
        assert!(ok("~1", "1.9.9"));
    }

    #[test]
    fn wildcards_ranges_and_alternatives() {
        assert!(ok("1.2.x", "1.2.7"));
        assert!(!ok("1.2.x", "1.3.0"));
        assert!(ok(">=1.0, <2.0", "1.5.0"));
        assert!(ok(">= 1.0 < 2.0", "1.5.0"));
        assert!(ok("1.0 - 1.4", "1.4.9"));
        assert!(!ok("1.0 - 1.4", "1.5.0"));
        assert!(ok("^1 || ^3", "3.1.0"));
        assert!(ok("*", "7.0.0"));
        assert!(ok("", "7.0.0"));
    }

    #[test]
    fn pre_releases_need_a_pre_release_in_the_constraint() {
        assert!(!ok(">=1.25.0", "1.29.0-eks.1"));
        assert!(ok(">=1.25.0-0", "1.29.0-eks.1"));
        assert!(ok(">=1.25.0-0", "1.29.0"));
    }

    #[test]
    fn lenient_parsing_accepts_kubernetes_versions() {
        assert_eq!(parse_lenient("v1.29").unwrap(), Version::new(1, 29, 0));
        assert_eq!(parse_lenient("1.30+").unwrap(), Version::new(1, 30, 0));
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(parse_constraint(">=banana").is_err());
        assert!(parse_constraint("^").is_err());
    }
}
