//! The runbook's first promise: restart the bot mid-dialog and carry on from
//! the same step, with nothing typed before the restart lost.

use std::time::Duration;

use crate::support::{BotProcess, TestEnv, TestUser};
use crate::{open_db, stored_state, test_env};
use repair_bot::domain::Code;

/// Walks a client to the address step (air conditioner, a description).
pub(crate) async fn walk_to_address(u: &TestUser) {
    u.send_command("/create_order");
    let m = u.expect_text("Какая техника").await;
    u.press_button(&m, "Кондиционер");
    u.expect_text("Опишите неисправность").await;
    u.send_text("Течёт вода из внутреннего блока");
    u.expect_text("Укажите адрес").await;
}

/// From the address step to a filed order #1, checking that what was typed
/// before the interruption is in the summary and in the database.
pub(crate) async fn finish_after_restart(env: &TestEnv, u: &TestUser) {
    u.send_text("г. Сочи, ул. Морская, д. 1");
    u.expect_text("Оставьте телефон").await;
    u.send_text("+7 999 765-43-21");
    let visit = u.expect_text("Когда удобно").await;
    u.press_button(&visit, "В любое время");
    let summary = u.expect_text("Проверьте заявку").await;
    assert!(
        summary.text.contains("Кондиционер"),
        "equipment chosen before the restart: {}",
        summary.text
    );
    assert!(
        summary.text.contains("Течёт вода"),
        "description typed before the restart: {}",
        summary.text
    );
    u.press_button(&summary, "Подтвердить");
    u.expect_text("Заявка №1 принята").await;

    let db = open_db(env).await;
    let order = db.order(1).await.unwrap().expect("order filed");
    assert_eq!(order.equipment.code(), "air_conditioner");
    assert_eq!(order.description, "Течёт вода из внутреннего блока");
    assert_eq!(order.address, "г. Сочи, ул. Морская, д. 1");
    assert_eq!(order.phone, "+79997654321");
    assert_eq!(db.count_orders().await.unwrap(), 1);
}

#[tokio::test]
async fn dialog_continues_after_sigterm() {
    let env = test_env().await;
    let bot = env.start_bot().await;
    let u = env.fake.user(6001, "Сергей", "ru");
    walk_to_address(&u).await;
    assert_eq!(
        stored_state(&env, 6001).await.as_deref(),
        Some("OrderState:address")
    );

    let status = bot.stop_gracefully(Duration::from_secs(15)).await;
    assert!(
        status.success(),
        "graceful shutdown exits 0: {status:?}\n{}",
        bot.output_tail(30)
    );
    let out = bot.output();
    assert!(
        out.contains("SIGTERM") && out.contains("Бот остановлен"),
        "{out}"
    );
    assert!(!out.contains("panicked"), "{out}");
    drop(bot);

    let _bot = env.start_bot().await;
    finish_after_restart(&env, &u).await;
}

#[tokio::test]
async fn dialog_continues_after_sigkill() {
    let env = test_env().await;
    let bot = env.start_bot().await;
    let u = env.fake.user(6002, "Сергей", "ru");
    walk_to_address(&u).await;
    bot.sigkill();
    assert!(bot.wait_exit(Duration::from_secs(10)).await.is_some());
    drop(bot);
    assert_eq!(
        stored_state(&env, 6002).await.as_deref(),
        Some("OrderState:address")
    );

    let _bot = env.start_bot().await;
    finish_after_restart(&env, &u).await;
}

#[tokio::test]
async fn sigint_stops_the_bot_cleanly() {
    let env = test_env().await;
    let bot: BotProcess = env.start_bot().await;
    bot.sigint();
    let status = bot
        .wait_exit(Duration::from_secs(15))
        .await
        .expect("exits after SIGINT");
    assert!(status.success(), "{status:?}");
    assert!(bot.output().contains("SIGINT"));
}
