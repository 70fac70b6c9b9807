//! The shop's reminders as rules: which jobs a change of an order creates
//! (an assignment: "remind the master if they do not accept"), when a due
//! job is moot (the order moved on), when quiet hours hold it, and what
//! comes after it (the next repetition, tomorrow's summary). Pure: the
//! database stores the jobs and fires each once; the bot says the words.

use std::time::Duration;

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use strum::{EnumString, IntoStaticStr, VariantArray};

use super::report::Period;
use super::{day_start, OrderStatus};

/// What a job does when it is due. The code is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumString, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum JobKind {
    /// The order is still `new`: remind admins and dispatchers.
    RemindUnassigned,
    /// The master has not accepted: remind them and the dispatcher.
    RemindUnaccepted,
    /// Escalations to admins, one per order and status.
    SlaNew,
    SlaAssigned,
    SlaAccepted,
    SlaOnSite,
    /// The master's visit is near.
    VisitReminder,
    /// The day's figures for admins and dispatchers.
    DailySummary,
    /// A long repair's due date: the master and the dispatchers.
    RepairDue,
    /// The daily backup; admins are told its size or its failure.
    Backup,
    /// Yesterday's Excel report for admins and dispatchers.
    ReportDay,
    /// Last week's, on Mondays.
    ReportWeek,
    /// Last month's, on the 1st.
    ReportMonth,
}

impl JobKind {
    /// Whether quiet hours hold it until morning (the escalations are
    /// urgent and are not held).
    pub fn held_in_quiet_hours(self) -> bool {
        !matches!(
            self,
            Self::SlaNew | Self::SlaAssigned | Self::SlaAccepted | Self::SlaOnSite | Self::Backup
        )
    }

    /// The status an order must still be in for the job to mean something.
    fn expected_status(self) -> Option<OrderStatus> {
        Some(match self {
            Self::RemindUnassigned | Self::SlaNew => OrderStatus::New,
            Self::RemindUnaccepted | Self::SlaAssigned => OrderStatus::Assigned,
            Self::SlaAccepted | Self::VisitReminder => OrderStatus::Accepted,
            Self::SlaOnSite => OrderStatus::OnSite,
            Self::RepairDue => OrderStatus::LongRepair,
            Self::DailySummary
            | Self::Backup
            | Self::ReportDay
            | Self::ReportWeek
            | Self::ReportMonth => return None,
        })
    }

    /// The period a scheduled report covers, for the report jobs.
    pub fn report_period(self) -> Option<Period> {
        match self {
            Self::ReportDay => Some(Period::Day),
            Self::ReportWeek => Some(Period::Week),
            Self::ReportMonth => Some(Period::Month),
            _ => None,
        }
    }

    /// One per order and status, ever (SLA alerts), rather than one per
    /// stay in that status.
    fn once_per_order(self) -> bool {
        matches!(
            self,
            Self::SlaNew | Self::SlaAssigned | Self::SlaAccepted | Self::SlaOnSite
        )
    }
}

/// A time-of-day window, e.g. 22:00–06:00 (it may wrap past midnight).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    pub from: Time,
    pub to: Time,
}

impl QuietHours {
    /// Reads `22:00-06:00`; `None` for a malformed value or an empty window.
    pub fn parse(text: &str) -> Option<Self> {
        let (from, to) = text.trim().split_once('-')?;
        let read = |s: &str| Time::strptime("%H:%M", s.trim()).ok();
        let (from, to) = (read(from)?, read(to)?);
        (from != to).then_some(Self { from, to })
    }

    /// Whether `at` (shop time) falls inside.
    pub fn contains(self, at: Time) -> bool {
        if self.from < self.to {
            self.from <= at && at < self.to
        } else {
            at >= self.from || at < self.to
        }
    }

    /// When the quiet hours around `now` end (shop time).
    fn end_after(self, now: DateTime) -> DateTime {
        let today_end = now.date().to_datetime(self.to);
        if today_end > now {
            today_end
        } else {
            now.date()
                .tomorrow()
                .map(|d| d.to_datetime(self.to))
                .unwrap_or(today_end)
        }
    }
}

/// The shop's thresholds (from the environment, see the config).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thresholds {
    pub unassigned_after: Duration,
    pub unaccepted_after: Duration,
    pub repeat: Duration,
    /// Reminders of one kind per stay in a status, the first included.
    pub max_reminders: u32,
    pub sla_new: Duration,
    pub sla_assigned: Duration,
    pub sla_accepted: Duration,
    pub sla_on_site: Duration,
    pub visit_before: Duration,
    /// When the daily summary goes out (shop time); `None`: never.
    pub summary_at: Option<Time>,
    /// When the daily backup is taken (shop time); `None`: never.
    pub backup_at: Option<Time>,
    /// When yesterday's report goes out (shop time); `None`: never.
    pub report_day_at: Option<Time>,
    /// When last week's report goes out on Mondays; `None`: never.
    pub report_week_at: Option<Time>,
    /// When last month's report goes out on the 1st; `None`: never.
    pub report_month_at: Option<Time>,
    pub quiet: Option<QuietHours>,
}

impl Default for Thresholds {
    fn default() -> Self {
        let min = |m: u64| Duration::from_secs(m * 60);
        Self {
            unassigned_after: min(15),
            unaccepted_after: min(15),
            repeat: min(15),
            max_reminders: 4,
            sla_new: min(120),
            sla_assigned: min(240),
            sla_accepted: min(480),
            sla_on_site: min(720),
            visit_before: min(120),
            summary_at: Some(Time::constant(21, 30, 0, 0)),
            backup_at: Some(Time::constant(3, 0, 0, 0)),
            report_day_at: Some(Time::constant(8, 0, 0, 0)),
            report_week_at: Some(Time::constant(9, 0, 0, 0)),
            report_month_at: Some(Time::constant(10, 0, 0, 0)),
            quiet: Some(QuietHours {
                from: Time::constant(22, 0, 0, 0),
                to: Time::constant(6, 0, 0, 0),
            }),
        }
    }
}

/// A job to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    pub kind: JobKind,
    /// `None` for a shop-wide job (the summary); for an order's job the
    /// database fills in the order (see [`NewJob::dedup_key`]).
    pub order_id: Option<i64>,
    pub due_ms: i64,
    /// 1 for the first reminder, 2 for its repetition...
    pub round: u32,
    /// When the order entered the status the job is about (ms): a second
    /// stay in the same status gets reminders of its own.
    pub since_ms: i64,
    /// The master the job is about (unaccepted, visit): another master
    /// makes it moot.
    pub master: Option<i64>,
    /// Who else hears of it (the dispatcher who assigned).
    pub by: Option<i64>,
    /// The visit start it was set for: a moved visit makes it moot.
    pub visit_from: Option<i64>,
}

impl NewJob {
    /// The key that makes a job unique, so that the same reminder is never
    /// stored (or sent) twice, whoever creates it and however often.
    pub fn dedup_key(&self, order_id: Option<i64>) -> String {
        let kind: &str = self.kind.into();
        match (order_id.or(self.order_id), self.kind) {
            (Some(order), k) if k.once_per_order() => format!("{kind}:{order}"),
            (Some(order), JobKind::VisitReminder | JobKind::RepairDue) => {
                format!("{kind}:{order}:{}", self.visit_from.unwrap_or(0))
            }
            (Some(order), _) => format!("{kind}:{order}:{}:{}", self.since_ms, self.round),
            (None, _) => format!("{kind}:{}", self.due_ms),
        }
    }

    /// The status the order must still be in.
    pub fn expected_status(&self) -> Option<OrderStatus> {
        self.kind.expected_status()
    }
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// The jobs an order gets on entering `status` at `now_ms` (filed, given
/// to `master` by `by`, accepted...). `visit_from` is the visit's start,
/// when one was understood.
pub fn jobs_on_entering(
    status: OrderStatus,
    master: Option<i64>,
    by: Option<i64>,
    visit_from: Option<i64>,
    now_ms: i64,
    th: &Thresholds,
) -> Vec<NewJob> {
    let job = |kind, after: Duration| NewJob {
        kind,
        order_id: None,
        due_ms: now_ms.saturating_add(ms(after)),
        round: 1,
        since_ms: now_ms,
        master,
        by,
        visit_from: None,
    };
    match status {
        OrderStatus::New => vec![
            job(JobKind::RemindUnassigned, th.unassigned_after),
            job(JobKind::SlaNew, th.sla_new),
        ],
        OrderStatus::Assigned => vec![
            job(JobKind::RemindUnaccepted, th.unaccepted_after),
            job(JobKind::SlaAssigned, th.sla_assigned),
        ],
        OrderStatus::Accepted => {
            let mut jobs = vec![job(JobKind::SlaAccepted, th.sla_accepted)];
            jobs.extend(visit_reminder(master, visit_from, now_ms, th));
            jobs
        }
        OrderStatus::OnSite => vec![job(JobKind::SlaOnSite, th.sla_on_site)],
        _ => Vec::new(),
    }
}

/// The reminder before a visit starting at `visit_from`, unless that
/// moment has already passed.
pub fn visit_reminder(
    master: Option<i64>,
    visit_from: Option<i64>,
    now_ms: i64,
    th: &Thresholds,
) -> Option<NewJob> {
    let start = visit_from?;
    let due = start.saturating_sub(ms(th.visit_before)).max(now_ms);
    (start > now_ms).then_some(NewJob {
        kind: JobKind::VisitReminder,
        order_id: None,
        due_ms: due,
        round: 1,
        since_ms: now_ms,
        master,
        by: None,
        visit_from: Some(start),
    })
}

/// When a long repair due on `due` is reminded of: its time when one was
/// named, else the morning of that day (09:00 shop time), not midnight.
pub fn repair_due_at(due: &super::Visit, tz: &TimeZone) -> Timestamp {
    match due.window {
        super::Window::Any => tz
            .to_ambiguous_timestamp(due.date.to_datetime(Time::constant(9, 0, 0, 0)))
            .compatible()
            .unwrap_or_else(|_| due.starts_at(tz)),
        _ => due.starts_at(tz),
    }
}

/// The reminder of a long repair due at `due_ms` (at once if that moment
/// is already over: the master said "today").
pub fn repair_due(master: Option<i64>, due_ms: i64, now_ms: i64) -> NewJob {
    NewJob {
        kind: JobKind::RepairDue,
        order_id: None,
        due_ms: due_ms.max(now_ms),
        round: 1,
        since_ms: now_ms,
        master,
        by: None,
        // The moment it was set for: a new due date makes it moot.
        visit_from: Some(due_ms),
    }
}

/// The next daily summary after `now` (shop time), if there is one.
pub fn next_summary(now: Timestamp, tz: &TimeZone, th: &Thresholds) -> Option<NewJob> {
    next_daily(JobKind::DailySummary, th.summary_at?, now, tz)
}

/// The next daily backup after `now` (shop time), if there is one.
pub fn next_backup(now: Timestamp, tz: &TimeZone, th: &Thresholds) -> Option<NewJob> {
    next_daily(JobKind::Backup, th.backup_at?, now, tz)
}

/// The next scheduled report of `period` after `now` (shop time): daily,
/// on Mondays, on the 1st, at the configured time; `None` when it is off.
pub fn next_report(
    period: Period,
    now: Timestamp,
    tz: &TimeZone,
    th: &Thresholds,
) -> Option<NewJob> {
    let (kind, at, day_fits): (JobKind, Option<Time>, fn(Date) -> bool) = match period {
        Period::Day => (JobKind::ReportDay, th.report_day_at, |_| true),
        Period::Week => (JobKind::ReportWeek, th.report_week_at, |d| {
            d.weekday() == jiff::civil::Weekday::Monday
        }),
        Period::Month => (JobKind::ReportMonth, th.report_month_at, |d| d.day() == 1),
    };
    next_at(kind, at?, day_fits, now, tz)
}

/// A shop-wide job at `at` shop time, the next time that comes.
fn next_daily(kind: JobKind, at: Time, now: Timestamp, tz: &TimeZone) -> Option<NewJob> {
    next_at(kind, at, |_| true, now, tz)
}

/// A shop-wide job at `at` shop time on the next day that fits (today if
/// that time is still ahead).
fn next_at(
    kind: JobKind,
    at: Time,
    day_fits: fn(Date) -> bool,
    now: Timestamp,
    tz: &TimeZone,
) -> Option<NewJob> {
    let local = tz.to_datetime(now);
    let mut day = local.date();
    if day.to_datetime(at) <= local {
        day = day.tomorrow().ok()?;
    }
    // A month holds every weekday and a first day.
    for _ in 0..32 {
        if day_fits(day) {
            break;
        }
        day = day.tomorrow().ok()?;
    }
    let due = tz
        .to_ambiguous_timestamp(day.to_datetime(at))
        .compatible()
        .ok()?;
    Some(NewJob {
        kind,
        order_id: None,
        due_ms: due.as_millisecond(),
        round: 1,
        since_ms: 0,
        master: None,
        by: None,
        visit_from: None,
    })
}

/// A stored job that is due: the job as it was stored, and its row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueJob {
    pub id: i64,
    pub job: NewJob,
}

/// A due job reads as the job it is (`due.kind`, `due.master`...).
impl std::ops::Deref for DueJob {
    type Target = NewJob;

    fn deref(&self) -> &NewJob {
        &self.job
    }
}

/// The order as a due job sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderNow {
    pub status: OrderStatus,
    pub master: Option<i64>,
    pub visit_from: Option<i64>,
    /// A long repair's due moment.
    pub repair_due: Option<i64>,
}

/// What to do with a due job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Firing {
    /// Its reason is gone (the order moved on, another master, the visit
    /// moved): done, nothing sent.
    Moot,
    /// Quiet hours: due again at this moment (ms).
    Hold { until_ms: i64 },
    /// Send it; then store `next` (a repetition, tomorrow's summary).
    Send { next: Option<NewJob> },
}

/// Decides a due job at `now`, `order` being its order as it is now
/// (`None`: a shop-wide job, or the order is gone).
pub fn on_due(
    job: &DueJob,
    order: Option<OrderNow>,
    now: Timestamp,
    tz: &TimeZone,
    th: &Thresholds,
) -> Firing {
    if let Some(expected) = job.kind.expected_status() {
        let Some(order) = order else {
            return Firing::Moot;
        };
        let wrong_master = job.master.is_some() && order.master != job.master;
        let moved_visit = match job.kind {
            JobKind::VisitReminder => order.visit_from != job.visit_from,
            JobKind::RepairDue => order.repair_due != job.visit_from,
            _ => false,
        };
        if order.status != expected || wrong_master || moved_visit {
            return Firing::Moot;
        }
    }
    let local = tz.to_datetime(now);
    if let Some(quiet) = th
        .quiet
        .filter(|q| job.kind.held_in_quiet_hours() && q.contains(local.time()))
    {
        let end = quiet.end_after(local);
        let until = tz
            .to_ambiguous_timestamp(end)
            .compatible()
            .map(|t| t.as_millisecond())
            .unwrap_or(job.due_ms);
        return Firing::Hold { until_ms: until };
    }
    let now_ms = now.as_millisecond();
    let next = match job.kind {
        JobKind::RemindUnassigned | JobKind::RemindUnaccepted if job.round < th.max_reminders => {
            Some(NewJob {
                kind: job.kind,
                order_id: job.order_id,
                due_ms: now_ms.saturating_add(ms(th.repeat)),
                round: job.round + 1,
                since_ms: job.since_ms,
                master: job.master,
                by: job.by,
                visit_from: None,
            })
        }
        JobKind::DailySummary => next_summary(now, tz, th),
        JobKind::Backup => next_backup(now, tz, th),
        JobKind::ReportDay => next_report(Period::Day, now, tz, th),
        JobKind::ReportWeek => next_report(Period::Week, now, tz, th),
        JobKind::ReportMonth => next_report(Period::Month, now, tz, th),
        _ => None,
    };
    Firing::Send { next }
}

/// The shop day `now` falls on, and its bounds (for the summary's "today").
pub fn shop_day(now: Timestamp, tz: &TimeZone) -> (Date, Timestamp, Timestamp) {
    let date = tz.to_datetime(now).date();
    let next = date.tomorrow().unwrap_or(date);
    (date, day_start(date, tz), day_start(next, tz))
}

#[cfg(test)]
mod tests;
