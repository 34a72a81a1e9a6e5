//! The text form: a unified diff of the managed view, the reasons, and a summary line.
//!
//! The managed view has one line per instance (id, region, name, status, generation, password,
//! and after apply, what happens to it), grouped under a heading per wave and region; a hunk
//! that starts inside a group names that group's heading after its `@@` header. The
//! "before" side is what the state and the live status say now; the "after" side is what apply
//! leaves behind. Both sides line up instance by instance, so the diff is computed in small
//! aligned chunks: the result is the same as diffing the whole view, and it stays fast for
//! fleets of many thousands where every line changes.

use std::fmt::{self, Write};

use similar::{Algorithm, ChangeTag, DiffOp};

use super::{action_words, summary_line};
use crate::plan::{Action, Change, Plan, Restart};
use crate::secret::MASK;

/// Instances per diff chunk: small enough that the diff is cheap when every line differs.
const CHUNK: usize = 64;
/// Unchanged lines shown around each change.
const CONTEXT: usize = 3;

const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const CYAN: &str = "\x1b[36m";
const BOLD: &str = "\x1b[1m";
const PLAIN: &str = "\x1b[0m";

/// Renders the plan for a terminal; `colour` adds ANSI colours to the diff.
pub fn text(plan: &Plan, colour: bool) -> String {
    let mut output = String::new();
    write_text(&mut output, plan, colour).expect("writing to a String never fails");
    output
}

/// Writes the plan for a terminal piece by piece, so that a plan of many thousand instances
/// can go straight to stdout without being held whole in memory first.
pub fn write_text(output: &mut impl Write, plan: &Plan, colour: bool) -> fmt::Result {
    // The view goes before the details are written, so that it and the reasons are never
    // held at once.
    if ManagedView::of(plan).write_unified_diff(output, colour)? {
        output.write_char('\n')?;
    }
    write_details(output, plan)?;
    write_summary(output, plan, colour)
}

/// The before and after lines of every instance, aligned.
struct ManagedView {
    /// Pairs of (before, after) lines; a heading is the same on both sides.
    pairs: Vec<(Option<String>, Option<String>)>,
    /// For each before line, the index of the heading of its group.
    heading_of: Vec<usize>,
}

/// The columns of one instance's line.
struct Row<'a> {
    instance: &'a str,
    region: &'a str,
    name: &'a str,
    status: &'a str,
    generation: String,
    password: &'a str,
    note: String,
}

impl ManagedView {
    fn of(plan: &Plan) -> ManagedView {
        let rows: Vec<(Row<'_>, Option<Row<'_>>)> = plan
            .changes
            .iter()
            .map(|change| (before(change), after(change)))
            .collect();
        let widths = Widths::of(
            rows.iter()
                .flat_map(|(before, after)| std::iter::once(before).chain(after.as_ref())),
        );

        let mut pairs = Vec::with_capacity(rows.len() + 8);
        let mut heading_of = Vec::with_capacity(rows.len() + 8);
        let mut heading = None;
        for (change, (before, after)) in plan.changes.iter().zip(&rows) {
            let this = heading_for(change);
            if heading.as_ref() != Some(&this) {
                heading_of.push(pairs.len());
                pairs.push((Some(this.clone()), Some(this.clone())));
                heading = Some(this);
            }
            heading_of.push(heading_of.last().copied().unwrap_or_default());
            pairs.push((
                Some(widths.line(before)),
                after.as_ref().map(|after| widths.line(after)),
            ));
        }
        ManagedView { pairs, heading_of }
    }

    /// Writes the unified diff, or nothing when nothing changes; returns true if it wrote one.
    fn write_unified_diff(self, output: &mut impl Write, colour: bool) -> Result<bool, fmt::Error> {
        let old: Vec<&str> = self
            .pairs
            .iter()
            .filter_map(|(old, _)| old.as_deref())
            .collect();
        let new: Vec<&str> = self
            .pairs
            .iter()
            .filter_map(|(_, new)| new.as_deref())
            .collect();
        let hunks = similar::group_diff_ops(self.diff_ops(&old, &new), CONTEXT);
        if hunks.is_empty() {
            return Ok(false);
        }
        let (bold, plain) = if colour { (BOLD, PLAIN) } else { ("", "") };
        writeln!(output, "{bold}--- now (state and live status){plain}")?;
        writeln!(output, "{bold}+++ after apply{plain}")?;
        for hunk in &hunks {
            let heading = self.heading_before(hunk).map(|index| old[index]);
            write_hunk(output, hunk, &old, &new, heading, colour)?;
        }
        Ok(true)
    }

    /// The heading of the group a hunk starts in, when the hunk does not start at it: like the
    /// function name after a hunk header in a code diff, it keeps the wave and region in sight
    /// when a hunk starts deep inside a large group.
    fn heading_before(&self, hunk: &[DiffOp]) -> Option<usize> {
        let start = hunk.first()?.old_range().start;
        let heading = *self.heading_of.get(start)?;
        (heading != start).then_some(heading)
    }

    /// Diffs chunk by chunk: chunks start at the same instance on both sides, so no match is
    /// ever split across chunks.
    fn diff_ops(&self, old: &[&str], new: &[&str]) -> Vec<DiffOp> {
        let mut ops: Vec<DiffOp> = Vec::new();
        let (mut old_start, mut new_start) = (0, 0);
        for chunk in self.pairs.chunks(CHUNK) {
            let old_len = chunk.iter().filter(|(line, _)| line.is_some()).count();
            let new_len = chunk.iter().filter(|(_, line)| line.is_some()).count();
            let found = similar::capture_diff_slices(
                Algorithm::Myers,
                &old[old_start..old_start + old_len],
                &new[new_start..new_start + new_len],
            );
            for op in found {
                push_merged(&mut ops, shift(op, old_start, new_start));
            }
            old_start += old_len;
            new_start += new_len;
        }
        ops
    }
}

/// Moves an operation found in a chunk to its place in the whole view.
fn shift(op: DiffOp, old_offset: usize, new_offset: usize) -> DiffOp {
    match op {
        DiffOp::Equal {
            old_index,
            new_index,
            len,
        } => DiffOp::Equal {
            old_index: old_index + old_offset,
            new_index: new_index + new_offset,
            len,
        },
        DiffOp::Delete {
            old_index,
            old_len,
            new_index,
        } => DiffOp::Delete {
            old_index: old_index + old_offset,
            old_len,
            new_index: new_index + new_offset,
        },
        DiffOp::Insert {
            old_index,
            new_index,
            new_len,
        } => DiffOp::Insert {
            old_index: old_index + old_offset,
            new_index: new_index + new_offset,
            new_len,
        },
        DiffOp::Replace {
            old_index,
            old_len,
            new_index,
            new_len,
        } => DiffOp::Replace {
            old_index: old_index + old_offset,
            old_len,
            new_index: new_index + new_offset,
            new_len,
        },
    }
}

/// Joins runs of equal lines across chunk borders, so that hunks split where a whole diff would.
fn push_merged(ops: &mut Vec<DiffOp>, op: DiffOp) {
    if let (Some(DiffOp::Equal { len, .. }), DiffOp::Equal { len: more, .. }) = (ops.last_mut(), op)
    {
        *len += more;
        return;
    }
    ops.push(op);
}

fn write_hunk(
    output: &mut impl Write,
    hunk: &[DiffOp],
    old: &[&str],
    new: &[&str],
    heading: Option<&str>,
    colour: bool,
) -> fmt::Result {
    let header = similar::udiff::UnifiedHunkHeader::new(hunk);
    let heading = heading.map_or_else(String::new, |heading| format!(" {heading}"));
    if colour {
        writeln!(output, "{CYAN}{header}{PLAIN}{heading}")?;
    } else {
        writeln!(output, "{header}{heading}")?;
    }
    for op in hunk {
        for line in op.iter_changes(old, new) {
            let (sign, paint) = match line.tag() {
                ChangeTag::Equal => (' ', ""),
                ChangeTag::Delete => ('-', RED),
                ChangeTag::Insert => ('+', GREEN),
            };
            if colour && !paint.is_empty() {
                writeln!(output, "{paint}{sign}{}{PLAIN}", line.value())?;
            } else {
                writeln!(output, "{sign}{}", line.value())?;
            }
        }
    }
    Ok(())
}

fn heading_for(change: &Change) -> String {
    if change.action == Action::Forget {
        format!("# no longer declared, {}", change.region)
    } else {
        format!("# wave {}, {}", change.wave, change.region)
    }
}

fn before(change: &Change) -> Row<'_> {
    let status = match (change.status, change.action) {
        (Some(status), _) => status.as_str(),
        (None, Action::Forget) => "-",
        (None, _) => "not-found",
    };
    Row {
        instance: &change.instance,
        region: &change.region,
        name: change.name.as_deref().unwrap_or("-"),
        status,
        generation: generation(change.generation.from),
        password: if change.generation.from.is_some() {
            MASK
        } else {
            "-"
        },
        note: String::new(),
    }
}

fn after(change: &Change) -> Option<Row<'_>> {
    let mut row = before(change);
    match change.action {
        Action::None | Action::Blocked => {}
        Action::Forget => return None,
        Action::Reset | Action::Restart | Action::Wait => {
            row.generation = generation(change.generation.to);
            row.password = MASK;
            row.note = action_words(change);
            if change.restart != Restart::None {
                row.status = "Running";
            }
        }
    }
    Some(row)
}

fn generation(generation: Option<u64>) -> String {
    generation.map_or_else(|| "generation -".to_owned(), |g| format!("generation {g}"))
}

/// Column widths over every line, so the view lines up.
#[derive(Default)]
struct Widths {
    instance: usize,
    region: usize,
    name: usize,
    status: usize,
    generation: usize,
    password: usize,
}

impl Widths {
    fn of<'a, 'b: 'a>(rows: impl Iterator<Item = &'a Row<'b>>) -> Widths {
        let mut widths = Widths::default();
        for row in rows {
            widths.instance = widths.instance.max(row.instance.chars().count());
            widths.region = widths.region.max(row.region.chars().count());
            widths.name = widths.name.max(row.name.chars().count());
            widths.status = widths.status.max(row.status.len());
            widths.generation = widths.generation.max(row.generation.len());
            widths.password = widths.password.max(row.password.len());
        }
        widths
    }

    fn line(&self, row: &Row<'_>) -> String {
        let line = format!(
            "{:<w0$}  {:<w1$}  {:<w2$}  {:<w3$}  {:<w4$}  password {:<w5$}  {}",
            row.instance,
            row.region,
            row.name,
            row.status,
            row.generation,
            row.password,
            row.note,
            w0 = self.instance,
            w1 = self.region,
            w2 = self.name,
            w3 = self.status,
            w4 = self.generation,
            w5 = self.password,
        );
        line.trim_end().to_owned()
    }
}

/// Every change that does something or carries a warning, with its reason.
fn write_details(output: &mut impl Write, plan: &Plan) -> fmt::Result {
    let mut noteworthy = plan
        .changes
        .iter()
        .filter(|change| change.action != Action::None || !change.warnings.is_empty())
        .peekable();
    if noteworthy.peek().is_none() {
        return Ok(());
    }
    output.write_str("What apply does, and why:\n")?;
    for change in noteworthy {
        writeln!(
            output,
            "  {} ({}): {}: {}",
            change.instance,
            change.region,
            action_words(change),
            change.reason
        )?;
        for warning in &change.warnings {
            writeln!(output, "    warning: {warning}")?;
        }
    }
    output.write_char('\n')
}

fn write_summary(output: &mut impl Write, plan: &Plan, colour: bool) -> fmt::Result {
    let (bold, plain) = if colour { (BOLD, PLAIN) } else { ("", "") };
    if plan.has_changes() {
        writeln!(
            output,
            "{bold}Plan:{plain} {}.",
            summary_line(&plan.summary())
        )?;
    } else {
        writeln!(
            output,
            "{bold}No changes.{plain} The declared passwords are in effect on {} instance(s).",
            plan.changes.len()
        )?;
    }
    if plan.partial {
        output.write_str(
            "This plan is partial: it covers only the instances named with --target.\n",
        )?;
    }
    Ok(())
}
