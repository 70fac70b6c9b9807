//! Masters' work groups end to end: a group bound to a master, cards posted
//! there and edited in place, who may press, the client's phone hidden until
//! the master is on site, a group that becomes a supergroup, and the bot
//! removed from the group.

use std::time::Duration;

use serde_json::json;

use crate::open_db;
use crate::staff::{open_shop, MASTER_A};
use crate::support::{BotMessage, TestUser};

const GROUP: i64 = -5001;
const SUPERGROUP: i64 = -1_000_000_005_001;
/// A group a dispatcher (not an admin) adds the bot to.
const GROUP_OF_DISPATCHER: i64 = -5002;

/// The bot's membership of `group` changes from `old` to `new`, by `by`.
fn membership(by: &TestUser, group: &TestUser, old: &str, new: &str) -> i64 {
    let bot = by.fake().bot_user_json();
    let title = if group.chat_id == GROUP_OF_DISPATCHER {
        "Чат"
    } else {
        "Пётр — работа"
    };
    by.fake().push_raw(json!({
        "my_chat_member": {
            "chat": {"id": group.chat_id, "type": if group.chat_id <= -1_000_000_000_000 { "supergroup" } else { "group" }, "title": title},
            "from": by.user_json(),
            "date": 1_700_000_000,
            "old_chat_member": {"user": bot, "status": old},
            "new_chat_member": {"user": bot, "status": new},
        }
    }))
}

/// Files an order as a client and assigns it to master A from the alert.
async fn order_assigned_to_a(shop: &crate::staff::Shop, client: &TestUser, id: i64) {
    let summary = crate::fill_order(client).await;
    client.press_button(&summary, "Подтвердить");
    let note = shop
        .dispatcher
        .expect_text(&format!("Новая заявка №{id}"))
        .await;
    shop.dispatcher.press_button(&note, "Назначить");
    let choose = shop
        .dispatcher
        .expect_text(&format!("Кому назначить заявку №{id}"))
        .await;
    shop.dispatcher.press_button(&choose, "Пётр");
}

/// The current state of a message (after its edits).
fn now_of(shop: &crate::staff::Shop, m: &BotMessage) -> BotMessage {
    shop.env
        .fake
        .message(m.chat_id, m.message_id)
        .expect("the message exists")
}

#[tokio::test]
async fn a_master_works_from_a_bound_group_and_the_phone_shows_on_site() {
    let shop = open_shop().await;
    let admin_in_group = shop.admin.in_group(GROUP, "Пётр — работа");
    let master_in_group = shop.master_a.in_group(GROUP, "Пётр — работа");
    let stranger = shop
        .env
        .fake
        .user(6001, "Сосед", "ru")
        .in_group(GROUP, "Пётр — работа");

    // The admin adds the bot: it asks which master; the admin picks one.
    membership(&admin_in_group, &admin_in_group, "left", "member");
    let which = admin_in_group.expect_text("К какому мастеру").await;
    admin_in_group.press_button(&which, "Пётр");
    admin_in_group.expect_text("привязана к мастеру Пётр").await;
    shop.master_a.expect_text("Ваша рабочая группа").await;

    // An order assigned to the master is posted in the group, mentioning
    // them, with the phone hidden and the address up to the house.
    let client = shop.env.fake.user(5501, "Анна", "ru");
    order_assigned_to_a(&shop, &client, 1).await;
    let card = master_in_group.expect_text("Вам назначена заявка №1").await;
    assert!(card.text.starts_with("Пётр, "), "{}", card.text);
    assert!(
        card.text.contains("+7 *** ***-45-67") && !card.text.contains("+79991234567"),
        "{}",
        card.text
    );
    assert!(
        card.text.contains("ул. Ленина, д. 15") && !card.text.contains("кв. 42"),
        "{}",
        card.text
    );
    assert!(card.button_texts().iter().any(|b| b.contains("Принять")));
    assert!(
        !shop.master_a.transcript().contains("Вам назначена"),
        "the card goes to the group, not to the private chat"
    );

    // Someone else in the group presses: refused, nothing changes.
    let press = stranger.press_button(&card, "Принять");
    shop.env
        .fake
        .wait_until(
            "the stranger's press answered",
            Duration::from_secs(5),
            |f| f.callback_answer_for(press).is_some(),
        )
        .await;
    let answer = shop.env.fake.callback_answer_for(press).unwrap();
    assert!(
        answer
            .text
            .unwrap_or_default()
            .contains("для мастера этой группы"),
        "the stranger is told"
    );
    let db = open_db(&shop.env).await;
    assert_eq!(
        db.order(1).await.unwrap().unwrap().status,
        repair_bot::domain::OrderStatus::Assigned
    );

    // The master accepts from the card: it is edited in place.
    master_in_group.press_button(&card, "Принять");
    shop.dispatcher
        .expect_text("Заявка №1: мастер принял")
        .await;
    shop.env
        .fake
        .wait_until(
            "the card edited to accepted",
            Duration::from_secs(5),
            |_| now_of(&shop, &card).text.contains("мастер принял"),
        )
        .await;
    let accepted = now_of(&shop, &card);
    assert!(
        accepted.text.contains("кв. 42"),
        "full address once accepted: {}",
        accepted.text
    );
    assert!(
        accepted.text.contains("+7 *** ***-45-67"),
        "{}",
        accepted.text
    );
    master_in_group.press_button(&accepted, "На месте");
    shop.env
        .fake
        .wait_until(
            "the card shows the phone on site",
            Duration::from_secs(5),
            |_| now_of(&shop, &card).text.contains("+79991234567"),
        )
        .await;
    assert!(now_of(&shop, &card)
        .button_texts()
        .iter()
        .any(|b| b.contains("Закрыть")));

    // Chatter in the group is not the bot's business; the master's commands are.
    stranger.skip_all();
    stranger.send_text("Кто-нибудь видел мой молоток?");
    stranger.send_command("/orders");
    stranger.expect_silence(Duration::from_millis(700)).await;
    master_in_group.send_command("/my_jobs");
    master_in_group.expect_text("Ваши открытые заявки").await;

    // The group becomes a supergroup: the binding moves with it.
    let master_in_super = shop.master_a.in_group(SUPERGROUP, "Пётр — работа");
    let old = admin_in_group.message_json(json!({ "migrate_to_chat_id": SUPERGROUP }));
    admin_in_group.fake().push_raw(json!({ "message": old }));
    shop.bot
        .wait_for_log("group became a supergroup", Duration::from_secs(5))
        .await;
    let c = {
        shop.dispatcher.send_command("/order 1");
        shop.dispatcher
            .expect_text("Заявка №1 · мастер на месте")
            .await
    };
    shop.dispatcher.press_button(&c, "Клиент ждёт");
    let ping = master_in_super.expect_text("Клиент ждёт! Заявка №1").await;
    assert!(ping.text.starts_with("Пётр, "), "{}", ping.text);

    // The bot is removed from the group: staff are told, cards go private.
    membership(&admin_in_group, &master_in_super, "member", "left");
    shop.dispatcher.expect_text("Бота удалили из группы").await;
    shop.master_a
        .expect_text("карточки ваших заявок теперь будут приходить сюда")
        .await;
    let c = {
        shop.dispatcher.send_command("/order 1");
        shop.dispatcher
            .expect_text("Заявка №1 · мастер на месте")
            .await
    };
    shop.dispatcher.press_button(&c, "Клиент ждёт");
    shop.master_a.expect_text("Клиент ждёт! Заявка №1").await;
    assert!(db.group_of_master(MASTER_A).await.unwrap().is_none());
    db.close().await;
}

#[tokio::test]
async fn a_group_bound_to_nobody_gets_nothing_and_only_admins_bind() {
    let shop = open_shop().await;
    let dispatcher_in_group = shop.dispatcher.in_group(GROUP_OF_DISPATCHER, "Чат");
    membership(&dispatcher_in_group, &dispatcher_in_group, "left", "member");
    dispatcher_in_group
        .expect_text("Привязать группу к мастеру может администратор")
        .await;
    dispatcher_in_group.send_command("/bind_master");
    dispatcher_in_group.expect_text("только").await;
    let client = shop.env.fake.user(5601, "Анна", "ru");
    order_assigned_to_a(&shop, &client, 1).await;
    // The master has no group: the card comes to the private chat.
    shop.master_a.expect_text("Вам назначена заявка №1").await;
    let group_messages = shop.env.fake.messages_to(GROUP_OF_DISPATCHER);
    assert!(
        group_messages.iter().all(|m| !m.text.contains("Заявка №1")),
        "nothing of the order in an unbound group"
    );
    // Binding commands outside a group are explained.
    shop.admin.send_command("/bind_master");
    shop.admin.expect_text("в группе мастера").await;

    // The admin binds the group from the master's profile instead.
    shop.admin.send_command(&format!("/master {MASTER_A}"));
    let profile = shop.admin.expect_text("👷 Пётр").await;
    assert!(
        profile
            .text
            .contains("нет — карточки приходят в личный чат"),
        "{}",
        profile.text
    );
    shop.admin.press_button(&profile, "Группа");
    let groups = shop
        .admin
        .expect_text("Какую группу сделать рабочей для Пётр")
        .await;
    shop.admin.press_button(&groups, "Чат");
    shop.admin.expect_text("привязана к мастеру Пётр").await;
    dispatcher_in_group
        .expect_text("привязана к мастеру Пётр")
        .await;
    let c = {
        shop.dispatcher.send_command("/order 1");
        shop.dispatcher
            .expect_text("Заявка №1 · назначен мастер")
            .await
    };
    shop.dispatcher.press_button(&c, "Клиент ждёт");
    dispatcher_in_group
        .expect_text("Пётр, ⏰ Клиент ждёт")
        .await;
}

#[tokio::test]
async fn profiles_rank_the_assign_list_and_guard_deactivation() {
    let shop = open_shop().await;
    let d = &shop.dispatcher;
    // Иван repairs washing machines: he comes first for one.
    d.send_command("/masters");
    let list = d.expect_text("Мастера:").await;
    d.press_button(&list, "Иван");
    let profile = d.expect_text("👷 Иван (id 3002)").await;
    assert!(profile.text.contains("любая техника"), "{}", profile.text);
    d.press_button(&profile, "Специализация");
    let menu = d.expect_text("Что ремонтирует Иван").await;
    d.press_button(&menu, "Стиральная");
    shop.env
        .fake
        .wait_until("the kind marked", Duration::from_secs(5), |_| {
            now_of(&shop, &menu)
                .button_texts()
                .iter()
                .any(|b| b.starts_with("✅ Стиральная"))
        })
        .await;
    d.press_button(&now_of(&shop, &menu), "К профилю");
    let profile = d.expect_text("Специализация: Стиральная машина").await;
    d.press_button(&profile, "Телефон");
    d.expect_text("Телефон мастера").await;
    d.send_text("8 (912) 000-11-22");
    d.expect_text("Телефон: +79120001122").await;

    let client = shop.env.fake.user(5701, "Анна", "ru");
    let summary = crate::fill_order(&client).await;
    client.press_button(&summary, "Подтвердить");
    let note = d.expect_text("Новая заявка №1").await;
    d.press_button(&note, "Назначить");
    let choose = d.expect_text("Кому назначить заявку №1").await;
    let labels = choose.button_texts();
    assert!(labels[0].contains("🧰 Иван"), "the fit first: {labels:?}");
    assert!(
        labels.iter().all(|l| l.contains("нет группы")),
        "{labels:?}"
    );
    d.press_button(&choose, "Иван");
    shop.master_b.expect_text("Вам назначена заявка №1").await;

    // Иван has an open order: he cannot be made inactive.
    d.send_command("/master 3002");
    let profile = d.expect_text("👷 Иван").await;
    d.press_button(&profile, "Сделать неактивным");
    d.expect_text("Нельзя сделать Иван неактивным: у него открытые заявки №1")
        .await;
    // Пётр has none: inactive, and no longer offered.
    d.send_command(&format!("/master {MASTER_A}"));
    let profile = d.expect_text("👷 Пётр").await;
    d.press_button(&profile, "Сделать неактивным");
    shop.env
        .fake
        .wait_until("Пётр inactive", Duration::from_secs(5), |_| {
            now_of(&shop, &profile).text.contains("неактивен")
        })
        .await;
    let summary = crate::fill_order(&client).await;
    client.press_button(&summary, "Подтвердить");
    let note = d.expect_text("Новая заявка №2").await;
    d.press_button(&note, "Назначить");
    let choose = d.expect_text("Кому назначить заявку №2").await;
    assert!(
        !choose.button_texts().iter().any(|b| b.contains("Пётр")),
        "{:?}",
        choose.button_texts()
    );
    // A forged press for the inactive master is refused.
    d.press(&choose, &format!("o:am:2:{MASTER_A}:0"));
    d.expect_text("не берёт заявки").await;

    // The master's own figures.
    shop.master_b.send_command("/my_stats");
    let stats = shop.master_b.expect_text("Ваши показатели").await;
    assert!(stats.text.contains("В работе сейчас: 1"), "{}", stats.text);
}
