//! The polling inbox: updates confirmed to Telegram but not yet handled
//! (see `migrations/*/0002_inbox.sql` and `bot::polling`).

use super::{now_ms, Database};

/// One stored update: its id and the handlers' view of it, as JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxEntry {
    pub update_id: i64,
    pub payload: String,
}

impl Database {
    /// In one transaction: stores `received` and forgets every entry below
    /// `handled_below` (those are handled). Once this returns, the received
    /// updates survive a crash, so they may be confirmed to Telegram.
    /// Storing an update id twice keeps the first copy.
    pub async fn inbox_store(
        &self,
        received: &[InboxEntry],
        handled_below: Option<i64>,
    ) -> anyhow::Result<()> {
        in_write_tx!(self, tx => {
            if let Some(below) = handled_below {
                sqlx::query("DELETE FROM inbox WHERE update_id < $1")
                    .bind(below)
                    .execute(&mut *tx)
                    .await?;
            }
            let now = now_ms();
            for entry in received {
                sqlx::query(
                    "INSERT INTO inbox (update_id, payload, received_at) VALUES ($1, $2, $3)
                     ON CONFLICT (update_id) DO NOTHING",
                )
                .bind(entry.update_id)
                .bind(&entry.payload)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Forgets every entry below `handled_below` (those are handled).
    pub async fn inbox_forget_below(&self, handled_below: i64) -> anyhow::Result<()> {
        on_writer!(self, pool => sqlx::query("DELETE FROM inbox WHERE update_id < $1")
            .bind(handled_below)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Every stored entry, oldest first: what to handle before polling again.
    pub async fn inbox_entries(&self) -> anyhow::Result<Vec<InboxEntry>> {
        let rows: Vec<(i64, String)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT update_id, payload FROM inbox ORDER BY update_id"
        )
        .fetch_all(pool)
        .await)?;
        Ok(rows
            .into_iter()
            .map(|(update_id, payload)| InboxEntry { update_id, payload })
            .collect())
    }
}
