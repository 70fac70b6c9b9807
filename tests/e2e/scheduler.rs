//! The scheduler end to end with second-scale thresholds: reminders that
//! repeat and stop, escalations, the master's reminder ended by Accept, a
//! visit reminder, quiet hours, and a restart that neither loses nor
//! repeats a reminder.

use std::time::Duration;

use crate::staff::{accepted_by_petr, assign_to_petr, file_note, open_shop_with, Shop};
use crate::support::{TestEnv, ADMIN_ID, DISPATCHER_ID};
use repair_bot::domain::schedule::JobKind;

/// Thresholds short enough for a test; everything not set stays far away.
fn quick(env: &mut TestEnv, vars: &[(&str, &str)]) {
    for (k, v) in [
        ("REMIND_UNASSIGNED_AFTER", "1h"),
        ("REMIND_UNACCEPTED_AFTER", "1h"),
        ("REMIND_REPEAT", "1h"),
        ("REMIND_MAX", "4"),
        ("SLA_NEW", "10h"),
        ("SLA_ASSIGNED", "10h"),
        ("SLA_ACCEPTED", "10h"),
        ("SLA_ON_SITE", "10h"),
        ("VISIT_REMINDER_BEFORE", "2h"),
        ("DAILY_SUMMARY_AT", "off"),
        ("QUIET_HOURS", ""),
    ] {
        env.set(k, v);
    }
    for (k, v) in vars {
        env.set(k, *v);
    }
}

fn count(shop: &Shop, chat: i64, needle: &str) -> usize {
    shop.env
        .fake
        .messages_to(chat)
        .iter()
        .filter(|m| m.text.contains(needle) && !m.edited)
        .count()
}

#[tokio::test]
async fn unassigned_reminders_repeat_up_to_the_maximum_and_escalate_once() {
    let shop = open_shop_with(|env| {
        quick(
            env,
            &[
                ("REMIND_UNASSIGNED_AFTER", "1s"),
                ("REMIND_REPEAT", "1s"),
                ("REMIND_MAX", "2"),
                ("SLA_NEW", "2s"),
            ],
        )
    })
    .await;
    let client = shop.env.fake.user(5801, "Анна", "ru");
    file_note(&shop, &client, 1).await;
    shop.dispatcher
        .expect_text("Заявка №1 ждёт мастера уже 1 с (напоминание 1 из 2)")
        .await;
    let second = shop.dispatcher.expect_text("(напоминание 2 из 2)").await;
    assert!(second
        .button_texts()
        .iter()
        .any(|b| b.contains("Назначить")));
    shop.admin
        .expect_text("🚨 SLA: заявка №1 в статусе «новая»")
        .await;
    // No third reminder, no second escalation.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(count(&shop, DISPATCHER_ID, "ждёт мастера"), 2);
    assert_eq!(count(&shop, ADMIN_ID, "ждёт мастера"), 2);
    assert_eq!(count(&shop, ADMIN_ID, "🚨 SLA"), 1);
    assert_eq!(
        count(&shop, DISPATCHER_ID, "🚨 SLA"),
        0,
        "escalations are for admins"
    );
}

#[tokio::test]
async fn the_master_is_reminded_until_they_accept_and_the_dispatcher_told() {
    let shop = open_shop_with(|env| {
        quick(
            env,
            &[
                ("REMIND_UNACCEPTED_AFTER", "1s"),
                ("REMIND_REPEAT", "1s"),
                ("REMIND_MAX", "3"),
            ],
        )
    })
    .await;
    let client = shop.env.fake.user(5802, "Анна", "ru");
    let note = file_note(&shop, &client, 1).await;
    assign_to_petr(&shop, &note, 1).await;
    let reminder = shop
        .master_a
        .expect_text("Вы ещё не приняли заявку №1 (напоминание 1 из 3)")
        .await;
    shop.dispatcher
        .expect_text("Мастер Пётр не принял заявку №1")
        .await;
    // Accepting ends the reminders.
    shop.master_a.press_button(&reminder, "Принять");
    shop.master_a.expect_text("Заявка №1: мастер принял").await;
    let sent = count(&shop, crate::staff::MASTER_A, "Вы ещё не приняли");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        count(&shop, crate::staff::MASTER_A, "Вы ещё не приняли"),
        sent
    );
    assert!(sent < 3, "accepted before the last reminder");
}

#[tokio::test]
async fn accepting_before_the_threshold_sends_no_reminder_and_a_visit_is_reminded() {
    let shop = open_shop_with(|env| {
        quick(
            env,
            &[
                ("REMIND_UNACCEPTED_AFTER", "2s"),
                ("VISIT_REMINDER_BEFORE", "2d"),
            ],
        )
    })
    .await;
    let client = shop.env.fake.user(5803, "Анна", "ru");
    let note = file_note(&shop, &client, 1).await;
    assign_to_petr(&shop, &note, 1).await;
    let job = shop.master_a.expect_text("Вам назначена заявка №1").await;
    shop.master_a.press_button(&job, "Принять");
    // The visit ("завтра после 18:00") is within VISIT_REMINDER_BEFORE: reminded now.
    let visit = shop.master_a.expect_text("Скоро визит по заявке №1").await;
    assert!(visit.text.contains("после 18:00"), "{}", visit.text);
    tokio::time::sleep(Duration::from_millis(3000)).await;
    assert_eq!(count(&shop, crate::staff::MASTER_A, "Вы ещё не приняли"), 0);
    assert_eq!(count(&shop, crate::staff::MASTER_A, "Скоро визит"), 1);
}

#[tokio::test]
async fn quiet_hours_hold_reminders_but_not_escalations() {
    // Quiet hours around now, in the shop's time zone.
    let now = jiff::Timestamp::now().in_tz("Europe/Moscow").unwrap();
    let from = now.checked_sub(jiff::Span::new().hours(1)).unwrap();
    let to = now.checked_add(jiff::Span::new().hours(1)).unwrap();
    let window = format!("{}-{}", from.strftime("%H:%M"), to.strftime("%H:%M"));
    let shop = open_shop_with(|env| {
        quick(
            env,
            &[
                ("REMIND_UNASSIGNED_AFTER", "1s"),
                ("SLA_NEW", "1s"),
                ("QUIET_HOURS", window.as_str()),
            ],
        )
    })
    .await;
    let client = shop.env.fake.user(5804, "Анна", "ru");
    file_note(&shop, &client, 1).await;
    shop.admin.expect_text("🚨 SLA: заявка №1").await;
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert_eq!(
        count(&shop, DISPATCHER_ID, "ждёт мастера"),
        0,
        "held until morning"
    );
    let db = crate::open_db(&shop.env).await;
    let held = db.pending_jobs_of(1).await.unwrap();
    let reminder = held
        .iter()
        .find(|j| j.kind == JobKind::RemindUnassigned)
        .expect("still pending");
    let until = jiff::Timestamp::from_millisecond(reminder.due_ms)
        .unwrap()
        .in_tz("Europe/Moscow")
        .unwrap();
    assert_eq!(
        until.strftime("%H:%M").to_string(),
        to.strftime("%H:%M").to_string()
    );
    db.close().await;
}

#[tokio::test]
async fn a_restart_before_a_reminder_is_due_neither_loses_nor_repeats_it() {
    let mut shop = open_shop_with(|env| {
        quick(
            env,
            &[("REMIND_UNASSIGNED_AFTER", "2s"), ("REMIND_MAX", "1")],
        )
    })
    .await;
    let client = shop.env.fake.user(5805, "Анна", "ru");
    file_note(&shop, &client, 1).await;
    shop.bot.sigkill();
    // Down while it falls due: fired late, at start-up, once.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    shop.bot = shop.env.start_bot().await;
    shop.dispatcher.expect_text("Заявка №1 ждёт мастера").await;
    // Killed again right after it fired, and started again: not repeated.
    shop.bot.sigkill();
    shop.bot = shop.env.start_bot().await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(count(&shop, DISPATCHER_ID, "ждёт мастера"), 1);
    assert_eq!(count(&shop, ADMIN_ID, "ждёт мастера"), 1);
    let db = crate::open_db(&shop.env).await;
    assert_eq!(
        db.jobs_done(Some(1), JobKind::RemindUnassigned)
            .await
            .unwrap(),
        1
    );
    db.close().await;
}

/// A fixed-offset zone in which it is now about noon, so that "today" in
/// the shop is a day whose morning (09:00) is over and whose end is far.
fn zone_where_it_is_noon() -> String {
    let utc_hour = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 3600
        % 24) as i64;
    let offset = (12 - utc_hour + 36) % 24 - 12; // -12..=11, local ≈ 12:xx
    match offset {
        0 => "Etc/GMT".into(),
        // The Etc names count the other way: Etc/GMT-3 is UTC+3.
        o if o > 0 => format!("Etc/GMT-{o}"),
        o => format!("Etc/GMT+{}", -o),
    }
}

#[tokio::test]
async fn a_long_repair_due_today_reminds_the_master_and_the_dispatchers_once() {
    let zone = zone_where_it_is_noon();
    let shop = open_shop_with(|env| {
        quick(env, &[]);
        env.set("SHOP_TIMEZONE", zone.clone());
    })
    .await;
    let client = shop.env.fake.user(5806, "Анна", "ru");
    let note = file_note(&shop, &client, 1).await;
    let m = accepted_by_petr(&shop, &note, 1).await;
    let master = &shop.master_a;
    master.press_button(&m, "Длительный ремонт");
    master.expect_text("К какому сроку будет готово").await;
    master.send_text("сегодня");
    master.expect_text("Какие запчасти нужны").await;
    master.send_text("Плата управления");
    master
        .expect_text("Стоимость, согласованная с клиентом")
        .await;
    master.send_text("7000");
    let ask = master.expect_text("Клиент внёс предоплату").await;
    master.press_button(&ask, "Без предоплаты");
    // Due today, its morning over: reminded at once, in the shop's words.
    let due = master
        .expect_text("Заявка №1: сегодня срок длительного ремонта (сегодня)")
        .await;
    assert!(
        due.text.contains("Плата управления") || due.text.contains("№1"),
        "{}",
        due.text
    );
    let staff = shop
        .dispatcher
        .expect_text("Заявка №1: сегодня срок длительного ремонта")
        .await;
    assert!(
        staff.text.contains("Запчасти: Плата управления") && staff.text.contains("предоплата: нет"),
        "{}",
        staff.text
    );
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert_eq!(
        count(&shop, crate::staff::MASTER_A, "срок длительного ремонта"),
        1
    );
    assert_eq!(count(&shop, DISPATCHER_ID, "срок длительного ремонта"), 1);
    let db = crate::open_db(&shop.env).await;
    assert_eq!(db.jobs_done(Some(1), JobKind::RepairDue).await.unwrap(), 1);
}
