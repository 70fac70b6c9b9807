//! The durable scheduler: fires due jobs (reminders, SLA escalations,
//! visit reminders, the daily summary) on the replica that holds the
//! outbox lease. The rules of each job are the domain's
//! ([`crate::domain::schedule`]); the database fires a job once, writing its
//! notifications in the transaction that marks it done; here its words are
//! put together and its recipients found. Late jobs (the bot was down) fire
//! at start-up.

use std::time::Duration;

use strum::VariantArray;
use tokio_util::sync::CancellationToken;

use crate::bot::output::outbox;
use crate::bot::ui::cards::{self, Rows};
use crate::bot::ui::labels::status_label;
use crate::bot::ui::texts::{Lang, Texts};
use crate::bot::BotContext;
use crate::db::{now_ms, Document, Fired, GroupCard, JobOutcome, Notification, Order, StatsDay};
use crate::domain::report::{Period, Scope};
use crate::domain::schedule::{self, DueJob, Firing, JobKind, OrderNow, Thresholds};
use crate::domain::{OrderStatus, Role};

/// How often due jobs are looked for: second-scale thresholds (tests,
/// small shops) are met within it.
const TICK: Duration = Duration::from_millis(500);
/// Jobs fired per look.
const BATCH: i64 = 50;
/// A firing the database refused is tried again this much later.
const RETRY_AFTER_MS: i64 = 30_000;

/// Fires due jobs until `stop`.
pub async fn run(ctx: BotContext, stop: CancellationToken) {
    let mut summary_planned = false;
    loop {
        if outbox::holds_lease(&ctx).await {
            if !summary_planned {
                summary_planned = plan_summary(&ctx).await;
            }
            fire_due(&ctx).await;
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(TICK) => {}
        }
    }
}

/// Stores the next daily summary (once: its key is its moment).
async fn plan_summary(ctx: &BotContext) -> bool {
    let (now, tz) = (jiff::Timestamp::now(), ctx.texts.time_zone());
    let th = &ctx.thresholds;
    let reports = Period::VARIANTS
        .iter()
        .filter_map(|p| schedule::next_report(*p, now, tz, th));
    let next: Vec<_> = schedule::next_summary(now, tz, th)
        .into_iter()
        .chain(schedule::next_backup(now, tz, th).filter(|_| ctx.backups.is_some()))
        .chain(reports)
        .collect();
    match ctx.db.schedule_jobs(&next).await {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(error = %e, "scheduler: cannot plan the daily summary; will try again");
            false
        }
    }
}

/// One look: every due job, fired.
pub async fn fire_due(ctx: &BotContext) {
    let jobs = match ctx.db.due_jobs(now_ms(), BATCH).await {
        Ok(jobs) => jobs,
        Err(e) => {
            tracing::warn!(error = %e, "scheduler: cannot read due jobs");
            return;
        }
    };
    let mut sent = false;
    for job in jobs {
        match fire_one(ctx, &job).await {
            Ok(Fired::Sent) => {
                sent = true;
                crate::metrics::job_fired(job.kind.into());
                tracing::info!(
                    job_id = job.id,
                    kind = <&str>::from(job.kind),
                    order_id = job.order_id,
                    round = job.round,
                    "scheduled job fired"
                );
            }
            Ok(Fired::NotSent | Fired::AlreadyDone) => {}
            Err(e) => {
                tracing::error!(job_id = job.id, error = %e, "scheduler: a job could not be fired; trying again later");
                if let Err(e) = ctx.db.retry_job(job.id, now_ms() + RETRY_AFTER_MS).await {
                    tracing::warn!(job_id = job.id, error = %e, "scheduler: cannot postpone a failed job");
                }
            }
        }
    }
    if sent {
        ctx.outbox.changed();
    }
}

/// What the notifications of a job need that the database transaction
/// cannot look up: recipients, names, the day's figures.
struct Audience {
    staff: Vec<i64>,
    admins: Vec<i64>,
    master_name: Option<String>,
    master_group: Option<i64>,
    summary: Option<String>,
    /// A scheduled report's file (its caption is `summary`).
    report: Option<Document>,
}

async fn audience(ctx: &BotContext, job: &DueJob) -> anyhow::Result<Audience> {
    let staff = ctx.staff_chats().await?;
    let mut admins: Vec<i64> = ctx.admin_ids.to_vec();
    admins.extend(
        ctx.db
            .people_with_role(Role::Admin)
            .await?
            .iter()
            .map(|p| p.user_id),
    );
    admins.sort_unstable();
    admins.dedup();
    let (master_name, master_group) = match job.master {
        Some(m) => (
            ctx.db
                .person_roles(m)
                .await?
                .into_iter()
                .map(|p| p.name)
                .find(|n| !n.is_empty()),
            ctx.db.group_of_master(m).await?.map(|g| g.chat_id),
        ),
        None => (None, None),
    };
    let mut report = None;
    let summary = match job.kind {
        JobKind::DailySummary => Some(summary_text(ctx).await?),
        JobKind::Backup => Some(backup_text(ctx).await),
        kind => match kind.report_period() {
            Some(period) => {
                let (caption, file) = scheduled_report(ctx, period, job.due_ms).await?;
                report = Some(file);
                Some(caption)
            }
            None => None,
        },
    };
    Ok(Audience {
        staff,
        admins,
        master_name,
        master_group,
        summary,
        report,
    })
}

/// The report of the whole `period` before the day `due_ms` falls on
/// (yesterday, last week, last month), shop-wide, and its caption.
async fn scheduled_report(
    ctx: &BotContext,
    period: Period,
    due_ms: i64,
) -> anyhow::Result<(String, Document)> {
    let t = &ctx.texts;
    let today = crate::bot::ui::labels::shop_date(t, due_ms);
    let (from, to) = period.previous(today);
    let bytes = crate::bot::handlers::period_report(ctx, Scope::Shop, from, to)
        .await
        .map_err(|e| anyhow::anyhow!("cannot build the {} report: {e}", <&str>::from(period)))?;
    let last = to.yesterday().unwrap_or(to);
    let key = match period {
        Period::Day => "report_scheduled_day",
        Period::Week => "report_scheduled_week",
        Period::Month => "report_scheduled_month",
    };
    let caption = t.fmt(Lang::Ru, key, &[("from", &from), ("to", &last)]);
    let name = crate::reports::period_file_name(period, from);
    Ok((caption, Document::new(name, &bytes)))
}

async fn fire_one(ctx: &BotContext, job: &DueJob) -> anyhow::Result<Fired> {
    let who = audience(ctx, job).await?;
    let now = jiff::Timestamp::now();
    let tz = ctx.texts.time_zone().clone();
    let th: &Thresholds = &ctx.thresholds;
    ctx.db
        .fire_job(job, |order| {
            let facts = order.map(|o| OrderNow {
                status: o.status,
                master: o.master_id,
                visit_from: o.visit_from,
                repair_due: o.repair_due_at,
            });
            match schedule::on_due(job, facts, now, &tz, th) {
                Firing::Moot => JobOutcome::Moot,
                Firing::Hold { until_ms } => JobOutcome::Hold(until_ms),
                Firing::Send { next } => JobOutcome::Send {
                    notes: notifications(&ctx.texts, th, job, order, &who),
                    next,
                },
            }
        })
        .await
}

/// A duration as staff read it: seconds below a minute, minutes below two
/// hours, hours after.
fn human(t: &Texts, lang: Lang, d: Duration) -> String {
    let s = d.as_secs();
    if s < 60 {
        t.fmt(lang, "dur_seconds", &[("n", &s)])
    } else if s < 7200 {
        t.fmt(lang, "minutes", &[("n", &(s / 60))])
    } else {
        t.fmt(lang, "dur_hours", &[("n", &(s / 3600))])
    }
}

fn to_each(chats: &[i64], text: &str, buttons: &Rows) -> Vec<Notification> {
    chats
        .iter()
        .map(|chat| Notification {
            chat_id: *chat,
            text: text.to_string(),
            buttons: buttons.clone(),
            card: None,
            document: None,
        })
        .collect()
}

/// The words and recipients of a due job.
fn notifications(
    t: &Texts,
    th: &Thresholds,
    job: &DueJob,
    order: Option<&Order>,
    who: &Audience,
) -> Vec<Notification> {
    let lang = Lang::Ru;
    let Some(o) = order else {
        return match (&who.summary, job.kind) {
            (Some(text), JobKind::DailySummary) => to_each(&who.staff, text, &Vec::new()),
            (Some(text), JobKind::Backup) => to_each(&who.admins, text, &Vec::new()),
            (Some(text), kind) if kind.report_period().is_some() => {
                let mut notes = to_each(&who.staff, text, &Vec::new());
                for note in &mut notes {
                    note.document = who.report.clone();
                }
                notes
            }
            _ => Vec::new(),
        };
    };
    let id = o.id;
    let waited = Duration::from_millis(u64::try_from(now_ms() - job.since_ms).unwrap_or(0));
    let round = (job.round, th.max_reminders);
    let master_name = who.master_name.clone().unwrap_or_else(|| "—".into());
    // A message for the order's master: into their work group as a fresh
    // card that mentions them, or into their private chat.
    let to_master = |text: String, buttons: Rows| -> Option<Notification> {
        let master = job.master?;
        Some(match who.master_group {
            Some(group) => Notification {
                chat_id: group,
                text: format!("{master_name}, {text}"),
                buttons,
                card: Some(GroupCard {
                    order_id: id,
                    mention: Some((master, master_name.clone())),
                    fresh: true,
                }),
                document: None,
            },
            None => Notification {
                chat_id: master,
                text,
                buttons,
                card: None,
                document: None,
            },
        })
    };
    match job.kind {
        JobKind::RemindUnassigned => {
            let text = t.fmt(
                lang,
                "remind_unassigned",
                &[
                    ("id", &id),
                    ("waited", &human(t, lang, waited)),
                    ("round", &round.0),
                    ("max", &round.1),
                ],
            );
            to_each(&who.staff, &text, &cards::staff_buttons(t, lang, o))
        }
        JobKind::RemindUnaccepted => {
            let card = cards::card_for_master(t, lang, o, who.master_name.as_deref());
            let text = t.fmt(
                lang,
                "remind_unaccepted_master",
                &[
                    ("id", &id),
                    ("round", &round.0),
                    ("max", &round.1),
                    ("card", &card),
                ],
            );
            let mut notes: Vec<Notification> = to_master(text, cards::master_buttons(t, lang, o))
                .into_iter()
                .collect();
            if let Some(by) = job.by.filter(|by| Some(*by) != job.master) {
                let text = t.fmt(
                    lang,
                    "remind_unaccepted_staff",
                    &[
                        ("id", &id),
                        ("master", &master_name),
                        ("waited", &human(t, lang, waited)),
                    ],
                );
                notes.extend(to_each(&[by], &text, &cards::staff_buttons(t, lang, o)));
            }
            notes
        }
        JobKind::SlaNew | JobKind::SlaAssigned | JobKind::SlaAccepted | JobKind::SlaOnSite => {
            let (limit, hint) = match job.kind {
                JobKind::SlaNew => (th.sla_new, "sla_hint_new"),
                JobKind::SlaAssigned => (th.sla_assigned, "sla_hint_assigned"),
                JobKind::SlaAccepted => (th.sla_accepted, "sla_hint_accepted"),
                _ => (th.sla_on_site, "sla_hint_on_site"),
            };
            let text = t.fmt(
                lang,
                "sla_alert",
                &[
                    ("id", &id),
                    ("status", &status_label(t, lang, o.status)),
                    ("limit", &human(t, lang, limit)),
                    ("master", &master_name),
                    ("hint", &t.get(lang, hint)),
                ],
            );
            to_each(&who.admins, &text, &cards::staff_buttons(t, lang, o))
        }
        JobKind::VisitReminder => {
            let card = cards::card_for_master(t, lang, o, who.master_name.as_deref());
            let text = t.fmt(
                lang,
                "visit_reminder",
                &[
                    ("id", &id),
                    ("visit", &cards::visit_of(t, lang, o)),
                    ("card", &card),
                ],
            );
            to_master(text, cards::master_buttons(t, lang, o))
                .into_iter()
                .collect()
        }
        JobKind::RepairDue => {
            let card = cards::card_for_master(t, lang, o, who.master_name.as_deref());
            let due = o.repair_due_text.clone().unwrap_or_default();
            let text = t.fmt(
                lang,
                "repair_due",
                &[("id", &id), ("due", &due), ("card", &card)],
            );
            let mut notes: Vec<Notification> =
                to_master(text.clone(), cards::master_buttons(t, lang, o))
                    .into_iter()
                    .collect();
            let staff_card = cards::card(t, lang, o, who.master_name.as_deref());
            let text = t.fmt(
                lang,
                "repair_due",
                &[("id", &id), ("due", &due), ("card", &staff_card)],
            );
            notes.extend(to_each(
                &who.staff,
                &text,
                &cards::staff_buttons(t, lang, o),
            ));
            notes
        }
        JobKind::DailySummary
        | JobKind::Backup
        | JobKind::ReportDay
        | JobKind::ReportWeek
        | JobKind::ReportMonth => Vec::new(),
    }
}

/// Takes the day's backup; what the admins are told of it.
async fn backup_text(ctx: &BotContext) -> String {
    let t = &ctx.texts;
    let Some((dir, keep)) = ctx.backups.as_deref() else {
        return t.get(Lang::Ru, "backup_off").to_string();
    };
    match crate::backup::take(&ctx.db, dir, *keep).await {
        Ok(taken) => t.fmt(
            Lang::Ru,
            "backup_done",
            &[
                ("file", &taken.path.display()),
                ("size", &format!("{:.1}", taken.bytes as f64 / 1_048_576.0)),
            ],
        ),
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "the daily backup failed");
            t.fmt(Lang::Ru, "backup_failed", &[("error", &format!("{e:#}"))])
        }
    }
}

/// The day's figures: orders filed today, open ones by status and by master.
async fn summary_text(ctx: &BotContext) -> anyhow::Result<String> {
    let (t, lang) = (&ctx.texts, Lang::Ru);
    let (date, from, to) = schedule::shop_day(jiff::Timestamp::now(), t.time_zone());
    let day = StatsDay {
        label: date.to_string(),
        from_ms: from.as_millisecond(),
        to_ms: to.as_millisecond(),
    };
    let stats = ctx.db.stats(&[day]).await?;
    let created: i64 = stats.by_day.iter().map(|(_, n)| n).sum();
    let open: Vec<String> = stats
        .by_status
        .iter()
        .filter_map(|(code, n)| {
            let status: OrderStatus = code.parse().ok()?;
            status
                .is_open()
                .then(|| format!("• {}: {n}", status_label(t, lang, status)))
        })
        .collect();
    let masters: Vec<String> = stats
        .by_master
        .iter()
        .filter(|(_, _, open, _)| *open > 0)
        .map(|(id, name, open, _)| {
            format!(
                "• {}: {open}",
                name.clone().unwrap_or_else(|| format!("id {id}"))
            )
        })
        .collect();
    let none = t.get(lang, "stats_none").to_string();
    let join = |lines: Vec<String>| {
        if lines.is_empty() {
            none.clone()
        } else {
            lines.join("\n")
        }
    };
    Ok(t.fmt(
        lang,
        "daily_summary",
        &[
            ("date", &date.strftime("%d.%m.%Y").to_string()),
            ("created", &created),
            ("open", &join(open)),
            ("masters", &join(masters)),
        ],
    ))
}
