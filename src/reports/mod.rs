//! The owner's Excel reports: open orders (a summary sheet and one sheet per
//! master) and each master's closed work over a day, a week or a month.
//! Numbers are stored as numbers, dates as dates, money with its format,
//! every sheet with a frozen header and an autofilter, so the owner can sort
//! and sum in Excel without retyping anything.

pub mod chart;
mod xlsx;

pub use xlsx::{active_orders, masters_period, ReportMaster};

/// The file name of the closed work of `period` starting `from`
/// (`month_2026-11-01.xlsx`): the same whether asked for or scheduled.
pub fn period_file_name(period: crate::domain::report::Period, from: jiff::civil::Date) -> String {
    let code: &str = period.into();
    format!("{code}_{from}.xlsx")
}
