//! Masters' work groups and the order cards posted in them: which group a
//! master works from (one each), and which message shows an order there, so
//! that the card is edited in place as the order moves.

use super::{now_ms, Database};

/// A work group bound to a master.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkGroup {
    pub chat_id: i64,
    pub master_id: i64,
    pub title: String,
}

/// What a binding replaced: the master's previous group, and the master
/// the group served before (each told by the caller).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rebound {
    pub old_group_of_master: Option<i64>,
    pub old_master_of_group: Option<i64>,
}

impl Database {
    /// Binds group `chat_id` to `master_id`, replacing the master's former
    /// group and the group's former master (one group per master, one
    /// master per group), in one transaction.
    pub async fn bind_group(
        &self,
        chat_id: i64,
        master_id: i64,
        title: &str,
        by: i64,
    ) -> anyhow::Result<Rebound> {
        let now = now_ms();
        in_write_tx!(self, tx => {
            let old_group: Option<i64> =
                sqlx::query_scalar("SELECT chat_id FROM master_groups WHERE master_id = $1")
                    .bind(master_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let old_master: Option<i64> =
                sqlx::query_scalar("SELECT master_id FROM master_groups WHERE chat_id = $1")
                    .bind(chat_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            sqlx::query("DELETE FROM master_groups WHERE chat_id = $1 OR master_id = $2")
                .bind(chat_id)
                .bind(master_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO master_groups (chat_id, master_id, title, bound_by, bound_at)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(chat_id)
            .bind(master_id)
            .bind(title)
            .bind(by)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(Rebound {
                old_group_of_master: old_group.filter(|g| *g != chat_id),
                old_master_of_group: old_master.filter(|m| *m != master_id),
            })
        })
    }

    /// Unbinds group `chat_id`; the master it served, if any.
    pub async fn unbind_group(&self, chat_id: i64) -> anyhow::Result<Option<i64>> {
        in_write_tx!(self, tx => {
            let master: Option<i64> =
                sqlx::query_scalar("DELETE FROM master_groups WHERE chat_id = $1 RETURNING master_id")
                    .bind(chat_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            sqlx::query("DELETE FROM order_cards WHERE chat_id = $1")
                .bind(chat_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(master)
        })
    }

    /// A group became a supergroup under a new id: its binding moves with
    /// it. The old group's messages cannot be edited from the new one, so
    /// its cards are forgotten (the next change posts them anew). `true`
    /// when a binding moved.
    pub async fn migrate_group(&self, old_chat: i64, new_chat: i64) -> anyhow::Result<bool> {
        in_write_tx!(self, tx => {
            let moved = sqlx::query("UPDATE master_groups SET chat_id = $1 WHERE chat_id = $2")
                .bind(new_chat)
                .bind(old_chat)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query("DELETE FROM order_cards WHERE chat_id = $1")
                .bind(old_chat)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE bot_groups SET chat_id = $1 WHERE chat_id = $2")
                .bind(new_chat)
                .bind(old_chat)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(moved > 0)
        })
    }

    /// The group a master works from.
    pub async fn group_of_master(&self, master_id: i64) -> anyhow::Result<Option<WorkGroup>> {
        let sql = "SELECT chat_id, master_id, title FROM master_groups WHERE master_id = $1";
        self.work_group(sql, master_id).await
    }

    /// The master a group is bound to.
    pub async fn group(&self, chat_id: i64) -> anyhow::Result<Option<WorkGroup>> {
        let sql = "SELECT chat_id, master_id, title FROM master_groups WHERE chat_id = $1";
        self.work_group(sql, chat_id).await
    }

    async fn work_group(&self, sql: &str, id: i64) -> anyhow::Result<Option<WorkGroup>> {
        let row: Option<(i64, i64, String)> = on_pool!(self, pool => sqlx::query_as(sql)
            .bind(id)
            .fetch_optional(pool)
            .await?);
        Ok(row.map(|(chat_id, master_id, title)| WorkGroup {
            chat_id,
            master_id,
            title,
        }))
    }

    /// Every bound group, by master.
    pub async fn work_groups(&self) -> anyhow::Result<Vec<WorkGroup>> {
        let sql = "SELECT chat_id, master_id, title FROM master_groups ORDER BY master_id";
        let rows: Vec<(i64, i64, String)> =
            on_pool!(self, pool => sqlx::query_as(sql).fetch_all(pool).await?);
        Ok(rows
            .into_iter()
            .map(|(chat_id, master_id, title)| WorkGroup {
                chat_id,
                master_id,
                title,
            })
            .collect())
    }

    /// The message showing order `order_id`'s card in `chat_id`, if posted.
    pub async fn card_message(&self, order_id: i64, chat_id: i64) -> anyhow::Result<Option<i32>> {
        let sql = "SELECT message_id FROM order_cards WHERE order_id = $1 AND chat_id = $2";
        let id: Option<i64> = on_pool!(self, pool => sqlx::query_scalar(sql)
            .bind(order_id)
            .bind(chat_id)
            .fetch_optional(pool)
            .await?);
        Ok(id.and_then(|m| i32::try_from(m).ok()))
    }

    /// Remembers the message that shows order `order_id`'s card in `chat_id`.
    pub async fn remember_card(
        &self,
        order_id: i64,
        chat_id: i64,
        message_id: i32,
    ) -> anyhow::Result<()> {
        let sql = "INSERT INTO order_cards (order_id, chat_id, message_id) VALUES ($1, $2, $3)
             ON CONFLICT (order_id, chat_id) DO UPDATE SET message_id = excluded.message_id";
        on_writer!(self, pool => sqlx::query(sql)
            .bind(order_id)
            .bind(chat_id)
            .bind(i64::from(message_id))
            .execute(pool)
            .await
            .map(drop))?;
        Ok(())
    }
}
