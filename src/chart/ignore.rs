//! `.helmignore`: the patterns that keep files out of a loaded or packaged chart.
//!
//! The syntax is Helm's: one shell glob per line, `#` comments, a leading `!` negates, a
//! trailing `/` matches directories only, a pattern without `/` matches the base name at
//! any depth, and a pattern with `/` matches the path from the chart root.

use anyhow::{Context, Result};
use globset::{GlobBuilder, GlobMatcher};

/// Parsed ignore rules; later rules override earlier ones.
#[derive(Debug, Default, Clone)]
pub struct IgnoreRules {
    rules: Vec<Rule>,
}

#[derive(Debug, Clone)]
struct Rule {
    matcher: Matcher,
    negate: bool,
    dir_only: bool,
    basename_only: bool,
}

/// How a rule's pattern is tested. Most `.helmignore` lines are a plain name (`.git`) or
/// `*` and a plain suffix (`*.swp`); those are compared as strings, which matches exactly as
/// the glob would, and only other patterns pay for compiling one (a regular expression).
#[derive(Debug, Clone)]
enum Matcher {
    Exact(String),
    Suffix(String),
    Glob(GlobMatcher),
}

impl Matcher {
    fn new(pat: &str) -> Result<Matcher, globset::Error> {
        let plain = |s: &str| !s.contains(['*', '?', '[', ']', '{', '}', '\\']);
        if plain(pat) {
            return Ok(Matcher::Exact(pat.to_string()));
        }
        // `*` stops at `/`, so only a suffix without one is a plain ends-with test.
        if let Some(rest) = pat.strip_prefix('*')
            && plain(rest)
            && !rest.contains('/')
        {
            return Ok(Matcher::Suffix(rest.to_string()));
        }
        let glob = GlobBuilder::new(pat).literal_separator(true).build()?;
        Ok(Matcher::Glob(glob.compile_matcher()))
    }

    fn is_match(&self, subject: &str) -> bool {
        match self {
            Matcher::Exact(s) => subject == s,
            // What `*` covers may not hold a `/`.
            Matcher::Suffix(s) => subject
                .strip_suffix(s.as_str())
                .is_some_and(|head| !head.contains('/')),
            Matcher::Glob(g) => g.is_match(subject),
        }
    }
}

impl IgnoreRules {
    /// Parses the text of a `.helmignore` file.
    pub fn parse(text: &str) -> Result<Self> {
        let mut rules = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let mut pat = line.trim();
            if pat.is_empty() || pat.starts_with('#') {
                continue;
            }
            let negate = pat.starts_with('!');
            if negate {
                pat = &pat[1..];
            }
            let dir_only = pat.ends_with('/') && pat.len() > 1;
            let pat = pat.trim_end_matches('/');
            let pat = pat
                .strip_prefix("./")
                .unwrap_or(pat)
                .trim_start_matches('/');
            let basename_only = !pat.contains('/');
            let matcher = Matcher::new(pat)
                .with_context(|| format!(".helmignore line {}: bad pattern `{line}`", n + 1))?;
            rules.push(Rule {
                matcher,
                negate,
                dir_only,
                basename_only,
            });
        }
        Ok(IgnoreRules { rules })
    }

    /// Whether the relative path (with `/` separators) is ignored.
    pub(crate) fn is_ignored(&self, path: &str, is_dir: bool) -> bool {
        let base = path.rsplit('/').next().unwrap_or(path);
        let mut ignored = false;
        for rule in &self.rules {
            if rule.dir_only && !is_dir {
                continue;
            }
            let subject = if rule.basename_only { base } else { path };
            if rule.matcher.is_match(subject) {
                ignored = !rule.negate;
            }
        }
        ignored
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basename_patterns_match_at_any_depth() {
        let r = IgnoreRules::parse("*.bak\n# comment\n").unwrap();
        assert!(r.is_ignored("a/b/c.bak", false));
        assert!(!r.is_ignored("a/b/c.yaml", false));
    }

    #[test]
    fn directory_patterns_only_match_directories() {
        let r = IgnoreRules::parse(".git/\n").unwrap();
        assert!(r.is_ignored(".git", true));
        assert!(!r.is_ignored(".git", false));
    }

    #[test]
    fn negation_re_includes() {
        let r = IgnoreRules::parse("*.txt\n!keep.txt\n").unwrap();
        assert!(r.is_ignored("x.txt", false));
        assert!(!r.is_ignored("keep.txt", false));
    }

    #[test]
    fn plain_names_and_suffixes_match_as_the_glob_would() {
        let patterns = [
            ".git",
            "*.swp",
            "*~",
            "*",
            "docs/a.md",
            "*.tar.gz",
            "a.b",
            "*x/y",
            "",
            "*.",
        ];
        let subjects = [
            ".git",
            "x.git",
            "a.swp",
            ".swp",
            "a.swp.bak",
            "notes~",
            "~",
            "",
            "docs/a.md",
            "docs/b.md",
            "x/a.md",
            "a.tar.gz",
            "tar.gz",
            "a.b",
            "aab",
            "ax/y",
            "a/x/y",
            "a.",
        ];
        for pat in patterns {
            let plain = Matcher::new(pat).unwrap();
            let glob = GlobBuilder::new(pat)
                .literal_separator(true)
                .build()
                .unwrap()
                .compile_matcher();
            for s in subjects {
                assert_eq!(plain.is_match(s), glob.is_match(s), "`{pat}` on `{s}`");
            }
        }
        assert!(matches!(Matcher::new(".git").unwrap(), Matcher::Exact(_)));
        assert!(matches!(Matcher::new("*.swp").unwrap(), Matcher::Suffix(_)));
        assert!(matches!(Matcher::new("*x/y").unwrap(), Matcher::Glob(_)));
    }

    #[test]
    fn rooted_patterns_match_the_path() {
        let r = IgnoreRules::parse("docs/*.md\n").unwrap();
        assert!(r.is_ignored("docs/a.md", false));
        assert!(!r.is_ignored("a.md", false));
    }
}
