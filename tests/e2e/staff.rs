//! The staff side end to end: a client, two dispatchers, two masters and an
//! admin working orders through the fake Bot API.

use std::time::Duration;

use crate::support::{TestEnv, TestUser, ADMIN_ID, DISPATCHER_ID};
use crate::{answer_money, fill_order, open_db, test_env, CloseAnswers};
use repair_bot::domain::OrderStatus;

pub const MASTER_A: i64 = 3001;
pub const MASTER_B: i64 = 3002;
const DISPATCHER_2: i64 = 2002;

pub struct Shop {
    pub env: TestEnv,
    pub bot: crate::support::BotProcess,
    pub admin: TestUser,
    pub dispatcher: TestUser,
    pub dispatcher2: TestUser,
    pub master_a: TestUser,
    pub master_b: TestUser,
}

/// A client files an order through the bot; the dispatcher's note of it.
pub async fn file_note(shop: &Shop, client: &TestUser, n: i64) -> crate::support::BotMessage {
    let summary = fill_order(client).await;
    client.press_button(&summary, "Подтвердить");
    shop.dispatcher
        .expect_text(&format!("Новая заявка №{n}"))
        .await
}

/// The dispatcher gives order `n` (from its note) to Пётр.
pub async fn assign_to_petr(shop: &Shop, note: &crate::support::BotMessage, n: i64) {
    shop.dispatcher.press_button(note, "Назначить");
    let choose = shop
        .dispatcher
        .expect_text(&format!("Кому назначить заявку №{n}"))
        .await;
    shop.dispatcher.press_button(&choose, "Пётр");
}

/// ... and Пётр accepts it: his "accepted" message, with the next buttons.
pub async fn accepted_by_petr(
    shop: &Shop,
    note: &crate::support::BotMessage,
    n: i64,
) -> crate::support::BotMessage {
    assign_to_petr(shop, note, n).await;
    let job = shop
        .master_a
        .expect_text(&format!("Вам назначена заявка №{n}"))
        .await;
    shop.master_a.press_button(&job, "Принять");
    shop.master_a
        .expect_text(&format!("Заявка №{n}: мастер принял"))
        .await
}

pub async fn open_shop() -> Shop {
    open_shop_with(|_| {}).await
}

/// [`open_shop`] with the environment adjusted first (thresholds, say).
pub async fn open_shop_with(configure: impl FnOnce(&mut TestEnv)) -> Shop {
    let mut env = test_env().await;
    configure(&mut env);
    let bot = env.start_bot().await;
    let admin = env.fake.user(ADMIN_ID, "Админ", "ru");
    let dispatcher = env.fake.user(DISPATCHER_ID, "Диспетчер", "ru");
    let dispatcher2 = env.fake.user(DISPATCHER_2, "Диспетчер2", "ru");
    let master_a = env.fake.user(MASTER_A, "Пётр", "ru");
    let master_b = env.fake.user(MASTER_B, "Иван", "ru");
    admin.send_command(&format!("/add_dispatcher {DISPATCHER_2} Ольга"));
    admin
        .expect_text("Диспетчер Ольга (id 2002) добавлен")
        .await;
    dispatcher.send_command(&format!("/add_master {MASTER_A} Пётр"));
    dispatcher
        .expect_text("Мастер Пётр (id 3001) добавлен")
        .await;
    dispatcher.send_command(&format!("/add_master {MASTER_B} Иван"));
    dispatcher
        .expect_text("Мастер Иван (id 3002) добавлен")
        .await;
    master_a.expect_text("Вас добавили мастером").await;
    dispatcher2.expect_text("Вас добавили диспетчером").await;
    Shop {
        env,
        bot,
        admin,
        dispatcher,
        dispatcher2,
        master_a,
        master_b,
    }
}

async fn file_order(client: &TestUser, number: i64) {
    let summary = fill_order(client).await;
    client.press_button(&summary, "Подтвердить");
    client
        .expect_text(&format!("Заявка №{number} принята"))
        .await;
}

#[tokio::test]
async fn full_lifecycle_from_order_to_rating() {
    let shop = open_shop().await;
    let client = shop.env.fake.user(5001, "Анна", "ru");
    file_order(&client, 1).await;

    // Dispatcher assigns from the new-order notification.
    let note = shop.dispatcher.expect_text("Новая заявка №1").await;
    shop.dispatcher.press_button(&note, "Назначить мастера");
    let choose = shop
        .dispatcher
        .expect_text("Кому назначить заявку №1")
        .await;
    shop.dispatcher.press_button(&choose, "Пётр");
    shop.dispatcher
        .expect_text("Заявка №1 назначена мастеру Пётр")
        .await;
    client.expect_text("назначен мастер: Пётр").await;

    // The master works it through every status.
    let job = shop.master_a.expect_text("Вам назначена заявка №1").await;
    // The shop's privacy: the phone once on site, the flat once accepted.
    assert!(
        job.text.contains("+7 *** ***-45-67") && !job.text.contains("кв. 42"),
        "the master sees the phone masked: {}",
        job.text
    );
    shop.master_a.press_button(&job, "Принять");
    client
        .expect_text("Мастер Пётр принял вашу заявку №1")
        .await;
    // The dispatcher sees that the master saw it.
    shop.dispatcher
        .expect_text("Заявка №1: мастер принял (мастер Пётр)")
        .await;
    let m = shop.master_a.expect_text("Заявка №1: мастер принял").await;
    assert!(!m.button_texts().iter().any(|b| b.contains("Принять")));
    shop.master_a.press_button(&m, "На месте");
    client.expect_text("мастер на месте").await;
    let m = shop
        .master_a
        .expect_text("Заявка №1: мастер на месте")
        .await;
    shop.master_a.send_command("/my_jobs");
    let on_site = shop
        .master_a
        .expect_text("Заявка №1 · мастер на месте")
        .await;
    assert!(
        on_site.text.contains("+79991234567") && on_site.text.contains("кв. 42"),
        "on site the master sees it all: {}",
        on_site.text
    );
    shop.master_a.press_button(&m, "Длительный ремонт");
    // The terms: a day (free words refused), parts, the agreed price, a
    // prepayment (not above the price).
    shop.master_a
        .expect_text("К какому сроку будет готово")
        .await;
    shop.master_a.send_text("когда придут");
    shop.master_a
        .expect_text("К какому сроку будет готово")
        .await;
    shop.master_a.send_text("через неделю");
    shop.master_a.expect_text("Какие запчасти нужны").await;
    shop.master_a.send_text("Сливной насос Askoll");
    shop.master_a
        .expect_text("Стоимость, согласованная с клиентом")
        .await;
    shop.master_a.send_text("4 500");
    shop.master_a.expect_text("Клиент внёс предоплату").await;
    shop.master_a.send_text("5000");
    shop.master_a
        .expect_text("Предоплата не может быть больше")
        .await;
    shop.master_a.send_text("2000,50");
    client.expect_text("длительный ремонт").await;
    let staff_note = shop
        .dispatcher
        .expect_text("Заявка №1: длительный ремонт")
        .await;
    for term in [
        "Длительный ремонт до через неделю",
        "Запчасти: Сливной насос Askoll",
        "Согласовано: 4\u{a0}500\u{a0}₽ · предоплата: 2\u{a0}000,50\u{a0}₽",
    ] {
        assert!(
            staff_note.text.contains(term),
            "{term} in {}",
            staff_note.text
        );
    }
    {
        let db = open_db(&shop.env).await;
        let o = db.order(1).await.unwrap().unwrap();
        assert_eq!(
            (
                o.repair_price_kopecks,
                o.prepayment_kopecks,
                o.repair_parts.as_deref()
            ),
            (Some(450_000), Some(200_050), Some("Сливной насос Askoll"))
        );
        let week = o.repair_due_at.unwrap() - o.updated_at;
        assert!(
            (6 * 86_400_000..=8 * 86_400_000).contains(&week),
            "due in a week: {week} ms"
        );
    }
    let m = shop
        .master_a
        .expect_text("Заявка №1: длительный ремонт")
        .await;
    shop.master_a.press_button(&m, "Снова на месте");
    client.expect_text("мастер продолжает работу").await;
    let m = shop
        .master_a
        .expect_text("Заявка №1: мастер на месте")
        .await;
    shop.master_a.press_button(&m, "Закрыть");
    shop.master_a.expect_text("Что сделано по заявке №1").await;
    shop.master_a.send_text("Заменил сливной насос");
    shop.master_a
        .expect_text("Сколько всего заплатил клиент по заявке №1")
        .await;
    shop.master_a.send_text("три тысячи");
    shop.master_a.expect_text("Не похоже на сумму").await;
    shop.master_a.send_text("3 500 руб");
    shop.master_a.expect_text("Сколько стоили материалы").await;
    shop.master_a.send_text("4000");
    shop.master_a
        .expect_text("Материалы не могут стоить больше")
        .await;
    shop.master_a.expect_text("Сколько стоили материалы").await;
    // A washing machine, net 3 000 < 7 000: 40 %, +10 % out of the city.
    shop.master_a.send_text("500");
    let m = shop
        .master_a
        .expect_text("Заявка №1 была за городом?")
        .await;
    shop.master_a.send_text("да");
    shop.master_a.expect_text("выберите вариант кнопкой").await;
    shop.master_a.press_button(&m, "Да");
    let m = shop.master_a.expect_text("Клиент оставил отзыв?").await;
    shop.master_a.press_button(&m, "Да");
    shop.master_a.expect_text("Заявка №1: закрыта").await;
    let closed = shop
        .dispatcher
        .expect_text("Заявка №1 выполнена мастером Пётр")
        .await;
    for figure in [
        "Материалы: 500\u{a0}₽ · чистыми: 3\u{a0}000\u{a0}₽",
        "Мастеру 50 %: 1\u{a0}500\u{a0}₽ · компании: 1\u{a0}500\u{a0}₽",
        "Сдать в кассу: 1\u{a0}500\u{a0}₽\nОтметки: выезд за город, отзыв клиента",
    ] {
        assert!(closed.text.contains(figure), "{figure} in {}", closed.text);
    }

    // The client rates it, with a comment.
    let done = client.expect_text("Заявка №1 выполнена").await;
    assert!(
        done.text.contains("3\u{a0}500\u{a0}₽") && done.text.contains("Заменил сливной насос"),
        "{}",
        done.text
    );
    client.press_button(&done, "5⭐");
    client.expect_text("Хотите добавить отзыв").await;
    client.send_text("Быстро и аккуратно, спасибо!");
    client.expect_text("Ваш отзыв сохранён").await;
    shop.admin.expect_text("Клиент оценил заявку №1: 5/5").await;

    // A dispatcher adds an internal comment from the card.
    shop.dispatcher.send_command("/order 1");
    let card = shop.dispatcher.expect_text("Заявка №1 · закрыта").await;
    shop.dispatcher.press_button(&card, "Комментарий");
    shop.dispatcher.expect_text("Комментарий к заявке №1").await;
    shop.dispatcher
        .send_text("Клиент просил звонить после 18:00");
    shop.dispatcher
        .expect_text("Комментарий к заявке №1 сохранён")
        .await;

    let db = open_db(&shop.env).await;
    let order = db.order(1).await.unwrap().unwrap();
    assert_eq!(order.status, OrderStatus::Closed);
    assert_eq!(order.master_id, Some(MASTER_A));
    assert_eq!(order.total_kopecks, Some(350_000));
    assert_eq!(order.materials_kopecks, Some(50_000));
    assert_eq!(
        (order.master_kopecks, order.company_kopecks),
        (Some(150_000), Some(150_000))
    );
    assert_eq!(
        (order.out_of_city, order.has_review),
        (Some(true), Some(true))
    );
    assert_eq!(order.rating, Some(5));
    assert_eq!(
        order.rating_comment.as_deref(),
        Some("Быстро и аккуратно, спасибо!")
    );
    let history: Vec<(String, i64)> = db
        .history(1)
        .await
        .unwrap()
        .into_iter()
        .map(|h| (h.action, h.actor_id))
        .collect();
    let expected = [
        ("create", 5001),
        ("assign", DISPATCHER_ID),
        ("accept", MASTER_A),
        ("start_work", MASTER_A),
        ("wait_parts", MASTER_A),
        ("resume_work", MASTER_A),
        ("finish", MASTER_A),
        ("rate", 5001),
        ("rate_comment", 5001),
        ("comment", DISPATCHER_ID),
    ];
    let expected: Vec<(String, i64)> = expected.iter().map(|(a, u)| (a.to_string(), *u)).collect();
    assert_eq!(history, expected);

    // Admin: statistics and the CSV export.
    shop.admin.send_command("/stats");
    let stats = shop.admin.expect_text("Статистика").await;
    assert!(
        stats.text.contains("Всего заявок: 1") && stats.text.contains("Пётр : 0 / 1"),
        "{}",
        stats.text
    );
    assert!(
        stats
            .text
            .contains("• Пётр: 3\u{a0}500\u{a0}₽ (мастеру 1\u{a0}500\u{a0}₽)")
            && stats.text.contains("Всего: 3\u{a0}500\u{a0}₽"),
        "money in the figures: {}",
        stats.text
    );
    // Beside the text, the chart as a photo: a real PNG.
    shop.env
        .fake
        .wait_until("the stats chart", Duration::from_secs(10), |f| {
            f.documents_to(ADMIN_ID)
                .iter()
                .any(|d| d.method == "sendphoto")
        })
        .await;
    let chart = shop.env.fake.documents_to(ADMIN_ID).remove(0);
    assert_eq!(&chart.bytes[..4], b"\x89PNG");
    assert!(stats.text.contains("По дням (за 7 дн.)"), "{}", stats.text);
    // The period is the admin's choice: a month, with its own chart.
    shop.admin.send_command("/stats месяц");
    let month = shop.admin.expect_text("По дням (за 30 дн.)").await;
    assert!(
        month.text.contains("Всего: 3\u{a0}500\u{a0}₽"),
        "{}",
        month.text
    );
    shop.env
        .fake
        .wait_until("the month's chart", Duration::from_secs(10), |f| {
            f.documents_to(ADMIN_ID)
                .iter()
                .filter(|d| d.method == "sendphoto")
                .count()
                == 2
        })
        .await;
    shop.admin.send_command("/stats вчера");
    shop.admin.expect_text("/stats [неделя").await;
    shop.admin.send_command("/export");
    shop.env
        .fake
        .wait_until("the CSV export", Duration::from_secs(10), |f| {
            f.documents_to(ADMIN_ID)
                .iter()
                .any(|d| d.method == "senddocument")
        })
        .await;
    let doc = shop
        .env
        .fake
        .documents_to(ADMIN_ID)
        .into_iter()
        .find(|d| d.method == "senddocument")
        .unwrap();
    let csv = String::from_utf8(doc.bytes.clone()).unwrap();
    assert!(
        doc.file_name.as_deref().unwrap_or("").ends_with(".csv"),
        "{:?}",
        doc.file_name
    );
    assert!(csv.starts_with("id,created_at,status"), "{csv}");
    assert!(
        csv.contains("Заменил сливной насос")
            && csv.contains("finish")
            && csv.contains("Клиент просил звонить"),
        "{csv}"
    );

    // The master has no open jobs left.
    shop.master_a.send_command("/my_jobs");
    shop.master_a.expect_text("У вас нет открытых заявок").await;

    // A dispatcher may not correct a closed order's money, even with the
    // admin's button data replayed on their own card.
    shop.dispatcher.send_command("/order 1");
    let theirs = shop.dispatcher.expect_text("Заявка №1 · закрыта").await;
    assert!(
        !theirs
            .button_texts()
            .iter()
            .any(|b| b.contains("Исправить деньги")),
        "{:?}",
        theirs.button_texts()
    );
    let forged = shop.dispatcher.press(&theirs, "o:mn:1");
    shop.env
        .fake
        .wait_until("the refusal toast", Duration::from_secs(5), |f| {
            f.callback_answer_for(forged).is_some()
        })
        .await;
    // The admin corrects it: 10 000 net is from 7 000, so 50 %, no bonus.
    shop.admin.send_command("/order 1");
    let card = shop.admin.expect_text("Заявка №1 · закрыта").await;
    shop.admin.press_button(&card, "Исправить деньги");
    shop.admin
        .expect_text("Исправление денег по заявке №1")
        .await;
    answer_money(
        &shop.admin,
        1,
        CloseAnswers {
            total: "10000",
            materials: "0",
            out_of_city: false,
            review: false,
        },
    )
    .await;
    let fixed = shop.admin.expect_text("Заявка №1 исправлена").await;
    assert!(fixed.text.contains("→"), "{}", fixed.text);
    let order = db.order(1).await.unwrap().unwrap();
    assert_eq!(
        (
            order.status,
            order.total_kopecks,
            order.master_kopecks,
            order.company_kopecks
        ),
        (
            OrderStatus::Closed,
            Some(1_000_000),
            Some(500_000),
            Some(500_000)
        )
    );
    let last = db.history(1).await.unwrap().pop().unwrap();
    assert_eq!(
        (last.action.as_str(), last.actor_id),
        ("edit_money", ADMIN_ID)
    );
    let change = last.comment.unwrap();
    assert!(
        change.starts_with("сумма 3\u{a0}500\u{a0}₽")
            && change.contains("→ сумма 10\u{a0}000\u{a0}₽"),
        "old → new in the history: {change}"
    );
}

#[tokio::test]
async fn refused_actions_are_refused_and_logged() {
    let shop = open_shop().await;
    let client = shop.env.fake.user(5002, "Борис", "ru");
    file_order(&client, 1).await;
    let note = shop.dispatcher.expect_text("Новая заявка №1").await;

    // A client replays a dispatcher's assign button data on their own message.
    client.send_command("/my_orders");
    let own = client.expect_text("Ваши заявки").await;
    client.press(&own, &format!("o:am:1:{MASTER_A}:0"));
    client.expect_text("Это действие вам недоступно").await;
    // Client and master try staff commands.
    client.send_command("/orders");
    client.expect_text("только сотрудникам").await;
    shop.master_a.send_command("/stats");
    shop.master_a.expect_text("только сотрудникам").await;
    shop.dispatcher.send_command("/add_dispatcher 777 Хакер");
    shop.dispatcher.expect_text("только сотрудникам").await;
    // Assigning to someone who is not a master.
    shop.dispatcher.press(&note, "o:am:1:5002:0");
    shop.dispatcher
        .expect_text("Это действие вам недоступно")
        .await;

    // A master acts on another master's order.
    shop.dispatcher
        .press(&note, &format!("o:am:1:{MASTER_A}:0"));
    shop.dispatcher.expect_text("назначена мастеру Пётр").await;
    let job = shop.master_a.expect_text("Вам назначена заявка №1").await;
    let own = shop.master_b.expect_text("Вас добавили мастером").await;
    shop.master_b.press(&own, "o:acc:1");
    shop.master_b
        .expect_text("Это действие вам недоступно")
        .await;
    shop.master_b.press(&own, "o:dn:1");
    shop.master_b
        .expect_text("Это действие вам недоступно")
        .await;

    // Cancelled order: the client cancels from /my_orders, then staff and master act on it.
    client.send_command("/my_orders");
    let list = client.expect_text("Ваши заявки").await;
    client.press_button(&list, "Отменить №1");
    client.expect_text("Заявка №1 отменена").await;
    shop.dispatcher
        .expect_text("Клиент отменил заявку №1")
        .await;
    shop.master_a.expect_text("Заявка №1 отменена").await;
    shop.dispatcher.press(&note, "o:asg:1");
    shop.dispatcher
        .expect_text("Сейчас это сделать нельзя: заявка №1 в статусе «отменена»")
        .await;
    shop.master_a.press(&job, "o:st:1");
    shop.master_a.expect_text("в статусе «отменена»").await;
    client.press(&list, "o:rv:1:5");
    client.expect_text("в статусе «отменена»").await;

    let db = open_db(&shop.env).await;
    let order = db.order(1).await.unwrap().unwrap();
    assert_eq!(order.status, OrderStatus::Cancelled);
    let actions: Vec<String> = db
        .history(1)
        .await
        .unwrap()
        .into_iter()
        .map(|h| h.action)
        .collect();
    assert_eq!(actions, ["create", "assign", "cancel"]);
    let log = std::fs::read_to_string(shop.env.log_dir().join("bot.log")).unwrap();
    assert!(
        log.contains("refused: this user may not do this"),
        "refusals are logged"
    );
}

#[tokio::test]
async fn two_dispatchers_assigning_at_once_cannot_both_win() {
    let shop = open_shop().await;
    let client = shop.env.fake.user(5003, "Вера", "ru");
    for round in 1..=3 {
        file_order(&client, round).await;
        let note1 = shop
            .dispatcher
            .expect_text(&format!("Новая заявка №{round}"))
            .await;
        let note2 = shop
            .dispatcher2
            .expect_text(&format!("Новая заявка №{round}"))
            .await;
        // Both press at the same moment, for different masters.
        shop.dispatcher
            .press(&note1, &format!("o:am:{round}:{MASTER_A}:0"));
        shop.dispatcher2
            .press(&note2, &format!("o:am:{round}:{MASTER_B}:0"));
        shop.env
            .fake
            .wait_until("both dispatchers answered", Duration::from_secs(10), |f| {
                let answered = |chat| {
                    f.messages_to(chat).iter().any(|m| {
                        m.text.contains(&format!("Заявка №{round} назначена"))
                            || m.text.contains(&format!("Заявку №{round} уже изменили"))
                    })
                };
                answered(DISPATCHER_ID) && answered(DISPATCHER_2)
            })
            .await;
        let db = open_db(&shop.env).await;
        let assigns = db
            .history(round)
            .await
            .unwrap()
            .into_iter()
            .filter(|h| h.action == "assign")
            .count();
        assert_eq!(assigns, 1, "round {round}: exactly one assignment wins");
        let winner = db.order(round).await.unwrap().unwrap().master_id.unwrap();
        let loser = if winner == MASTER_A {
            MASTER_B
        } else {
            MASTER_A
        };
        let needle = format!("Вам назначена заявка №{round}");
        shop.env
            .fake
            .wait_until(
                "the winner's master is told",
                Duration::from_secs(10),
                |f| {
                    f.messages_to(winner)
                        .iter()
                        .any(|m| m.text.contains(&needle))
                },
            )
            .await;
        assert!(
            !shop
                .env
                .fake
                .messages_to(loser)
                .iter()
                .any(|m| m.text.contains(&needle)),
            "the losing master hears nothing"
        );
    }
}

#[tokio::test]
async fn master_declines_with_a_reason_and_the_order_returns_to_dispatchers() {
    let shop = open_shop().await;
    let client = shop.env.fake.user(5004, "Глеб", "ru");
    file_order(&client, 1).await;
    let note = shop.dispatcher.expect_text("Новая заявка №1").await;
    shop.dispatcher
        .press(&note, &format!("o:am:1:{MASTER_B}:0"));
    let job = shop.master_b.expect_text("Вам назначена заявка №1").await;
    shop.master_b.press_button(&job, "Не могу");
    shop.master_b.expect_text("Почему не получается").await;
    shop.master_b.send_text("Нет запчастей для этой модели");
    shop.master_b.expect_text("Заявка №1: новая").await;
    let back = shop
        .dispatcher
        .expect_text("Мастер Иван отказался от заявки №1. Причина: Нет запчастей")
        .await;
    client.expect_text("подбираем другого мастера").await;
    // Re-assign from the decline notification.
    shop.dispatcher.press_button(&back, "Назначить мастера");
    let choose = shop
        .dispatcher
        .expect_text("Кому назначить заявку №1")
        .await;
    shop.dispatcher.press_button(&choose, "Пётр");
    shop.master_a.expect_text("Вам назначена заявка №1").await;
    let order = open_db(&shop.env).await.order(1).await.unwrap().unwrap();
    assert_eq!(
        (order.status, order.master_id),
        (OrderStatus::Assigned, Some(MASTER_A))
    );

    // Orders board with filters and paging.
    shop.dispatcher.send_command("/orders");
    let board = shop.dispatcher.expect_text("Заявки (все)").await;
    shop.dispatcher.press_button(&board, "назначен мастер");
    shop.env
        .fake
        .wait_until(
            "the board filtered in place",
            Duration::from_secs(10),
            |f| {
                f.message(DISPATCHER_ID, board.message_id)
                    .is_some_and(|m| m.text.contains("Заявки (назначен мастер)"))
            },
        )
        .await;
}

#[tokio::test]
async fn staff_added_from_a_shared_contact() {
    let shop = open_shop().await;
    shop.admin.send_contact_of(4001, "+79990001122", "Семён");
    let q = shop
        .admin
        .expect_text("Добавить Семён (id 4001 ) как")
        .await;
    shop.admin.press_button(&q, "Диспетчера");
    shop.admin
        .expect_text("Диспетчер Семён (id 4001) добавлен")
        .await;
    let newcomer = shop.env.fake.user(4001, "Семён", "ru");
    newcomer.expect_text("Вас добавили диспетчером").await;
    newcomer.send_command("/orders");
    newcomer.expect_text("Заявок нет").await;
    shop.admin.send_command("/remove_dispatcher 4001");
    shop.admin.expect_text("Сотрудник id 4001 удалён").await;
    newcomer.send_command("/orders");
    newcomer.expect_text("только сотрудникам").await;
    let _ = &shop.dispatcher2;
}

#[tokio::test]
async fn dispatchers_find_orders_by_each_key_and_read_their_history() {
    let shop = open_shop().await;
    let anna = shop.env.fake.user(5011, "Анна", "ru");
    file_order(&anna, 1).await;
    file_order(&anna, 2).await;
    let note = shop.dispatcher.expect_text("Новая заявка №1").await;
    shop.dispatcher
        .press(&note, &format!("o:am:1:{MASTER_A}:0"));
    shop.dispatcher.expect_text("назначена мастеру Пётр").await;

    // By phone, typed another way than it was stored: both of Anna's orders.
    let d = &shop.dispatcher;
    d.send_command("/search 8 (999) 123-45-67");
    let found = d.expect_text("🔎 По «8 (999) 123-45-67» найдено: 2").await;
    assert!(
        found.text.contains("№2") && found.text.contains("№1"),
        "{}",
        found.text
    );
    // By part of the address, whatever its case; by a piece of the number; by number.
    d.send_command("/search ЛЕНИНА");
    d.expect_text("найдено: 2").await;
    d.send_command("/search 1234567");
    d.expect_text("найдено: 2").await;
    d.send_command("/search №2");
    let one = d.expect_text("найдено: 1").await;
    assert!(
        one.text.contains("№2") && !one.text.contains("№1 "),
        "{}",
        one.text
    );
    d.send_command("/search Тверь");
    d.expect_text("Ничего не нашлось по «Тверь»").await;
    // The menu's button asks, and the next text is the query.
    d.send_command("/start");
    let menu = d.expect_text("Здравствуйте").await;
    let keyboard = format!("{:?}", menu.reply_keyboard);
    for button in ["Заявки", "Поиск", "Мастера"] {
        assert!(
            keyboard.contains(button),
            "the dispatcher's menu: {keyboard}"
        );
    }
    d.send_text("🔎 Поиск");
    d.expect_text("Что найти?").await;
    d.send_text("ленина 15");
    d.expect_text("По «ленина 15» найдено: 2").await;

    // The card from the results, and its history button.
    d.press(&one, "o:card:2");
    let card = d.expect_text("Заявка №2").await;
    d.press_button(&card, "История");
    let history = d.expect_text("История заявки №2").await;
    assert!(history.text.contains("создана"), "{}", history.text);
    d.send_command("/history 1");
    let history = d.expect_text("История заявки №1").await;
    assert!(
        history.text.contains("— создана · Анна")
            && history.text.contains(&format!(
                "— назначен мастер (новая → назначен мастер) · id {DISPATCHER_ID}"
            )),
        "{}",
        history.text
    );

    // Not for clients or masters; their menus do not offer it.
    anna.send_command("/start");
    let menu = anna.expect_text("Здравствуйте").await;
    assert!(!format!("{:?}", menu.reply_keyboard).contains("Поиск"));
    anna.send_text("🔎 Поиск");
    anna.expect_text("только сотрудникам").await;
    anna.send_command("/search Ленина");
    anna.expect_text("только сотрудникам").await;
    anna.send_command("/history 1");
    anna.expect_text("только сотрудникам").await;
    shop.master_a.send_command("/history 1");
    shop.master_a.expect_text("только сотрудникам").await;
}

#[tokio::test]
async fn a_dispatcher_who_is_also_a_master_works_both_ways() {
    let shop = open_shop().await;
    // The second dispatcher also goes out on jobs.
    shop.admin
        .send_command(&format!("/add_master {DISPATCHER_2} Ольга"));
    shop.admin
        .expect_text("Мастер Ольга (id 2002) добавлен")
        .await;
    let both = &shop.dispatcher2;
    both.send_command("/help");
    let help = both.expect_text("Команды сотрудника").await;
    assert!(help.text.contains("Команды мастера"), "{}", help.text);
    let menu = shop
        .env
        .fake
        .reply_keyboard_of(both.chat_id)
        .unwrap_or_default();
    let labels: Vec<&String> = menu.iter().flatten().collect();
    assert!(
        labels.iter().any(|b| b.contains("Мои работы"))
            && labels.iter().any(|b| b.contains("Заявки")),
        "{labels:?}"
    );

    let client = shop.env.fake.user(5401, "Лев", "ru");
    file_order(&client, 1).await;
    let note = shop.dispatcher.expect_text("Новая заявка №1").await;
    shop.dispatcher.press_button(&note, "Назначить");
    let choose = shop
        .dispatcher
        .expect_text("Кому назначить заявку №1")
        .await;
    shop.dispatcher.press_button(&choose, "Ольга");
    // As the order's master: the work buttons; as a dispatcher: the board's.
    let job = both.expect_text("Вам назначена заявка №1").await;
    both.press_button(&job, "Принять");
    let reply = both.expect_text("Заявка №1: мастер принял").await;
    let buttons = reply.button_texts();
    assert!(
        buttons.iter().any(|b| b.contains("На месте"))
            && buttons.iter().any(|b| b.contains("Снять мастера")),
        "{buttons:?}"
    );
    // The other master cannot act on it.
    let own = shop.env.fake.messages_to(MASTER_A)[0].clone();
    shop.master_a.press(&own, "o:st:1");
    shop.master_a.expect_text("недоступно").await;

    let db = open_db(&shop.env).await;
    let history = db.history(1).await.unwrap();
    let accept = history.iter().find(|h| h.action == "accept").unwrap();
    assert_eq!(
        (accept.actor_id, accept.actor_role.as_str()),
        (DISPATCHER_2, "master")
    );
    // Taking the master role back leaves the dispatcher.
    shop.admin
        .send_command(&format!("/remove_master {DISPATCHER_2}"));
    shop.admin.expect_text("удалён").await;
    both.send_command("/orders");
    both.expect_text("Заявки (").await;
    db.close().await;
}
