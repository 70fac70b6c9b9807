//! The dispatcher's desk end to end: phone orders for callers, a returning
//! caller recognised whatever way the number is typed, a restart in the
//! middle of a call, and the caller who later writes to the bot.

use std::time::Duration;

use crate::open_db;
use crate::staff::open_shop;
use crate::support::TestUser;
use repair_bot::domain::OrderStatus;

/// Takes a call up to the phone step: equipment, description, name, address.
async fn call_up_to_phone(d: &TestUser, name: &str, address: &str) {
    d.send_command("/new_order");
    let m = d.expect_text("Шаг 1 из 7").await;
    d.press_button(&m, "Посудомоечная");
    d.expect_text("Шаг 2 из 7").await;
    d.send_text("Не сливает воду, ошибка E24");
    d.expect_text("Шаг 3 из 7").await;
    d.send_text(name);
    d.expect_text("Шаг 4 из 7").await;
    d.send_text(address);
}

#[tokio::test]
async fn a_dispatcher_files_two_orders_for_one_caller_typed_two_ways() {
    let shop = open_shop().await;
    let d = &shop.dispatcher;

    // First call. An address without a house number is asked again.
    call_up_to_phone(d, "Анна Петровна", "ул. Мира").await;
    d.expect_text("нет номера дома").await;
    d.expect_text("Шаг 4 из 7").await;
    d.send_text("ул. Мира, д. 3, кв. 7");
    d.expect_text("Шаг 5 из 7").await;
    d.send_text("позвоните мне");
    d.expect_text("Шаг 5 из 7").await;
    d.send_text("8 (999) 123 45 67");
    let notes = d.expect_text("Шаг 6 из 7").await;
    d.press_button(&notes, "Пропустить");
    d.expect_text("Шаг 7 из 7").await;
    d.send_text("завтра в 15:00");
    let summary = d.expect_text("Проверьте заявку").await;
    assert!(
        summary.text.contains("Клиент: Анна Петровна")
            && summary.text.contains("+79991234567")
            && summary.text.contains("15:00"),
        "{}",
        summary.text
    );
    d.press_button(&summary, "Подтвердить");
    let filed = d.expect_text("Заявка №1 оформлена").await;
    assert!(filed.button_texts().iter().any(|b| b.contains("Назначить")));
    let alert = shop.dispatcher2.expect_text("Новая заявка №1").await;
    assert!(alert.text.contains("по телефону"), "{}", alert.text);
    // The dispatcher who took the call gets the card, not a second alert.
    assert!(!d.transcript().contains("Новая заявка №1"));

    // Second call from the same caller, the number typed another way: the
    // desk recognises her and reuses her name and address.
    call_up_to_phone(d, "Анна", "ул. Ленина, 10").await;
    d.expect_text("Шаг 5 из 7").await;
    d.send_text("+7 999 123-45-67");
    let known = d.expect_text("Клиент уже обращался").await;
    assert!(
        known.text.contains("Анна Петровна")
            && known.text.contains("ул. Мира, д. 3, кв. 7")
            && known.text.contains("Заявок: 1")
            && known.text.contains("последняя №1 (новая)"),
        "{}",
        known.text
    );
    d.expect_text("Шаг 6 из 7").await;
    d.press_button(&known, "Взять имя и адрес");
    d.expect_text("Шаг 6 из 7").await;
    d.send_text("Домофон не работает, звонить за час");
    d.expect_text("Шаг 7 из 7").await;
    d.send_text("послезавтра");
    let summary = d.expect_text("Проверьте заявку").await;
    assert!(
        summary.text.contains("Клиент: Анна Петровна")
            && summary.text.contains("Адрес: ул. Мира, д. 3, кв. 7")
            && summary.text.contains("Домофон не работает"),
        "{}",
        summary.text
    );
    d.press_button(&summary, "Подтвердить");
    d.expect_text("Заявка №2 оформлена").await;

    let db = open_db(&shop.env).await;
    let (first, second) = (
        db.order(1).await.unwrap().unwrap(),
        db.order(2).await.unwrap().unwrap(),
    );
    assert_eq!(
        first.client_id, None,
        "a phone order has no Telegram client"
    );
    assert_eq!(first.client_name, "Анна Петровна");
    assert_eq!(first.notes, None);
    assert_eq!(
        second.notes.as_deref(),
        Some("Домофон не работает, звонить за час")
    );
    assert_eq!(first.client_ref, second.client_ref, "one client");
    assert!(second.visit_from.is_some(), "послезавтра names a day");
    let history = db.history(1).await.unwrap();
    assert_eq!(history[0].action, "create");
    assert_eq!(history[0].actor_role, "dispatcher");
    let client = db.client_by_phone("+79991234567").await.unwrap().unwrap();
    assert_eq!(client.orders, 2);

    // The caller writes to the bot and shares her own number: both phone
    // orders are hers, and she hears of their progress.
    let anna = shop.env.fake.user(5077, "Анна", "ru");
    anna.send_contact("79991234567");
    anna.expect_text("привязан к вам").await;
    anna.send_command("/my_orders");
    let mine = anna.expect_text("Ваши заявки").await;
    assert!(
        mine.text.contains("№1") && mine.text.contains("№2"),
        "{}",
        mine.text
    );
    let card = {
        d.send_command("/order 1");
        d.expect_text("Заявка №1 · новая").await
    };
    d.press_button(&card, "Назначить");
    let choose = d.expect_text("Кому назначить заявку №1").await;
    d.press_button(&choose, "Пётр");
    anna.expect_text("назначен мастер: Пётр").await;
    db.close().await;
}

#[tokio::test]
async fn a_call_survives_a_restart_of_the_bot() {
    let mut shop = open_shop().await;
    call_up_to_phone(&shop.dispatcher, "Олег", "пр. Победы, 21").await;
    shop.dispatcher.expect_text("Шаг 5 из 7").await;
    shop.bot.sigkill();
    shop.bot = shop.env.start_bot().await;
    shop.dispatcher.send_text("89997654321");
    shop.dispatcher.expect_text("Шаг 6 из 7").await;
    shop.dispatcher.send_text("Собака во дворе");
    let slots = shop.dispatcher.expect_text("Шаг 7 из 7").await;
    shop.dispatcher.press_button(&slots, "В любое время");
    let summary = shop.dispatcher.expect_text("Проверьте заявку").await;
    assert!(
        summary.text.contains("Олег") && summary.text.contains("Собака"),
        "{}",
        summary.text
    );
    shop.dispatcher.press_button(&summary, "Подтвердить");
    shop.dispatcher.expect_text("Заявка №1 оформлена").await;
    // Pressed again (a double tap): nothing filed twice.
    shop.dispatcher.press(&summary, "cf:yes");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let db = open_db(&shop.env).await;
    assert_eq!(db.count_orders().await.unwrap(), 1);
    db.close().await;
}

#[tokio::test]
async fn the_desk_is_for_staff_only_and_cancel_works_at_any_step() {
    let shop = open_shop().await;
    shop.master_a.send_command("/new_order");
    shop.master_a.expect_text("только сотрудникам").await;
    let client = shop.env.fake.user(5100, "Клиент", "ru");
    client.send_command("/new_order");
    client.expect_text("только сотрудникам").await;

    call_up_to_phone(&shop.admin, "Ия", "ул. Мира, 1").await;
    shop.admin.expect_text("Шаг 5 из 7").await;
    shop.admin.send_command("/cancel");
    shop.admin.expect_text("отменено").await;
    // The menu has the desk's button for staff.
    let menu = shop
        .env
        .fake
        .reply_keyboard_of(shop.admin.chat_id)
        .unwrap_or_default();
    assert!(
        menu.iter()
            .flatten()
            .any(|b| b.contains("Новая заявка по телефону")),
        "{menu:?}"
    );
    let db = open_db(&shop.env).await;
    assert_eq!(db.count_orders().await.unwrap(), 0);
    db.close().await;
}

#[tokio::test]
async fn every_correction_and_the_shops_own_transitions_from_the_card() {
    let shop = open_shop().await;
    let (d, master) = (&shop.dispatcher, &shop.master_a);
    let client = shop.env.fake.user(5201, "Анна", "ru");
    let summary = crate::fill_order(&client).await;
    client.press_button(&summary, "Подтвердить");
    client.expect_text("Заявка №1 принята").await;
    let card = async |status: &str| {
        d.send_command("/order 1");
        d.expect_text(&format!("Заявка №1 · {status}")).await
    };

    let c = card("новая").await;
    d.press_button(&c, "Назначить");
    let choose = d.expect_text("Кому назначить заявку №1").await;
    d.press_button(&choose, "Пётр");
    let job = master.expect_text("Вам назначена заявка №1").await;
    master.press_button(&job, "Принять");
    d.expect_text("Заявка №1: мастер принял").await;

    // "The client is waiting" reaches the master with the card.
    let c = card("мастер принял").await;
    for b in [
        "Переназначить",
        "Снять мастера",
        "Клиент ждёт",
        "Исправить",
        "Отказ",
    ] {
        assert!(
            c.button_texts().iter().any(|t| t.contains(b)),
            "{b}: {:?}",
            c.button_texts()
        );
    }
    d.press_button(&c, "Клиент ждёт");
    d.expect_text("отправлено «клиент ждёт»").await;
    let ping = master.expect_text("Клиент ждёт! Заявка №1").await;
    assert!(ping.button_texts().iter().any(|b| b.contains("На месте")));

    // Corrections: the address (validated as at filing), then the visit.
    let c = card("мастер принял").await;
    d.press_button(&c, "Исправить");
    let fields = d.expect_text("Что исправить в заявке №1").await;
    d.press_button(&fields, "Адрес");
    d.expect_text("новый адрес").await;
    d.send_text("ул. Мира");
    d.expect_text("нет номера дома").await;
    d.send_text("ул. Мира, 15");
    let edited = d.expect_text("Заявка №1 исправлена").await;
    assert!(
        edited
            .text
            .contains("адрес: г. Москва, ул. Ленина, д. 15, кв. 42 → ул. Мира, 15"),
        "{}",
        edited.text
    );
    let told = master.expect_text("Заявка №1 исправлена").await;
    assert!(told.text.contains("Адрес: ул. Мира, 15"), "{}", told.text);
    d.press_button(&fields, "Время визита");
    d.expect_text("новое время визита").await;
    d.send_text("послезавтра в 12:00");
    d.expect_text("время визита:").await;

    // Unassign: back to new, the master told.
    let c = card("мастер принял").await;
    d.press_button(&c, "Снять мастера");
    d.expect_text("Заявка №1: новая").await;
    master.expect_text("Заявка №1 снята с вас").await;
    // The master's old buttons no longer work.
    master.press(&job, "o:st:1");
    master.expect_text("недоступно").await;

    // Refuse needs a reason; a master or a client cannot refuse or reopen.
    master.press(&job, "o:rf:1");
    master.expect_text("недоступно").await;
    let c = card("новая").await;
    d.press_button(&c, "Отказ");
    d.expect_text("Причина отказа по заявке №1").await;
    d.send_text("нт");
    d.expect_text("хотя бы 3 символов").await;
    d.send_text("Клиент передумал, ремонт не нужен");
    d.expect_text("Заявка №1: отказ").await;
    let refused = client.expect_text("Причина: Клиент передумал").await;
    let c = card("отказ").await;
    assert!(
        c.text.contains("Причина отказа: Клиент передумал"),
        "{}",
        c.text
    );
    client.press(&refused, "o:ro:1");
    client.expect_text("недоступно").await;
    d.press_button(&c, "Открыть снова");
    d.expect_text("Заявка №1: новая").await;
    client.expect_text("Заявка №1 снова в работе").await;

    let db = open_db(&shop.env).await;
    let order = db.order(1).await.unwrap().unwrap();
    assert_eq!(order.status, OrderStatus::New);
    assert_eq!(
        (order.master_id, order.refuse_reason.as_deref()),
        (None, None)
    );
    assert_eq!(order.address, "ул. Мира, 15");
    assert_eq!(order.reschedules, 1);
    assert!(order.visit_from.is_some());
    let history = db.history(1).await.unwrap();
    let actions: Vec<&str> = history.iter().map(|h| h.action.as_str()).collect();
    assert_eq!(
        actions,
        ["create", "assign", "accept", "ping", "edit", "edit", "unassign", "refuse", "reopen"]
    );
    let refuse = &history[7];
    assert_eq!(
        refuse.comment.as_deref(),
        Some("Клиент передумал, ремонт не нужен")
    );
    assert_eq!(refuse.actor_role, "dispatcher");

    // The history on the card's button shows the corrections.
    let c = card("новая").await;
    d.press_button(&c, "История");
    let h = d.expect_text("История заявки №1").await;
    assert!(
        h.text
            .contains("адрес: г. Москва, ул. Ленина, д. 15, кв. 42 → ул. Мира, 15"),
        "{}",
        h.text
    );
    db.close().await;
}

#[tokio::test]
async fn a_master_moves_a_visit_with_a_reason_and_it_is_counted() {
    let shop = open_shop().await;
    let (d, master) = (&shop.dispatcher, &shop.master_a);
    let client = shop.env.fake.user(5301, "Анна", "ru");
    let summary = crate::fill_order(&client).await;
    client.press_button(&summary, "Подтвердить");
    let note = d.expect_text("Новая заявка №1").await;
    d.press_button(&note, "Назначить");
    let choose = d.expect_text("Кому назначить заявку №1").await;
    d.press_button(&choose, "Пётр");
    let job = master.expect_text("Вам назначена заявка №1").await;
    master.press_button(&job, "Перенести визит");
    master.expect_text("на когда перенести визит").await;
    master.send_text("01.01.2020 в 10");
    master.expect_text("уже прошло").await;
    master.send_text("послезавтра с 10 до 12");
    master.expect_text("почему переносится визит").await;
    master.send_text("ок");
    master.expect_text("хотя бы 3 символов").await;
    master.send_text("Жду запчасть от поставщика");
    master.expect_text("Заявка №1 исправлена").await;
    let told = client.expect_text("визит мастера перенесён").await;
    assert!(told.text.contains("10:00–12:00"), "{}", told.text);
    let staff = d
        .expect_text("Мастер Пётр перенёс визит по заявке №1")
        .await;
    assert!(
        staff.text.contains("причина: Жду запчасть"),
        "{}",
        staff.text
    );
    // Staff see the count on the card.
    d.send_command("/order 1");
    let card = d.expect_text("Заявка №1 · назначен мастер").await;
    assert!(card.text.contains("Визит переносили: 1"), "{}", card.text);
    let db = open_db(&shop.env).await;
    let order = db.order(1).await.unwrap().unwrap();
    assert_eq!(order.reschedules, 1);
    assert_eq!(order.visit_time, "послезавтра с 10 до 12");
    let history = db.history(1).await.unwrap();
    let last = history.last().unwrap();
    assert_eq!(
        (last.action.as_str(), last.actor_role.as_str()),
        ("reschedule", "master")
    );
    db.close().await;
}
