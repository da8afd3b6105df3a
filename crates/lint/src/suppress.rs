//! `-- haste:allow <rule>[, <rule>] reason="..."` (next statement) and
//! `-- haste:allow-file <rule> reason="..."` (whole file).

use haste_sql::{LineIndex, Statement};

use crate::rules::{RULES, Raw};
use crate::{Config, Finding, Severity};

struct Suppression {
    rules: Vec<String>,
    /// The statement it covers; `None` for the whole file.
    statement: Option<usize>,
    reason: Option<String>,
    start: usize,
    end: usize,
    used: Vec<bool>,
}

pub(crate) struct Suppressions(Vec<Suppression>);

impl Suppressions {
    pub fn parse(sql: &str, statements: &[Statement]) -> Suppressions {
        let mut found = Vec::new();
        let mut offset = 0;
        for line in sql.split_inclusive('\n') {
            let start = offset;
            offset += line.len();
            let Some(at) = line.find("-- haste:allow") else { continue };
            let directive = line[at + "-- haste:".len()..].trim_end();
            let (file_wide, rest) = match directive.strip_prefix("allow-file") {
                Some(rest) => (true, rest),
                None => (false, &directive["allow".len()..]),
            };
            let (list, reason) = match rest.split_once("reason=") {
                Some((list, reason)) => {
                    (list, Some(reason.trim().trim_matches('"').to_owned()).filter(|r| !r.is_empty()))
                }
                None => (rest, None),
            };
            let rules: Vec<String> =
                list.split([',', ' ']).map(str::trim).filter(|r| !r.is_empty()).map(str::to_owned).collect();
            let statement = if file_wide {
                None
            } else {
                statements.iter().position(|s| s.start >= start + at).or(Some(usize::MAX))
            };
            let used = vec![false; rules.len()];
            found.push(Suppression {
                rules,
                statement,
                reason,
                start: start + at,
                end: start + line.trim_end().len(),
                used,
            });
        }
        Suppressions(found)
    }

    /// Drops suppressed findings, adds one for each suppression that suppressed nothing or
    /// gives no reason, applies severities, and positions everything.
    pub fn apply(
        mut self,
        raw: Vec<Raw>,
        path: &str,
        index: &LineIndex<'_>,
        config: &Config,
    ) -> Vec<Finding> {
        let mut kept: Vec<Raw> = Vec::new();
        for finding in raw {
            let mut suppressed = false;
            for suppression in &mut self.0 {
                if suppression.statement.is_none_or(|s| s == finding.statement)
                    && let Some(i) = suppression.rules.iter().position(|r| r == finding.rule)
                {
                    suppression.used[i] = true;
                    suppressed = suppression.reason.is_some();
                }
            }
            if !suppressed {
                kept.push(finding);
            }
        }
        for suppression in &self.0 {
            let raw = |rule, message: String, help: &str| Raw {
                rule,
                start: suppression.start,
                end: suppression.end,
                statement: usize::MAX,
                message,
                help: help.to_owned(),
            };
            if suppression.reason.is_none() {
                kept.push(raw(
                    "suppression-without-reason",
                    "this suppression gives no reason, so it suppresses nothing".into(),
                    "add reason=\"...\": why this is safe here",
                ));
            }
            for (rule, used) in suppression.rules.iter().zip(&suppression.used) {
                if !used {
                    kept.push(raw(
                        "unused-suppression",
                        format!("`{rule}` is allowed here but reports nothing here"),
                        "remove it, or check the rule id",
                    ));
                }
            }
        }
        let mut findings: Vec<Finding> = kept
            .into_iter()
            .filter_map(|raw| {
                let severity = severity(raw.rule, config);
                if severity == Severity::Off {
                    return None;
                }
                let (line, column) = index.line_col(raw.start);
                let (end_line, end_column) = index.line_col(raw.end);
                Some(Finding {
                    file: path.to_owned(),
                    line,
                    column,
                    end_line,
                    end_column,
                    rule: raw.rule,
                    severity,
                    message: raw.message,
                    help: raw.help,
                })
            })
            .collect();
        findings.sort_by_key(|finding| (finding.line, finding.column));
        findings
    }
}

/// A rule's severity after configuration; built-in findings are errors.
pub(crate) fn severity(rule: &str, config: &Config) -> Severity {
    if let Some(severity) = config.severities.get(rule) {
        return *severity;
    }
    RULES.iter().find(|r| r.id() == rule).map_or(Severity::Error, |r| r.default_severity())
}
