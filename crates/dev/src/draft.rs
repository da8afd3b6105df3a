//! One migration to write, as the planners hand it to `generate`: its statements, notes and
//! data step, and what its `down.sql` must fill again.

use haste_diff::{RenameSuggestion, Step};
use haste_schema::Schema;

/// One migration to write: its folder name suffix, its steps, its notes and data step.
pub(crate) struct Draft {
    pub(crate) suffix: String,
    pub(crate) title: String,
    pub(crate) notes: Vec<String>,
    /// The statements, with their locks and hazards.
    pub(crate) up: Vec<Step>,
    /// The file as Prisma would write it, when the desired schema is a Prisma schema (then
    /// `up` describes the same change for the summary).
    pub(crate) prisma_text: Option<(String, Vec<String>)>,
    /// `data.sql` and `data.down.sql` (not written when empty).
    pub(crate) data: Option<(String, String)>,
    /// Held by deploy until a run after the one that applies the draft before it.
    pub(crate) after_previous: bool,
    /// What must wait for the release after the expand, under `--expand-contract`: a rename's
    /// contract, a type change's swap and the validations after it (see
    /// `generate::two_releases`).
    pub(crate) second_release: bool,
    /// Likely renames the planner saw.
    pub(crate) suggestions: Vec<RenameSuggestion>,
    /// For a contract migration: the columns its `down.sql` must fill again.
    pub(crate) restores: Vec<Moved>,
    /// For a swap: the new columns its `down.sql` must fill again.
    pub(crate) refills: Vec<Refill>,
    /// The columns whose `NULL`s its data step fills, before a later draft makes them `NOT NULL`.
    pub(crate) fills: Vec<haste_diff::OfTable>,
    /// What the person must know before deploying it (shown in the summary).
    pub(crate) warnings: Vec<String>,
}

/// haste's lint findings (default settings) on `sql`, a file applied after `before`: the
/// schema's DDL stands for the history, so a table it holds is an existing one to the rules.
fn lint_after(before: &Schema, sql: String) -> Vec<haste_lint::Finding> {
    let file = |sql: String, check: bool| haste_lint::SourceFile {
        path: String::new(),
        sql,
        transaction: None,
        check,
        unreleased: false,
    };
    let history = before.to_ddl().iter().map(|statement| format!("{statement};\n")).collect();
    haste_lint::lint(&[file(history, false), file(sql, true)], &haste_lint::Config::default())
}

impl Draft {
    /// Allows, in the file, the rules among `rules` that its steps `chosen` picks break, as
    /// haste's lint judges them after `before` (the schema the draft starts from): only those,
    /// since allowing a rule that reports nothing is itself a finding (`unused-suppression`).
    /// Not in a file that must stay exactly as Prisma writes it.
    pub(crate) fn allow_broken(
        &mut self,
        before: &Schema,
        chosen: impl Fn(&Step) -> bool,
        rules: &[&str],
        reason: &str,
        exact_prisma: bool,
    ) {
        if !self.up.iter().any(&chosen) {
            return;
        }
        // The whole draft is linted (a table it creates before the chosen statement is new to
        // the rules, as in the file written); only findings on the chosen statements count.
        let mut steps = String::new();
        let mut chosen_lines = Vec::new();
        let mut line = 1;
        for step in &self.up {
            let text = format!("{};\n", step.sql);
            let lines = text.lines().count();
            if chosen(step) {
                chosen_lines.push(line..line + lines);
            }
            line += lines;
            steps.push_str(&text);
        }
        let findings = lint_after(before, steps);
        let lines: Vec<String> = rules
            .iter()
            .filter(|rule| {
                findings
                    .iter()
                    .any(|f| f.rule == **rule && chosen_lines.iter().any(|lines| lines.contains(&f.line)))
            })
            .map(|rule| format!("haste:allow-file {rule} reason=\"{reason}\""))
            .collect();
        match &mut self.prisma_text {
            Some(_) if exact_prisma => {}
            Some((text, _)) => {
                *text = format!("{}{text}", lines.iter().map(|l| format!("-- {l}\n")).collect::<String>())
            }
            None => self.notes.extend(lines),
        }
    }

    /// Allows, in a file written as Prisma writes it (`--exact-prisma`), each rule `allowed`
    /// picks among those its lint errors break, as haste's lint judges the file after `before`:
    /// the person asked for Prisma's statements, and the file says so rather than fail haste's
    /// own lint (`deploy --lint` would refuse it). The statements stay Prisma's; only comment
    /// lines are added before them.
    pub(crate) fn allow_prisma_errors(
        &mut self,
        before: &Schema,
        allowed: impl Fn(&str) -> bool,
        reason: &str,
    ) {
        let Some((text, _)) = &mut self.prisma_text else { return };
        let findings = lint_after(before, text.clone());
        let mut rules: Vec<&str> = findings
            .iter()
            .filter(|f| f.severity == haste_lint::Severity::Error && allowed(f.rule))
            .map(|f| f.rule)
            .collect();
        rules.sort_unstable();
        rules.dedup();
        let lines: String =
            rules.iter().map(|rule| format!("-- haste:allow-file {rule} reason=\"{reason}\"\n")).collect();
        *text = format!("{lines}{text}");
    }

    /// A migration with nothing in it yet.
    pub(crate) fn empty(suffix: String, title: String) -> Draft {
        Draft {
            suffix,
            title,
            notes: Vec::new(),
            up: Vec::new(),
            prisma_text: None,
            data: None,
            after_previous: false,
            second_release: false,
            suggestions: Vec::new(),
            restores: Vec::new(),
            refills: Vec::new(),
            fills: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Nothing to write: for a Prisma schema, Prisma's own comparison says so.
    pub(crate) fn is_empty(&self) -> bool {
        match &self.prisma_text {
            Some((text, _)) => text.is_empty(),
            None => self.up.is_empty(),
        }
    }
}

/// One column that moves.
#[derive(Clone)]
pub(crate) struct Moved {
    pub(crate) schema: String,
    pub(crate) table: String,
    pub(crate) old: String,
    pub(crate) new: String,
    /// The name of the trigger that copies the column a write set into the other one, so the
    /// table's own triggers see the new column filled: one that fires before the table's own
    /// (`retype::fires_first_name`).
    pub(crate) first_trigger: String,
    /// The name of the trigger that gives the old column the new one's final value (and, in the
    /// copy of the rows, every column its value back) until the contract: one that fires after
    /// the table's own (`retype::fires_last_name`).
    pub(crate) last_trigger: String,
}

/// A new column a swap's `down.sql` brings back: it must be filled before its checks and keys
/// can be validated again.
#[derive(Clone)]
pub(crate) struct Refill {
    pub(crate) schema: String,
    pub(crate) table: String,
    pub(crate) column: String,
    /// The value, computed from the old column.
    pub(crate) value: String,
}
