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
    /// For a piece of a change cut into migrations of one deploy (after the first): the texts
    /// of the pieces before it, released with it (`-- haste:release-with` the first): what they
    /// create is still new when it runs, as its lint allowances are judged.
    pub(crate) released_with: Vec<String>,
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

/// haste's lint findings (default settings) on `sql`, a file applied after `before` and the
/// files `released_with` (texts, released with it: what they create is new to it): the
/// schema's DDL stands for the history, so a table it holds is an existing one to the rules.
/// With `reverted` (a migration's text), `sql` is that migration's `down.sql`, linted after it
/// as `haste lint` reads a down.sql.
fn lint_after(
    before: &Schema,
    released_with: &[String],
    sql: String,
    reverted: Option<String>,
) -> Vec<haste_lint::Finding> {
    let file = |sql: String, check: bool, unreleased: bool, reverts: bool| haste_lint::SourceFile {
        path: String::new(),
        sql,
        transaction: None,
        check,
        unreleased,
        reverts,
    };
    let history = before.to_ddl().iter().map(|statement| format!("{statement};\n")).collect();
    let mut files = vec![file(history, false, false, false)];
    files.extend(released_with.iter().map(|text| file(text.clone(), false, true, false)));
    match reverted {
        Some(up) => files.extend([file(up, false, false, false), file(sql, true, false, true)]),
        None => files.push(file(sql, true, false, false)),
    }
    haste_lint::lint(&files, &haste_lint::Config::default())
}

/// The text of `steps` as one file, and the lines of each step.
pub(crate) fn text_of(steps: &[Step]) -> (String, Vec<std::ops::Range<usize>>) {
    let mut text = String::new();
    let mut step_lines = Vec::new();
    let mut line = 1;
    for step in steps {
        let statement = format!("{};\n", step.sql);
        let lines = statement.lines().count();
        step_lines.push(line..line + lines);
        line += lines;
        text.push_str(&statement);
    }
    (text, step_lines)
}

/// Lint rules a file haste writes breaks on purpose: those among `rules` that the statements
/// `chosen` picks break, allowed with `reason`.
pub(crate) struct Allowance<'a> {
    pub(crate) chosen: &'a dyn Fn(&Step) -> bool,
    pub(crate) rules: &'a [&'a str],
    pub(crate) reason: &'a str,
}

/// The `haste:allow-file` lines for the rules among `rules` that the steps `chosen` picks of a
/// file of `steps` break, as haste's lint judges the file after `before` and the files
/// `released_with`: only those, since allowing a rule that reports nothing is itself a finding
/// (`unused-suppression`).
pub(crate) fn allow_broken_in(
    before: &Schema,
    released_with: &[String],
    steps: &[Step],
    chosen: impl Fn(&Step) -> bool,
    rules: &[&str],
    reason: &str,
) -> Vec<String> {
    allow_lines(before, released_with, None, steps, &[Allowance { chosen: &chosen, rules, reason }])
}

/// [`allow_broken_in`] for the `down.sql` of `steps` that undoes the migration of `up`, which
/// ran after `before`, for each of `allowances`: linted once, as `haste lint` reads a down.sql,
/// after its migration.
pub(crate) fn allow_broken_in_down(
    before: &Schema,
    up: &[Step],
    steps: &[Step],
    allowances: &[Allowance<'_>],
) -> Vec<String> {
    allow_lines(before, &[], Some(up), steps, allowances)
}

/// The `haste:allow-file` lines for every rule whose errors haste's lint reports on `down`,
/// the down.sql of the migration of text `up` that ran after `before`.
pub(crate) fn allow_errors_in_down(before: &Schema, up: String, down: String, reason: &str) -> Vec<String> {
    let findings = lint_after(before, &[], down, Some(up));
    let mut rules: Vec<&str> =
        findings.iter().filter(|f| f.severity == haste_lint::Severity::Error).map(|f| f.rule).collect();
    rules.sort_unstable();
    rules.dedup();
    rules.iter().map(|rule| format!("haste:allow-file {rule} reason=\"{reason}\"")).collect()
}

fn allow_lines(
    before: &Schema,
    released_with: &[String],
    reverted: Option<&[Step]>,
    steps: &[Step],
    allowances: &[Allowance<'_>],
) -> Vec<String> {
    if !allowances.iter().any(|allowance| steps.iter().any(allowance.chosen)) {
        return Vec::new();
    }
    // The whole file is linted (a table it creates before the chosen statement is new to the
    // rules, as in the file written); only findings on the chosen statements count.
    let (text, step_lines) = text_of(steps);
    let findings = lint_after(before, released_with, text, reverted.map(|up| text_of(up).0));
    let mut lines = Vec::new();
    for allowance in allowances {
        let chosen_lines: Vec<&std::ops::Range<usize>> = steps
            .iter()
            .zip(&step_lines)
            .filter(|(step, _)| (allowance.chosen)(step))
            .map(|(_, lines)| lines)
            .collect();
        lines.extend(
            allowance
                .rules
                .iter()
                .filter(|rule| {
                    findings
                        .iter()
                        .any(|f| f.rule == **rule && chosen_lines.iter().any(|lines| lines.contains(&f.line)))
                })
                .map(|rule| format!("haste:allow-file {rule} reason=\"{}\"", allowance.reason)),
        );
    }
    lines
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
        let lines = allow_broken_in(before, &self.released_with, &self.up, chosen, rules, reason);
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
        let findings = lint_after(before, &[], text.clone(), None);
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
            released_with: Vec::new(),
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
    /// The old column, which the swap gave the new column's name and type.
    pub(crate) old: String,
    pub(crate) column: String,
    /// The value, computed from the old column.
    pub(crate) value: String,
}
