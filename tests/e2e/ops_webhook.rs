//! Webhook mode: setWebhook with the secret, the secret check, a dialog
//! driven by POSTed updates, and a shutdown that leaves the webhook alone.

use std::time::Duration;

use serde_json::{json, Value};

use crate::ops_support::{free_port, get, http};
use crate::support::{TestEnv, TestUser};
use crate::{stored_state, test_env};

pub const SECRET: &str = "hook-Secret_0123456789";

/// Webhook env on a free port; returns the webhook URL.
pub fn webhook_env(env: &mut TestEnv) -> String {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/telegram/hook");
    env.set("HTTP_ADDR", format!("127.0.0.1:{port}"))
        .set("WEBHOOK_URL", url.clone())
        .set("WEBHOOK_SECRET", SECRET);
    url
}

fn command_update(user: &TestUser, update_id: i64, cmd: &str) -> Value {
    let len = cmd.encode_utf16().count();
    json!({
        "update_id": update_id,
        "message": user.message_json(json!({
            "text": cmd,
            "entities": [{"type": "bot_command", "offset": 0, "length": len}],
        })),
    })
}

pub async fn post(url: &str, secret: Option<&str>, body: String) -> u16 {
    let mut req = http()
        .post(url)
        .header("content-type", "application/json")
        .body(body);
    if let Some(s) = secret {
        req = req.header("X-Telegram-Bot-Api-Secret-Token", s);
    }
    req.send()
        .await
        .unwrap_or_else(|e| panic!("POST {url}: {e}"))
        .status()
        .as_u16()
}

#[tokio::test]
async fn webhook_mode_sets_the_webhook_with_its_secret_and_never_polls() {
    // Arrange
    let mut env = test_env().await;
    let url = webhook_env(&mut env);

    // Act
    let bot = env.start_bot().await;

    // Assert
    let hook = env.fake.webhook().expect("setWebhook was called");
    assert_eq!(hook.url, url);
    assert_eq!(hook.secret_token.as_deref(), Some(SECRET));
    let calls = env.fake.calls_to("setwebhook");
    assert_eq!(calls.len(), 1, "{}", env.fake.calls_summary());
    let allowed = calls[0].params["allowed_updates"].to_string();
    assert!(
        allowed.contains("message") && allowed.contains("callback_query"),
        "{allowed}"
    );
    assert!(env.fake.calls_to("getupdates").is_empty());
    assert!(env.fake.calls_to("deletewebhook").is_empty());
    let health = get(&url.replace("/telegram/hook", "/healthz")).await;
    assert_eq!(health.0, 200, "{health:?}");
    assert!(
        !bot.output().contains(SECRET),
        "the webhook secret is never logged"
    );
}

#[tokio::test]
async fn webhook_refuses_missing_or_wrong_secret_and_malformed_bodies() {
    // Arrange
    let mut env = test_env().await;
    let url = webhook_env(&mut env);
    let bot = env.start_bot().await;
    let user = env.fake.user(7201, "Ирина", "ru");
    let update = command_update(&user, 900_001, "/create_order").to_string();

    // Act + Assert
    assert_eq!(post(&url, None, update.clone()).await, 401);
    assert_eq!(
        post(&url, Some("hook-Secret_0123456780"), update.clone()).await,
        401
    );
    assert_eq!(post(&url, Some(SECRET), "{not json".into()).await, 400);
    assert_eq!(post(&url, Some(SECRET), "[1,2,3]".into()).await, 400);
    assert!(bot.is_running(), "bad requests do not crash the bot");
    // The same update with the right secret is handled; the refused copies were not.
    let ok = command_update(&user, 900_002, "/create_order").to_string();
    assert_eq!(post(&url, Some(SECRET), ok).await, 200);
    user.expect_text("Какая техника").await;
    let prompts = env
        .fake
        .messages_to(7201)
        .iter()
        .filter(|m| m.text.contains("Какая техника"))
        .count();
    assert_eq!(
        prompts,
        1,
        "refused updates did nothing: {}",
        user.transcript()
    );
    let out = bot.output();
    assert!(out.contains("webhook request refused"), "{out}");
    assert!(
        !out.contains("hook-Secret_012345678"),
        "no secret (or near-miss) in logs: {out}"
    );
}

#[tokio::test]
async fn a_posted_update_drives_the_dialog_and_sigterm_keeps_the_webhook() {
    // Arrange
    let mut env = test_env().await;
    let url = webhook_env(&mut env);
    let bot = env.start_bot().await;
    let user = env.fake.user(7202, "Павел", "ru");

    // Act
    let status = post(
        &url,
        Some(SECRET),
        command_update(&user, 900_010, "/create_order").to_string(),
    )
    .await;

    // Assert
    assert_eq!(status, 200);
    user.expect_text("Какая техника").await;
    assert_eq!(
        stored_state(&env, 7202).await.as_deref(),
        Some("OrderState:equipment")
    );

    // A redelivery of update 900_010 (Telegram retries) changes nothing; the
    // next real update, handled after it in per-user order, is applied once.
    for (id, cmd) in [(900_010, "/cancel"), (900_011, "/cancel")] {
        let status = post(
            &url,
            Some(SECRET),
            command_update(&user, id, cmd).to_string(),
        )
        .await;
        assert_eq!(status, 200);
    }
    user.expect_text("Оформление заявки отменено").await;
    assert_eq!(stored_state(&env, 7202).await, None);
    let cancels = env
        .fake
        .messages_to(7202)
        .iter()
        .filter(|m| {
            m.text.contains("Оформление заявки отменено") || m.text.contains("нечего отменять")
        })
        .count();
    assert_eq!(cancels, 1, "{}", user.transcript());

    // Act: graceful stop
    let exit = bot.stop_gracefully(Duration::from_secs(20)).await;

    // Assert
    assert!(exit.success(), "{exit:?}\n{}", bot.output_tail(20));
    assert!(
        env.fake.calls_to("deletewebhook").is_empty(),
        "other replicas may still serve the webhook: {}",
        env.fake.calls_summary()
    );
    assert!(env.fake.webhook().is_some());
}
