//! Faults and hostile input: a panicking handler, random updates of every
//! kind, and the per-client order rate limit.

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::TestUser;
use crate::{fill_order, open_db, test_env, Rng};

#[tokio::test]
async fn a_panic_affects_only_its_update() {
    let mut env = test_env().await;
    env.set("FAULT_PANIC_ON_TEXT", "💥 boom");
    let bot = env.start_bot().await;
    let victim = env.fake.user(8001, "Пётр", "ru");
    let bystander = env.fake.user(8002, "Ира", "ru");

    victim.send_command("/create_order");
    let m = victim.expect_text("Какая техника").await;
    victim.press_button(&m, "Микроволновка");
    victim.expect_text("Опишите неисправность").await;
    victim.send_text("💥 boom");
    victim.expect_text("Извините, что-то пошло не так").await;

    // The bot runs on, the victim's dialog is where it was, others are served.
    bystander.send_command("/start");
    bystander.expect_text("Здравствуйте, Ира").await;
    victim.send_text("Не греет, но крутится тарелка");
    victim.expect_text("Укажите адрес").await;
    assert!(bot.is_running());
    let log = std::fs::read_to_string(env.log_dir().join("bot.log")).unwrap();
    assert!(
        log.contains("handler panicked; the bot keeps running"),
        "the panic is logged"
    );
}

#[tokio::test]
async fn the_order_rate_limit_stops_a_flood_with_a_clear_message() {
    let mut env = test_env().await;
    env.set("MAX_ORDERS_PER_HOUR", "2");
    let _bot = env.start_bot().await;
    let u = env.fake.user(8003, "Флуд", "ru");
    for n in 1..=2 {
        let summary = fill_order(&u).await;
        u.press_button(&summary, "Подтвердить");
        u.expect_text(&format!("Заявка №{n} принята")).await;
    }
    u.send_command("/create_order");
    u.expect_text("Вы уже оставили 2 заявки за последний час")
        .await;
    assert_eq!(open_db(&env).await.count_orders().await.unwrap(), 2);
}

/// Random text: Cyrillic, emoji, control and formatting characters, markup,
/// sometimes empty, sometimes far over Telegram's limits.
fn fuzz_text(rng: &mut Rng) -> String {
    const PIECES: &[&str] = &[
        "а",
        "Ж",
        "ё",
        "x",
        "7",
        " ",
        "\n",
        "\t",
        "😀",
        "👨‍👩‍👧",
        "\u{200b}",
        "\u{202e}",
        "ﷺ",
        "𝔘",
        "\u{0}",
        "'",
        "\"",
        "<b>",
        "</i>",
        "*_`[",
        "\\",
        "%s",
        "{id}",
        "{{",
        "${x}",
        "/",
        "@",
        "#",
    ];
    let len = match rng.below(10) {
        0 => 5_000 + rng.below(15_000) as usize,
        1 => 0,
        _ => rng.below(40) as usize,
    };
    (0..len).map(|_| *rng.pick(PIECES)).collect()
}

fn random_update(rng: &mut Rng, users: &[TestUser], bot_id: i64) -> Value {
    let u = rng.pick(users).clone();
    let private_msg = |extra: Value| u.message_json(extra);
    const COMMANDS: &[&str] = &[
        "/start",
        "/help",
        "/cancel",
        "/my_orders",
        "/orders",
        "/orders lost",
        "/stats",
        "/export 2020-13-40",
        "/add_master abc",
        "/add_master 1",
        "/remove_master x",
        "/order 999999",
        "/order -1",
        "/my_jobs",
        "/nonsense",
        "/start@OtherBot",
        "/",
        "/создать",
    ];
    const CALLBACKS: &[&str] = &[
        "",
        "eq:",
        "eq:toaster",
        "eq:tv",
        "vt:never",
        "cf:yes",
        "cf:edit",
        "cf:no",
        "ed:price",
        "o:card:1",
        "o:am:1:2:0",
        "o:am:999:999:999",
        "o:rv:1:9",
        "o:cn:0",
        "l:all:99999",
        "l:new:-1",
        "sd:skip",
        "sd:master",
        "o:card:99999999999999999999",
        "\u{0}\u{1}",
        "ж:ж:ж",
    ];
    match rng.below(14) {
        0..=2 => json!({"message": private_msg(json!({"text": fuzz_text(rng)}))}),
        3 => {
            let cmd = rng.pick(COMMANDS).to_string();
            let len = cmd
                .split_whitespace()
                .next()
                .unwrap_or("")
                .encode_utf16()
                .count();
            json!({"message": private_msg(json!({"text": cmd, "entities": [{"type": "bot_command", "offset": 0, "length": len}]}))})
        }
        4 => {
            let data = if rng.below(3) == 0 {
                fuzz_text(rng).chars().take(64).collect()
            } else {
                rng.pick(CALLBACKS).to_string()
            };
            json!({"callback_query": {
                "id": format!("fz{}", rng.next_u64()), "from": u.user_json(), "chat_instance": "fuzz",
                "message": {"message_id": 1, "date": 0, "chat": {"id": u.id, "type": "private", "first_name": u.first_name}, "text": "old"},
                "data": data,
            }})
        }
        5 => {
            let mut edited = private_msg(json!({"text": fuzz_text(rng)}));
            edited["edit_date"] = json!(1);
            json!({"edited_message": edited})
        }
        6 => {
            let group = u.in_group(-100 - rng.below(5) as i64, "Чат");
            json!({"message": group.message_json(json!({"text": "/create_order"}))})
        }
        7 => {
            json!({"channel_post": {"message_id": 5, "date": 0, "chat": {"id": -1001234, "type": "channel", "title": "Канал"}, "text": fuzz_text(rng)}})
        }
        8 => {
            json!({"inline_query": {"id": "iq", "from": u.user_json(), "query": fuzz_text(rng), "offset": ""}})
        }
        9 => {
            json!({"my_chat_member": {"chat": {"id": u.id, "type": "private", "first_name": "x"}, "from": u.user_json(), "date": 0,
            "old_chat_member": {"status": "member", "user": {"id": bot_id, "is_bot": true, "first_name": "bot"}},
            "new_chat_member": {"status": "kicked", "until_date": 0, "user": {"id": bot_id, "is_bot": true, "first_name": "bot"}}}})
        }
        10 => {
            json!({"message": private_msg(json!({"sticker": {"file_id": "s", "file_unique_id": "s", "type": "regular", "width": 1, "height": 1, "is_animated": false, "is_video": false}}))})
        }
        11 => {
            json!({"message": private_msg(json!({"location": {"latitude": 55.7, "longitude": 37.6}}))})
        }
        12 => json!({"some_future_update_kind": {"anything": [1, 2, 3]}}),
        _ => {
            json!({"message": {"message_id": 9, "date": 0, "chat": {"id": u.id, "type": "private", "first_name": "b"},
            "from": {"id": 424242, "is_bot": true, "first_name": "OtherBot"}, "text": "/create_order"}})
        }
    }
}

#[tokio::test]
async fn random_updates_never_crash_stick_or_write_what_they_should_not() {
    let mut rng = Rng::from_env("FUZZ_SEED");
    let seed = rng.seed;
    let env = test_env().await;
    let bot = env.start_bot().await;
    let users: Vec<TestUser> = (0..12)
        .map(|i| {
            env.fake
                .user(9000 + i, "Фазз", if i % 2 == 0 { "ru" } else { "en" })
        })
        .collect();
    let bot_id = env.fake.bot_id();

    let mut last = 0;
    for _ in 0..400 {
        last = env.fake.push_raw(random_update(&mut rng, &users, bot_id));
    }
    env.fake.wait_confirmed(last, Duration::from_secs(60)).await;

    assert!(
        bot.is_running(),
        "seed {seed}: the bot survived\n{}",
        bot.output_tail(40)
    );
    let out = bot.output();
    assert!(!out.contains("panicked"), "seed {seed}: no panic\n{out}");
    let db = open_db(&env).await;
    assert_eq!(
        db.count_orders().await.unwrap(),
        0,
        "seed {seed}: random input files no order"
    );
    let pool = db.sqlite_pool().unwrap();
    let foreign: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM fsm_state WHERE chat_id < 0 OR user_id NOT BETWEEN 9000 AND 9011",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(
        foreign, 0,
        "seed {seed}: groups, channels and bots start no dialog"
    );
    let people: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM people")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(people, 0, "seed {seed}: clients cannot add staff");

    // Nobody is stuck: every fuzzed user can still file an order from scratch.
    for u in users.iter().take(3) {
        u.skip_all();
        u.send_command("/cancel");
        let summary = if u.lang == "ru" {
            fill_order(u).await
        } else {
            u.send_command("/create_order");
            u.expect_text("What needs repair?").await
        };
        if u.lang == "ru" {
            u.press_button(&summary, "Подтвердить");
            u.expect_text("принята").await;
        }
    }
}
