//! Laying the reports out with `rust_xlsxwriter`.

use jiff::tz::TimeZone;
use jiff::Timestamp;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet, XlsxError};

use crate::db::Order;
use crate::domain::report::{ClosedJob, MasterTotals};
use crate::domain::{Money, OrderStatus};

/// A master as a report names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportMaster {
    /// `None`: the orders nobody has (open ones not assigned yet).
    pub id: Option<i64>,
    pub name: String,
}

struct Formats {
    header: Format,
    money: Format,
    date: Format,
    bold_money: Format,
}

impl Formats {
    fn new() -> Self {
        Self {
            header: Format::new().set_bold().set_background_color("#DDEBF7"),
            money: Format::new().set_num_format("#,##0.00\\ \"₽\""),
            date: Format::new().set_num_format("dd.mm.yyyy hh:mm"),
            bold_money: Format::new().set_bold().set_num_format("#,##0.00\\ \"₽\""),
        }
    }
}

/// A sheet name Excel accepts: at most 31 characters, none of `[]:*?/\`,
/// unique in the book (a number added when two masters share a name).
fn sheet_name(wanted: &str, taken: &mut Vec<String>) -> String {
    let clean: String = wanted
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { ' ' } else { c })
        .collect();
    let base: String = clean.trim().chars().take(28).collect();
    let base = if base.is_empty() {
        "—".to_string()
    } else {
        base
    };
    let mut name = base.clone();
    let mut n = 2;
    while taken.iter().any(|t| t.eq_ignore_ascii_case(&name)) {
        name = format!("{base} {n}");
        n += 1;
    }
    taken.push(name.clone());
    name
}

fn shop_datetime(ms: i64, tz: &TimeZone) -> Option<ExcelDateTime> {
    let local = tz.to_datetime(Timestamp::from_millisecond(ms).ok()?);
    ExcelDateTime::from_ymd(
        u16::try_from(local.year()).ok()?,
        u8::try_from(local.month()).ok()?,
        u8::try_from(local.day()).ok()?,
    )
    .ok()?
    .and_hms(
        u16::from(u8::try_from(local.hour()).ok()?),
        u8::try_from(local.minute()).ok()?,
        u8::try_from(local.second()).ok()?,
    )
    .ok()
}

fn header(ws: &mut Worksheet, f: &Formats, titles: &[&str]) -> Result<(), XlsxError> {
    for (col, title) in titles.iter().enumerate() {
        ws.write_string_with_format(0, col as u16, *title, &f.header)?;
        ws.set_column_width(col as u16, 14)?;
    }
    ws.set_freeze_panes(1, 0)?;
    Ok(())
}

fn finish(ws: &mut Worksheet, rows: u32, cols: u16) -> Result<(), XlsxError> {
    ws.autofilter(0, 0, rows.max(1), cols - 1)?;
    Ok(())
}

fn money_cell(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    m: Option<Money>,
    f: &Format,
) -> Result<(), XlsxError> {
    match m {
        Some(m) => ws
            .write_number_with_format(row, col, m.as_roubles_f64(), f)
            .map(drop),
        None => Ok(()),
    }
}

/// Open orders: a summary (per master, how many in each open status) and a
/// sheet per master with their orders. `label` names a status or an
/// equipment kind in the shop's language.
pub fn active_orders(
    orders: &[Order],
    masters: &[ReportMaster],
    status_label: &dyn Fn(OrderStatus) -> String,
    equipment_label: &dyn Fn(crate::domain::ApplianceKind) -> String,
    tz: &TimeZone,
) -> Result<Vec<u8>, XlsxError> {
    let f = Formats::new();
    let mut book = Workbook::new();
    let statuses: Vec<OrderStatus> = crate::domain::StatusGroup::Open.statuses();
    let mut taken = Vec::new();
    {
        let ws = book.add_worksheet();
        ws.set_name(sheet_name("Сводка", &mut taken))?;
        let mut titles = vec!["Мастер".to_string()];
        titles.extend(statuses.iter().map(|s| status_label(*s)));
        titles.push("Всего".into());
        let titles: Vec<&str> = titles.iter().map(String::as_str).collect();
        header(ws, &f, &titles)?;
        ws.set_column_width(0, 24)?;
        let mut row = 0;
        for master in masters {
            row += 1;
            ws.write_string(row, 0, &master.name)?;
            let mine: Vec<&Order> = orders.iter().filter(|o| o.master_id == master.id).collect();
            for (col, status) in statuses.iter().enumerate() {
                let n = mine.iter().filter(|o| o.status == *status).count();
                ws.write_number(row, col as u16 + 1, n as f64)?;
            }
            ws.write_number(row, statuses.len() as u16 + 1, mine.len() as f64)?;
        }
        finish(ws, row, titles.len() as u16)?;
    }
    for master in masters {
        let ws = book.add_worksheet();
        ws.set_name(sheet_name(&master.name, &mut taken))?;
        let titles = [
            "№",
            "Создана",
            "Статус",
            "Техника",
            "Клиент",
            "Адрес",
            "Телефон",
            "Визит",
        ];
        header(ws, &f, &titles)?;
        let mut row = 0;
        for o in orders.iter().filter(|o| o.master_id == master.id) {
            row += 1;
            ws.write_number(row, 0, o.id as f64)?;
            if let Some(at) = shop_datetime(o.created_at, tz) {
                ws.write_datetime_with_format(row, 1, &at, &f.date)?;
            }
            ws.write_string(row, 2, status_label(o.status))?;
            ws.write_string(row, 3, equipment_label(o.equipment))?;
            ws.write_string(row, 4, &o.client_name)?;
            ws.write_string(row, 5, &o.address)?;
            ws.write_string(row, 6, &o.phone)?;
            ws.write_string(row, 7, &o.visit_time)?;
        }
        finish(ws, row, titles.len() as u16)?;
    }
    book.save_to_buffer()
}

/// Each master's closed orders in a period: one sheet per master with a row
/// per order and a totals row, and a summary sheet with the figures the
/// owner settles with (orders, totals, materials, net, the master's share,
/// what they hand over, the average check) and the equipment mix.
pub fn masters_period(
    title: &str,
    orders: &[Order],
    masters: &[ReportMaster],
    equipment_label: &dyn Fn(crate::domain::ApplianceKind) -> String,
    tz: &TimeZone,
) -> Result<Vec<u8>, XlsxError> {
    let f = Formats::new();
    let mut book = Workbook::new();
    let mut taken = Vec::new();
    let job = |o: &Order| ClosedJob {
        equipment: o.equipment,
        money: o.money(),
        total: o.total().unwrap_or_default(),
    };
    {
        let ws = book.add_worksheet();
        ws.set_name(sheet_name("Итоги", &mut taken))?;
        let titles = [
            "Мастер",
            "Заявок",
            "Сумма",
            "Материалы",
            "Чистыми",
            "Мастеру",
            "Сдать в кассу",
            "Средний чек",
            "Техника",
        ];
        header(ws, &f, &titles)?;
        ws.set_column_width(0, 24)?;
        ws.set_column_width(8, 40)?;
        let mut row = 0;
        for master in masters {
            let jobs: Vec<ClosedJob> = orders
                .iter()
                .filter(|o| o.master_id == master.id)
                .map(job)
                .collect();
            let t = MasterTotals::of(&jobs);
            row += 1;
            ws.write_string(row, 0, &master.name)?;
            ws.write_number(row, 1, f64::from(t.orders))?;
            for (col, m) in [
                t.total,
                t.materials,
                t.net,
                t.master,
                t.owed,
                t.average_check(),
            ]
            .into_iter()
            .enumerate()
            {
                money_cell(ws, row, col as u16 + 2, Some(m), &f.money)?;
            }
            let mix: Vec<String> = t
                .by_equipment
                .iter()
                .map(|(kind, n)| format!("{}: {n}", equipment_label(*kind)))
                .collect();
            ws.write_string(row, 8, mix.join(", "))?;
        }
        finish(ws, row, titles.len() as u16)?;
        ws.write_string(row + 2, 0, title)?;
    }
    for master in masters {
        let ws = book.add_worksheet();
        ws.set_name(sheet_name(&master.name, &mut taken))?;
        let titles = [
            "№",
            "Закрыта",
            "Техника",
            "Клиент",
            "Сумма",
            "Материалы",
            "Чистыми",
            "Мастеру",
            "Компании",
            "% мастера",
            "За городом",
            "Отзыв",
        ];
        header(ws, &f, &titles)?;
        let mut row = 0;
        let mine: Vec<&Order> = orders.iter().filter(|o| o.master_id == master.id).collect();
        for o in &mine {
            row += 1;
            let m = o.money();
            ws.write_number(row, 0, o.id as f64)?;
            if let Some(at) = o.done_at.and_then(|ms| shop_datetime(ms, tz)) {
                ws.write_datetime_with_format(row, 1, &at, &f.date)?;
            }
            ws.write_string(row, 2, equipment_label(o.equipment))?;
            ws.write_string(row, 3, &o.client_name)?;
            money_cell(ws, row, 4, o.total(), &f.money)?;
            money_cell(ws, row, 5, m.map(|m| m.materials), &f.money)?;
            money_cell(ws, row, 6, m.map(|m| m.net()), &f.money)?;
            money_cell(ws, row, 7, m.map(|m| m.master), &f.money)?;
            money_cell(ws, row, 8, m.map(|m| m.company), &f.money)?;
            if let Some(m) = m {
                ws.write_number(row, 9, f64::from(m.master_percent))?;
                ws.write_boolean(row, 10, m.out_of_city)?;
                ws.write_boolean(row, 11, m.review)?;
            }
        }
        finish(ws, row, titles.len() as u16)?;
        let jobs: Vec<ClosedJob> = mine.iter().map(|o| job(o)).collect();
        let t = MasterTotals::of(&jobs);
        let totals = row + 1;
        ws.write_string_with_format(totals, 0, "Итого", &f.header)?;
        for (col, m) in [
            (4, t.total),
            (5, t.materials),
            (6, t.net),
            (7, t.master),
            (8, t.owed),
        ] {
            money_cell(ws, totals, col, Some(m), &f.bold_money)?;
        }
    }
    book.save_to_buffer()
}
