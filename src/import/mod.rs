//! `repair-bot import status-bot --from PATH [--dry-run]`: a shop switching
//! from the Python bot (Status_bot) brings its people, masters, clients,
//! orders, money and history over in one run, into whichever database this
//! bot uses. The source is read as one snapshot and never written; the
//! target is written in one transaction, checked figure by figure against
//! the source before it commits. A second run adds only what is new.

mod plan;
mod source;

use std::path::Path;

use jiff::tz::TimeZone;

use crate::config::Config;
use crate::domain::legacy;

/// Every this many orders, a progress line (a long import shows it is alive).
const PROGRESS_EVERY: usize = 1000;

/// Runs the import and prints its report line by line through `print`
/// (the operator's console, secrets scrubbed); `Ok(true)` when every
/// figure of the import agrees with the source.
pub async fn status_bot(
    config: &Config,
    print: &(dyn Fn(&str) + Sync),
    from: &Path,
    dry_run: bool,
    source_tz: &TimeZone,
) -> anyhow::Result<bool> {
    let snapshot = source::read(from).await?;
    print(&format!(
        "Status_bot {}: {}; {} users, {} masters, {} orders, {} history rows",
        from.display(),
        snapshot.schema,
        snapshot.users.len(),
        snapshot.masters.len(),
        snapshot.orders.len(),
        snapshot.history.len()
    ));
    let plan = plan::plan(
        &snapshot,
        source_tz,
        &config.shop_timezone,
        crate::clock::now_ms(),
    )?;
    for note in &plan.notes {
        print(&format!("! {note}"));
    }
    let db = crate::startup::open_database(config).await?;
    let total = plan.batch.orders.len();
    let outcome = db
        .import_legacy(
            &plan.batch,
            dry_run,
            |done| {
                if done % PROGRESS_EVERY == 0 {
                    print(&format!("… {done} of {total} orders written"));
                }
            },
            |conflicts, imported| {
                let source = plan::source_figures(&plan, conflicts);
                legacy::compare(&source, imported)
                    .iter()
                    .all(legacy::Line::agrees)
            },
        )
        .await;
    db.close().await;
    let outcome = outcome?;
    for number in &outcome.conflicts {
        print(&format!(
            "! order {number} changed both here and in the old bot since it was imported: kept as it is here"
        ));
    }
    if !outcome.worked_here.is_empty() {
        print(&format!(
            "{} orders worked on here since they were imported are kept as they are here and left out of the figures",
            outcome.worked_here.len()
        ));
    }
    let mut diverged = outcome.conflicts.clone();
    diverged.extend(&outcome.worked_here);
    let source = plan::source_figures(&plan, &diverged);
    let lines = legacy::compare(&source, &outcome.figures);
    let width = lines
        .iter()
        .map(|l| l.what.chars().count())
        .max()
        .unwrap_or(0);
    print(&format!("{:width$}  source → imported", "figure"));
    for line in &lines {
        let mark = if line.agrees() { '✓' } else { '✗' };
        let imported = if line.agrees() {
            "same".to_string()
        } else {
            line.imported.clone()
        };
        print(&format!(
            "{mark} {:width$}  {} → {imported}",
            line.what, line.source
        ));
    }
    let agrees = lines.iter().all(legacy::Line::agrees);
    let summary = format!(
        "{} orders new ({} keep their number), {} updated from the old bot, {} imported before; \
         {} roles and profiles, {} clients new",
        outcome.orders,
        outcome.kept_numbers,
        outcome.refreshed,
        outcome.already,
        outcome.people,
        outcome.clients
    );
    if !agrees {
        print(&format!(
            "✗ the figures differ: nothing was written ({summary})"
        ));
    } else if dry_run {
        print(&format!("✓ dry run, nothing written: {summary}"));
    } else if outcome.orders == 0 && outcome.refreshed == 0 && outcome.people == 0 {
        print(&format!(
            "✓ nothing new to import: all {} orders were imported before",
            outcome.already + outcome.conflicts.len() + outcome.worked_here.len()
        ));
    } else {
        print(&format!("✓ imported: {summary}"));
    }
    Ok(agrees)
}
