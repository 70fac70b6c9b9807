//! Backups of the real binary's SQLite database: `repair-bot backup` taken
//! while orders are being filed holds every order committed before it, is
//! verified, and `repair-bot restore` refuses while the bot runs, then puts
//! it back and keeps the file it replaced.

use std::time::Duration;

use crate::ops_support::run_cli;
use crate::staff::open_shop_with;
use crate::{fill_order, open_db};

#[tokio::test]
async fn a_backup_taken_under_writes_restores_every_committed_order() {
    let shop = open_shop_with(|env| {
        env.set("BACKUP_DIR", "backups");
        env.set("BACKUP_AT", "off");
    })
    .await;
    let clients: Vec<_> = (0..4)
        .map(|i| shop.env.fake.user(6100 + i, "Анна", "ru"))
        .collect();
    for (n, client) in clients[..2].iter().enumerate() {
        let summary = fill_order(client).await;
        client.press_button(&summary, "Подтвердить");
        client
            .expect_text(&format!("Заявка №{} принята", n + 1))
            .await;
    }
    let db = open_db(&shop.env).await;
    let committed = db.count_orders().await.unwrap();
    assert_eq!(committed, 2);
    // More orders are filed while the backup runs.
    let writers = clients[2..].to_vec();
    let load = tokio::spawn(async move {
        for client in &writers {
            let summary = fill_order(client).await;
            client.press_button(&summary, "Подтвердить");
            client.expect_text("принята").await;
        }
    });
    let run = run_cli(&shop.env, &["backup"]).await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(run.stdout.contains("integrity ok"), "{}", run.stdout);
    load.await.unwrap();
    let backups: Vec<_> = std::fs::read_dir(shop.env.path().join("backups"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "db"))
        .collect();
    assert_eq!(backups.len(), 1, "{backups:?}");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&backups[0]).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "a backup holds phones and addresses");
    }
    let file = backups[0].to_str().unwrap().to_string();

    // Not while the bot runs on the database.
    let refused = run_cli(&shop.env, &["restore", &file]).await;
    assert_ne!(refused.code, Some(0), "{}", refused.all());
    assert!(
        refused.stderr.contains("stop it first"),
        "{}",
        refused.all()
    );
    drop(db);
    shop.bot.stop_gracefully(Duration::from_secs(10)).await;
    let run = run_cli(&shop.env, &["restore", &file]).await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(
        run.stdout.contains("replaced database is"),
        "{}",
        run.stdout
    );
    let restored = open_db(&shop.env).await;
    let orders = restored.count_orders().await.unwrap();
    assert!(
        (committed..=4).contains(&orders),
        "every order committed before the backup is in it: {orders}"
    );
    for id in 1..=committed {
        assert!(restored.order(id).await.unwrap().is_some(), "order {id}");
    }
    let db_dir = shop.env.db_path().parent().unwrap().to_path_buf();
    let kept = std::fs::read_dir(&db_dir)
        .unwrap()
        .flatten()
        .any(|e| e.file_name().to_string_lossy().contains(".replaced-"));
    assert!(kept, "the replaced database is kept");

    // A file that is not a database is refused before anything is touched.
    std::fs::write(shop.env.path().join("junk.db"), b"not a database").unwrap();
    let junk = run_cli(&shop.env, &["restore", "junk.db"]).await;
    assert_ne!(junk.code, Some(0), "{}", junk.all());
    assert_eq!(
        open_db(&shop.env).await.count_orders().await.unwrap(),
        orders
    );
}
