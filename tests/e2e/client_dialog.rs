//! The client's order dialog through the fake Bot API.

use std::time::Duration;

use crate::support::{ADMIN_ID, DISPATCHER_ID};
use crate::{fill_order, open_db, test_env, wait_message_to};
use repair_bot::domain::{ApplianceKind, OrderStatus};

#[tokio::test]
async fn a_client_files_an_order_and_staff_are_notified() {
    // Arrange
    let env = test_env().await;
    let _bot = env.start_bot().await;
    let u = env.fake.user(5001, "Иван", "ru");

    // Act
    u.send_command("/start");
    let greeting = u.expect_text("Здравствуйте, Иван").await;
    assert!(
        greeting.reply_keyboard.is_some(),
        "the main menu comes with the greeting"
    );
    let summary = fill_order(&u).await;
    for field in [
        "Стиральная машина",
        "не отжимает",
        "ул. Ленина, д. 15",
        "+79991234567",
        "завтра после 18:00",
    ] {
        assert!(
            summary.text.contains(field),
            "summary lacks {field:?}:\n{}",
            summary.text
        );
    }
    u.press_button(&summary, "Подтвердить");

    // Assert
    u.expect_text("Заявка №1 принята").await;
    wait_message_to(&env, DISPATCHER_ID, "Новая заявка №1").await;
    let admin_note = wait_message_to(&env, ADMIN_ID, "Новая заявка №1").await;
    assert!(admin_note.text.contains("+79991234567") && admin_note.text.contains("Иван"));

    let db = open_db(&env).await;
    let order = db.order(1).await.unwrap().expect("order #1 stored");
    assert_eq!(order.status, OrderStatus::New);
    assert_eq!(order.equipment, ApplianceKind::WashingMachine);
    assert_eq!(
        order.description,
        "Стиральная машина не отжимает, гудит при сливе воды"
    );
    assert_eq!(order.address, "г. Москва, ул. Ленина, д. 15, кв. 42");
    assert_eq!(order.phone, "+79991234567");
    assert_eq!(order.visit_time, "завтра после 18:00");

    u.send_command("/my_orders");
    let list = u.expect_text("Ваши заявки").await;
    assert!(
        list.text.contains("№1") && list.text.contains("новая"),
        "{}",
        list.text
    );
}

#[tokio::test]
async fn an_english_client_is_answered_in_english() {
    let env = test_env().await;
    let _bot = env.start_bot().await;
    let u = env.fake.user(5002, "John", "en");
    u.send_command("/create_order");
    let m = u.expect_text("What needs repair?").await;
    assert!(
        m.button_texts().iter().any(|b| b == "Washing machine"),
        "{:?}",
        m.button_texts()
    );
    u.press_button(&m, "TV");
    u.expect_text("Describe the problem").await;
    u.send_command("/cancel");
    u.expect_text("Order cancelled").await;
}

#[tokio::test]
async fn cancel_at_any_step_clears_the_dialog() {
    let env = test_env().await;
    let _bot = env.start_bot().await;
    let u = env.fake.user(5003, "Ольга", "ru");
    u.send_command("/create_order");
    let m = u.expect_text("Какая техника").await;
    u.press_button(&m, "Холодильник");
    u.expect_text("Опишите неисправность").await;
    u.send_text("Не морозит морозилка");
    u.expect_text("Укажите адрес").await;

    u.send_command("/cancel");
    u.expect_text("Оформление заявки отменено").await;
    u.send_text("г. Москва, ул. Мира, 1");
    u.expect_text("Выберите действие в меню").await;
    u.send_command("/cancel");
    u.expect_text("Сейчас нечего отменять").await;

    // Cancel from the summary's button, too.
    let summary = fill_order(&u).await;
    u.press_button(&summary, "Отменить");
    u.expect_text("Оформление заявки отменено").await;

    let db = open_db(&env).await;
    assert_eq!(db.count_orders().await.unwrap(), 0);
    let pool = db.sqlite_pool().unwrap();
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM fsm_state")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(left, 0, "a cancelled dialog leaves no state behind");
}

#[tokio::test]
async fn bad_input_at_every_step_re_prompts_without_losing_anything() {
    let env = test_env().await;
    let _bot = env.start_bot().await;
    let u = env.fake.user(5004, "Пётр", "ru");

    u.send_command("/create_order");
    let equipment_msg = u.expect_text("Какая техника").await;
    // Equipment: text instead of a button, a sticker, a forged button.
    u.send_text("стиралка");
    u.expect_text("выберите вариант кнопкой").await;
    u.expect_text("Какая техника").await;
    u.send_sticker();
    u.expect_text("не могу принять").await;
    u.expect_text("Какая техника").await;
    let forged = u.press(&equipment_msg, "eq:toaster");
    u.expect_text("Какая техника").await;
    env.fake
        .wait_until(
            "a toast for the forged button",
            Duration::from_secs(10),
            |f| f.callback_answer_for(forged).is_some(),
        )
        .await;
    u.press_button(&equipment_msg, "Посудомоечная");
    u.expect_text("Опишите неисправность").await;

    // Description: blank, too long, a command from another flow, voice, a stale button.
    u.send_text("   ");
    u.expect_text("Сообщение пустое").await;
    u.send_text(&"а".repeat(10_000));
    u.expect_text("Слишком длинно").await;
    u.expect_text("Опишите неисправность").await;
    u.send_command("/my_orders");
    u.expect_text("Вы оформляете заявку").await;
    u.expect_text("Опишите неисправность").await;
    u.send_voice();
    u.expect_text("не могу принять").await;
    let stale = u.press(&equipment_msg, "eq:tv");
    env.fake
        .wait_until("the stale button answered", Duration::from_secs(10), |f| {
            f.callback_answer_for(stale)
                .and_then(|a| a.text)
                .is_some_and(|t| t.contains("неактуальна"))
        })
        .await;
    u.send_photo(None);
    u.expect_text("Фото получил").await;
    u.send_text("Не сливает воду, ошибка E24");
    u.expect_text("Укажите адрес").await;

    // Address: digits only, a sticker.
    u.send_text("12345");
    u.expect_text("словами").await;
    u.send_sticker();
    u.expect_text("не могу принять").await;
    u.send_text("г. Казань, ул. Баумана, д. 3");
    u.expect_text("Оставьте телефон").await;

    // Phone: invalid numbers.
    for bad in ["12345", "позвоните мне", "+7999"] {
        u.send_text(bad);
        u.expect_text("Не похоже на номер").await;
    }
    u.send_text("8 (917) 123-45-67");
    let visit = u.expect_text("Когда удобно").await;

    // Visit time: a stale equipment button, then a slot button.
    u.press(&equipment_msg, "eq:oven");
    u.expect_text("Когда удобно").await;
    u.press_button(&visit, "В выходные");
    let summary = u.expect_text("Проверьте заявку").await;

    // Confirm: text instead of a button.
    u.send_text("да");
    u.expect_text("выберите вариант кнопкой").await;
    let summary2 = u.expect_text("Проверьте заявку").await;
    assert_eq!(
        summary.text, summary2.text,
        "nothing changed by refused input"
    );
    u.press_button(&summary2, "Подтвердить");
    u.expect_text("Заявка №1 принята").await;

    let order = open_db(&env).await.order(1).await.unwrap().unwrap();
    assert_eq!(order.equipment, ApplianceKind::Dishwasher);
    assert_eq!(order.description, "Не сливает воду, ошибка E24");
    assert!(
        order.photo_file_id.is_some(),
        "the photo sent without a caption is kept"
    );
    assert_eq!(order.address, "г. Казань, ул. Баумана, д. 3");
    assert_eq!(order.phone, "+79171234567");
    assert_eq!(order.visit_time, "weekend");
}

#[tokio::test]
async fn edit_from_the_summary_changes_one_field() {
    let env = test_env().await;
    let _bot = env.start_bot().await;
    let u = env.fake.user(5005, "Анна", "ru");
    let summary = fill_order(&u).await;
    u.press_button(&summary, "Изменить");
    let menu = u.expect_text("Что исправить").await;
    u.press_button(&menu, "Адрес");
    u.expect_text("Укажите адрес").await;
    u.send_text("г. Тверь, ул. Советская, д. 7");
    let summary = u.expect_text("Проверьте заявку").await;
    assert!(summary.text.contains("г. Тверь"), "{}", summary.text);
    assert!(
        summary.text.contains("+79991234567"),
        "other fields are kept"
    );
    u.press_button(&summary, "Подтвердить");
    u.expect_text("Заявка №1 принята").await;
}

#[tokio::test]
async fn a_photo_with_caption_is_a_description() {
    let env = test_env().await;
    let _bot = env.start_bot().await;
    let u = env.fake.user(5006, "Мария", "ru");
    u.send_command("/create_order");
    let m = u.expect_text("Какая техника").await;
    u.press_button(&m, "Телевизор");
    u.expect_text("Опишите неисправность").await;
    u.send_photo(Some("Полосы на экране после грозы"));
    u.expect_text("Укажите адрес").await;
}

#[tokio::test]
async fn a_typed_visit_time_is_understood_in_shop_time_or_asked_again() {
    // Arrange: a shop in Yekaterinburg (UTC+5), the client at the visit step.
    let mut env = test_env().await;
    env.set("SHOP_TIMEZONE", "Asia/Yekaterinburg");
    let _bot = env.start_bot().await;
    let u = env.fake.user(5009, "Ольга", "ru");
    u.send_command("/create_order");
    let m = u.expect_text("Какая техника").await;
    u.press_button(&m, "Стиральная");
    u.expect_text("Опишите неисправность").await;
    u.send_text("Не сливает воду, стоит полная");
    u.expect_text("Укажите адрес").await;
    u.send_text("г. Екатеринбург, ул. Мира, д. 3");
    u.expect_text("Оставьте телефон").await;
    u.send_contact("+79991230000");
    u.expect_text("Когда удобно").await;

    // Act + Assert: a past day and an impossible one are asked again.
    u.send_text("вчера после обеда");
    u.expect_text("Это время уже прошло").await;
    u.send_text("31.02 в 10");
    u.expect_text("Не понял дату").await;
    u.send_text("завтра с 10 до 12, позвонить за час");
    let summary = u.expect_text("Проверьте заявку").await;

    let tz = jiff::tz::TimeZone::get("Asia/Yekaterinburg").unwrap();
    let tomorrow = jiff::Timestamp::now()
        .to_zoned_datetime(tz.clone())
        .date()
        .tomorrow()
        .unwrap();
    let months = [
        "января",
        "февраля",
        "марта",
        "апреля",
        "мая",
        "июня",
        "июля",
        "августа",
        "сентября",
        "октября",
        "ноября",
        "декабря",
    ];
    let echo = format!(
        "{} {}",
        tomorrow.day(),
        months[(tomorrow.month() - 1) as usize]
    );
    assert!(
        summary
            .text
            .contains("завтра с 10 до 12, позвонить за час (")
            && summary.text.contains(&echo)
            && summary.text.contains("10:00–12:00 (позвонить за час)"),
        "the summary says what was understood ({echo}):\n{}",
        summary.text
    );
    u.press_button(&summary, "Подтвердить");
    u.expect_text("Заявка №1 принята").await;

    // The window is stored as instants of the shop's zone.
    let db = open_db(&env).await;
    let order = db.order(1).await.unwrap().expect("order #1 stored");
    let from = tomorrow
        .at(10, 0, 0, 0)
        .to_zoned_datetime(tz.clone())
        .unwrap()
        .timestamp()
        .as_millisecond();
    let to = tomorrow
        .at(12, 0, 0, 0)
        .to_zoned_datetime(tz)
        .unwrap()
        .timestamp()
        .as_millisecond();
    assert_eq!(order.visit_from, Some(from));
    assert_eq!(order.visit_to, Some(to));
    assert_eq!(order.visit_window.as_deref(), Some("between"));
    let staff = wait_message_to(&env, DISPATCHER_ID, "Новая заявка №1").await;
    assert!(staff.text.contains(&echo), "{}", staff.text);
}

#[tokio::test]
async fn a_returning_caller_is_recognised_and_a_linked_phone_shows_its_orders() {
    let env = test_env().await;
    let _bot = env.start_bot().await;
    let anna = env.fake.user(5021, "Анна", "ru");
    for n in 1..=2 {
        let summary = fill_order(&anna).await;
        anna.press_button(&summary, "Подтвердить");
        anna.expect_text(&format!("Заявка №{n} принята")).await;
    }
    // The staff alert of the second order says she called before.
    let first = wait_message_to(&env, DISPATCHER_ID, "Новая заявка №1").await;
    assert!(!first.text.contains("Уже обращался"), "{}", first.text);
    let second = wait_message_to(&env, DISPATCHER_ID, "Новая заявка №2").await;
    assert!(
        second
            .text
            .contains("Уже обращался: заявок — 1, последняя №1 (новая)"),
        "{}",
        second.text
    );

    // Her husband shares the same number as his own, spelled his way: the
    // orders phoned in for it are his to see.
    let boris = env.fake.user(5022, "Борис", "ru");
    boris.send_command("/my_orders");
    boris.expect_text("У вас пока нет заявок").await;
    boris.send_contact("8 (999) 123-45-67");
    boris.expect_text("Номер +79991234567 привязан к вам").await;
    boris.send_command("/my_orders");
    let list = boris.expect_text("Ваши заявки").await;
    assert!(
        list.text.contains("№1") && list.text.contains("№2"),
        "{}",
        list.text
    );
    // Someone else's contact (no Telegram account behind it) links nothing.
    let stranger = env.fake.user(5023, "Гость", "ru");
    stranger.send_foreign_contact("+79991234567", "Анна");
    stranger.expect_text("Выберите действие в меню").await;
    stranger.send_command("/my_orders");
    stranger.expect_text("У вас пока нет заявок").await;
}
