//! The Excel reports end to end: a closed order and an open one, the
//! reports asked from `/reports`, each document opened with a reader and its
//! figures checked against the database; a master sees only their own.

use std::io::Cursor;
use std::time::Duration;

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};

use crate::staff::{accepted_by_petr, file_note, open_shop, open_shop_with, Shop, MASTER_A};
use crate::support::{ADMIN_ID, DISPATCHER_ID};
use crate::{answer_money, open_db, CloseAnswers};

/// Waits for the `n`-th document sent to `chat` and opens it as a workbook.
async fn workbook(shop: &Shop, chat: i64, n: usize) -> (String, Xlsx<Cursor<Vec<u8>>>) {
    shop.env
        .fake
        .wait_until("a report document", Duration::from_secs(10), |f| {
            f.documents_to(chat).len() >= n
        })
        .await;
    let doc = shop.env.fake.documents_to(chat).remove(n - 1);
    let name = doc.file_name.clone().unwrap_or_default();
    let book = open_workbook_from_rs(Cursor::new(doc.bytes.clone())).expect("a real xlsx file");
    (name, book)
}

/// A sheet's cells, row by row.
fn rows(book: &mut Xlsx<Cursor<Vec<u8>>>, sheet: &str) -> Vec<Vec<Data>> {
    book.worksheet_range(sheet)
        .unwrap_or_else(|e| panic!("sheet {sheet}: {e}"))
        .rows()
        .map(|r| r.to_vec())
        .collect()
}

fn row_of<'a>(rows: &'a [Vec<Data>], first: &str) -> &'a [Data] {
    rows.iter()
        .find(|r| r.first().is_some_and(|c| *c == first))
        .unwrap_or_else(|| panic!("a row for {first} in {rows:?}"))
}

fn number(d: &Data) -> f64 {
    match d {
        Data::Float(f) => *f,
        Data::Int(i) => *i as f64,
        other => panic!("a number, not {other:?}"),
    }
}

#[tokio::test]
async fn excel_reports_match_the_database_and_a_master_gets_only_their_own() {
    let shop = open_shop().await;
    let client = shop.env.fake.user(5901, "Анна", "ru");
    let note = file_note(&shop, &client, 1).await;
    let m = accepted_by_petr(&shop, &note, 1).await;
    let master = &shop.master_a;
    master.press_button(&m, "На месте");
    let m = master.expect_text("Заявка №1: мастер на месте").await;
    master.press_button(&m, "Закрыть");
    master.expect_text("Что сделано по заявке №1").await;
    master.send_text("Заменил подшипник");
    master.expect_text("Сколько всего заплатил клиент").await;
    // Net 7 000 on a washing machine: 50/50.
    answer_money(
        master,
        1,
        CloseAnswers {
            total: "8000,50",
            materials: "1000,50",
            out_of_city: false,
            review: false,
        },
    )
    .await;
    master.expect_text("Заявка №1: закрыта").await;
    file_note(&shop, &client, 2).await;

    // The month's report, for the shop.
    shop.dispatcher.send_command("/reports");
    let menu = shop.dispatcher.expect_text("Отчёты Excel").await;
    shop.dispatcher.press_button(&menu, "За месяц");
    let (name, mut book) = workbook(&shop, DISPATCHER_ID, 1).await;
    assert!(
        name.starts_with("month_") && name.ends_with(".xlsx"),
        "{name}"
    );
    let db = open_db(&shop.env).await;
    let order = db.order(1).await.unwrap().unwrap();
    let money = order.money().unwrap();
    let totals: Vec<Vec<Data>> = rows(&mut book, "Итоги");
    assert_eq!(totals[0][0].to_string(), "Мастер");
    let petr = row_of(&totals, "Пётр");
    let expected = [
        1.0,
        money.total.as_roubles_f64(),
        money.materials.as_roubles_f64(),
        money.net().as_roubles_f64(),
        money.master.as_roubles_f64(),
        money.owed_to_company().as_roubles_f64(),
        money.total.as_roubles_f64(),
    ];
    let got: Vec<f64> = petr[1..8].iter().map(number).collect();
    assert_eq!(got, expected);
    assert_eq!((expected[3], expected[4]), (7000.0, 3500.0));
    assert!(petr[8].to_string().contains("Стиральн"), "{:?}", petr[8]);
    let ivan = row_of(&totals, "Иван");
    assert_eq!(number(&ivan[1]), 0.0);
    let sheet: Vec<Vec<Data>> = rows(&mut book, "Пётр");
    assert_eq!(number(&sheet[1][0]), 1.0);
    assert!(
        matches!(sheet[1][1], Data::DateTime(_)),
        "the closing time is a date: {:?}",
        sheet[1][1]
    );
    assert_eq!(number(&sheet[1][4]), 8000.5);
    let total_row = row_of(&sheet, "Итого");
    assert_eq!(number(&total_row[7]), 3500.0);

    // The open orders: one not assigned yet.
    shop.dispatcher.press_button(&menu, "Активные заявки");
    let (name, mut book) = workbook(&shop, DISPATCHER_ID, 2).await;
    assert!(name.starts_with("active_"), "{name}");
    let summary: Vec<Vec<Data>> = rows(&mut book, "Сводка");
    let nobody = row_of(&summary, "Без мастера");
    assert_eq!(number(nobody.last().unwrap()), 1.0);
    assert_eq!(number(row_of(&summary, "Пётр").last().unwrap()), 0.0);

    // A master's own: their sheet only, the same figures.
    master.send_command("/reports");
    let menu = master.expect_text("Ваши отчёты Excel").await;
    master.press_button(&menu, "За месяц");
    let (_, mut book) = workbook(&shop, MASTER_A, 1).await;
    assert_eq!(
        book.sheet_names(),
        vec!["Итоги".to_string(), "Пётр".to_string()]
    );
    let own: Vec<Vec<Data>> = rows(&mut book, "Итоги");
    assert_eq!(number(&row_of(&own, "Пётр")[5]), 3500.0);

    // A client may not have the reports, even with forged button data.
    client.send_command("/reports");
    client.expect_text("только").await;
}

/// `HH:MM:SS` in UTC, `ahead` seconds from now, waiting past midnight
/// first when that moment would fall on the next day.
async fn utc_time_in(ahead: u64) -> String {
    loop {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let of_day = secs % 86_400 + ahead;
        if of_day < 86_400 - 5 {
            return format!(
                "{:02}:{:02}:{:02}",
                of_day / 3600,
                of_day / 60 % 60,
                of_day % 60
            );
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

#[tokio::test]
async fn yesterdays_report_is_sent_once_to_the_staff_after_a_restart_with_the_sums_of_the_database()
{
    let due = utc_time_in(8).await;
    let mut shop = open_shop_with(|env| {
        env.set("SHOP_TIMEZONE", "UTC");
        env.set("REPORT_DAILY_AT", due.clone());
        env.set("REPORT_WEEKLY_AT", "off");
        env.set("REPORT_MONTHLY_AT", "off");
        env.set("DAILY_SUMMARY_AT", "off");
        env.set("BACKUP_AT", "off");
    })
    .await;
    // A shop with history: the Status_bot fixture, three of its closed
    // orders closed yesterday.
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/status_bot/bot_database.db");
    let import = crate::ops_support::run_cli(
        &shop.env,
        &["import", "status-bot", "--from", fixture.to_str().unwrap()],
    )
    .await;
    assert_eq!(import.code, Some(0), "{}", import.all());
    let today = jiff::tz::TimeZone::UTC
        .to_datetime(jiff::Timestamp::now())
        .date();
    let day_ms = |d: jiff::civil::Date| {
        jiff::tz::TimeZone::UTC
            .to_ambiguous_timestamp(d.to_datetime(jiff::civil::Time::midnight()))
            .compatible()
            .unwrap()
            .as_millisecond()
    };
    let yesterday = today.yesterday().unwrap();
    let (from, to) = (day_ms(yesterday), day_ms(today));
    let db = open_db(&shop.env).await;
    let pool = db.sqlite_pool().unwrap();
    sqlx::query(
        "UPDATE orders SET done_at = $1 WHERE id IN
            (SELECT id FROM orders WHERE status = 'closed' AND deleted_at IS NULL ORDER BY id LIMIT 3)",
    )
    .bind(from + 12 * 3_600_000)
    .execute(pool)
    .await
    .unwrap();
    // The job is planned once the bot runs; then the bot is down when it
    // falls due.
    // The pending daily report's due moment, once it is planned.
    let pending_due = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT due_at FROM jobs WHERE kind = 'report_day' AND done_at IS NULL",
        )
        .fetch_optional(pool)
        .await
        .unwrap()
    };
    let due_at = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Some(due_at) = pending_due().await {
                break due_at;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("the daily report is planned");
    assert!(shop
        .bot
        .stop_gracefully(Duration::from_secs(20))
        .await
        .success());
    let wait = u64::try_from(due_at + 500 - repair_bot::db::now_ms()).unwrap_or(0);
    assert!(wait < 20_000, "due within seconds: {wait} ms");
    tokio::time::sleep(Duration::from_millis(wait)).await;
    assert_eq!(
        pending_due().await,
        Some(due_at),
        "still pending while the bot was down"
    );
    assert!(shop.env.fake.documents_to(ADMIN_ID).is_empty());

    shop.bot = shop.env.start_bot().await;
    let (name, mut book) = workbook(&shop, ADMIN_ID, 1).await;
    assert_eq!(name, format!("day_{yesterday}.xlsx"));
    let sent = &shop.env.fake.documents_to(ADMIN_ID)[0];
    assert!(
        sent.caption
            .as_deref()
            .is_some_and(|c| c.contains(&format!("Отчёт за вчера, {yesterday}"))),
        "{:?}",
        sent.caption
    );
    // Every master's line is the database's sum of yesterday's closings.
    let expected: Vec<(String, i64, i64, i64)> = sqlx::query_as(
        "SELECT p.name, COUNT(*), SUM(o.total_kopecks), SUM(o.master_kopecks)
         FROM orders o JOIN people p ON p.user_id = o.master_id AND p.role = 'master'
         WHERE o.status = 'closed' AND o.deleted_at IS NULL AND o.done_at >= $1 AND o.done_at < $2
         GROUP BY p.name",
    )
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await
    .unwrap();
    assert!(!expected.is_empty());
    let totals = rows(&mut book, "Итоги");
    for (master, orders, total, share) in &expected {
        let row = row_of(&totals, master);
        assert_eq!(number(&row[1]), *orders as f64, "{master}");
        assert_eq!(number(&row[2]), *total as f64 / 100.0, "{master}");
        assert_eq!(number(&row[5]), *share as f64 / 100.0, "{master}");
    }
    // The dispatchers have it too, each once.
    workbook(&shop, DISPATCHER_ID, 1).await;

    // Another restart sends nothing again.
    assert!(shop
        .bot
        .stop_gracefully(Duration::from_secs(20))
        .await
        .success());
    shop.bot = shop.env.start_bot().await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(shop.env.fake.documents_to(ADMIN_ID).len(), 1);
    assert_eq!(shop.env.fake.documents_to(DISPATCHER_ID).len(), 1);
    db.close().await;
}
