//! `/healthz` and `/metrics` on HTTP_ADDR, against the real binary.

use std::time::Duration;

use serde_json::{json, Value};

use crate::ops_support::{get, metric, wait_for_get, with_http};
use crate::support::{RedisOptions, RedisServer};
use crate::{fill_order, test_env};

#[tokio::test]
async fn healthz_is_200_when_healthy_and_503_naming_the_store_when_redis_dies() {
    // Arrange
    let mut redis = RedisServer::start(RedisOptions {
        appendonly: true,
        requirepass: None,
    })
    .await;
    let mut env = test_env().await;
    env.set("REDIS_URL", redis.url());
    let base = with_http(&mut env);
    let bot = env.start_bot().await;

    // Act: healthy
    let (status, body) = wait_for_get(&format!("{base}/healthz"), "healthy", |s, _| s == 200).await;

    // Assert
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body).expect("JSON body");
    assert_eq!(v["status"], "ok", "{body}");
    assert_eq!(v["updates"], "ok", "{body}");
    assert_eq!(v["database"], "ok", "{body}");
    assert_eq!(v["fsm"], "ok", "{body}");
    assert_eq!(v["fsm_backend"], "redis", "{body}");

    // Act: the dialog store goes away
    redis.kill();
    let (status, body) = wait_for_get(
        &format!("{base}/healthz"),
        "unhealthy after Redis died",
        |s, _| s != 200,
    )
    .await;

    // Assert
    assert_eq!(status, 503, "{body}");
    let v: Value = serde_json::from_str(&body).expect("JSON body");
    assert_eq!(v["status"], "unavailable", "{body}");
    assert_eq!(v["failing"], json!(["fsm"]), "{body}");
    assert!(v["fsm"].as_str().unwrap().starts_with("error"), "{body}");
    assert_eq!(v["database"], "ok", "{body}");
    assert!(bot.is_running(), "the bot keeps running without Redis");

    // And recovers once Redis is back.
    redis.restart().await;
    wait_for_get(&format!("{base}/healthz"), "healthy again", |s, _| s == 200).await;
}

#[tokio::test]
async fn healthz_is_503_until_updates_arrive_and_when_the_bot_api_is_gone() {
    // Arrange: the Bot API answers getMe but every getUpdates fails.
    let mut env = test_env().await;
    let base = with_http(&mut env);
    env.fake
        .fail_next("getUpdates", 1_000_000, 502, "Bad Gateway", None);
    let bot = env.spawn_bot();
    bot.wait_for_log("getUpdates failed", Duration::from_secs(30))
        .await;

    // Act
    let (status, body) = get(&format!("{base}/healthz")).await;

    // Assert
    assert_eq!(status, 503, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["failing"], json!(["updates"]), "{body}");
    assert!(
        v["updates"].as_str().unwrap().contains("getUpdates"),
        "{body}"
    );
}

#[tokio::test]
async fn metrics_expose_updates_latencies_dialogs_orders_and_outbox() {
    // Arrange
    let mut env = test_env().await;
    let base = with_http(&mut env);
    let _bot = env.start_bot().await;
    let client = env.fake.user(7101, "Анна", "ru");
    let summary = fill_order(&client).await;
    client.press_button(&summary, "Подтвердить");
    client.expect_text("принята").await;
    // A second client stops halfway: one active dialog.
    let halfway = env.fake.user(7102, "Олег", "ru");
    halfway.send_command("/create_order");
    halfway.expect_text("Какая техника").await;
    // An update the bot does not serve (an edited message) is counted as ignored.
    let edited = halfway.message_json(json!({"text": "правка", "edit_date": 1}));
    let ignored = env.fake.push_raw(json!({ "edited_message": edited }));
    env.fake
        .wait_confirmed(ignored, Duration::from_secs(15))
        .await;

    // Act
    let (status, text) = get(&format!("{base}/metrics")).await;

    // Assert
    assert_eq!(status, 200);
    assert!(metric(&text, "repair_bot_updates_total{kind=\"message\"}") >= 6.0);
    assert!(metric(&text, "repair_bot_updates_total{kind=\"callback\"}") >= 2.0);
    assert!(metric(&text, "repair_bot_updates_total{kind=\"ignored\"}") >= 1.0);
    let handled = metric(&text, "repair_bot_handler_duration_seconds_count");
    assert!(handled >= 8.0, "{text}");
    assert_eq!(
        metric(
            &text,
            "repair_bot_handler_duration_seconds_bucket{le=\"+Inf\"}"
        ),
        handled
    );
    for op in ["get", "set", "clear"] {
        assert!(
            metric(
                &text,
                &format!("repair_bot_fsm_operation_duration_seconds_count{{op=\"{op}\"}}")
            ) >= 1.0,
            "{op}: {text}"
        );
        assert_eq!(
            metric(
                &text,
                &format!("repair_bot_fsm_operation_errors_total{{op=\"{op}\"}}")
            ),
            0.0
        );
    }
    assert_eq!(metric(&text, "repair_bot_fsm_storage_errors_total"), 0.0);
    assert_eq!(
        metric(&text, "repair_bot_fsm_undecodable_states_total"),
        0.0
    );
    assert_eq!(metric(&text, "repair_bot_handler_panics_total"), 0.0);
    assert_eq!(metric(&text, "repair_bot_active_dialogs"), 1.0);
    assert_eq!(metric(&text, "repair_bot_orders{status=\"new\"}"), 1.0);
    assert_eq!(metric(&text, "repair_bot_orders{status=\"closed\"}"), 0.0);
    assert_eq!(metric(&text, "repair_bot_orders_filed_total"), 1.0);
    assert!(metric(&text, "repair_bot_outbox_backlog") >= 0.0);
    assert!(text.contains("# TYPE repair_bot_handler_duration_seconds histogram"));
}
