//! The Excel reports end to end: a closed order and an open one, the
//! reports asked from `/reports`, each document opened with a reader and its
//! figures checked against the database; a master sees only their own.

use std::io::Cursor;
use std::time::Duration;

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};

use crate::staff::{accepted_by_petr, file_note, open_shop, Shop, MASTER_A};
use crate::support::DISPATCHER_ID;
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
