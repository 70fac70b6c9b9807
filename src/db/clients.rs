//! Clients as records, one per normalised phone number: who called before,
//! where they live, which Telegram user they are (when known).

use super::{now_ms, Database};
use crate::domain::OrderStatus;

/// What the desk and the staff alert say about a returning client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSummary {
    pub id: i64,
    pub phone: String,
    pub name: String,
    pub telegram_id: Option<i64>,
    pub last_address: Option<String>,
    /// Orders filed for this client so far.
    pub orders: i64,
    /// The newest of them: its number and status.
    pub last_order: Option<(i64, OrderStatus)>,
}

/// The upsert run in the transaction that files an order: the client of
/// `phone` gets the order's name and address; a known Telegram user is kept
/// unless this order brings one. Returns the client's id and Telegram user.
pub(super) const UPSERT_CLIENT: &str =
    "INSERT INTO clients (phone, name, telegram_id, last_address, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $5)
     ON CONFLICT (phone) DO UPDATE SET
        name = excluded.name,
        last_address = excluded.last_address,
        telegram_id = COALESCE(excluded.telegram_id, clients.telegram_id),
        updated_at = excluded.updated_at
     RETURNING id, telegram_id";

/// The client record of an order's corrected phone: created from the
/// order's name and address when the number is new. `$1` the phone, `$2`
/// the order, `$3` now. Returns the client's id.
pub(super) const UPSERT_CLIENT_OF_ORDER: &str =
    "INSERT INTO clients (phone, name, telegram_id, last_address, created_at, updated_at)
     SELECT $1, o.client_name, NULL, o.address, $3, $3 FROM orders o WHERE o.id = $2
     ON CONFLICT (phone) DO UPDATE SET updated_at = excluded.updated_at
     RETURNING id";

impl Database {
    /// The client of a normalised phone number, with their order count and
    /// newest order; `None` for a first-time caller.
    pub async fn client_by_phone(&self, phone: &str) -> anyhow::Result<Option<ClientSummary>> {
        type Row = (
            i64,
            String,
            String,
            Option<i64>,
            Option<String>,
            i64,
            Option<i64>,
            Option<String>,
        );
        // One statement: this runs before every order is filed.
        let sql = "SELECT c.id, c.phone, c.name, c.telegram_id, c.last_address,
                (SELECT COUNT(*) FROM orders o WHERE o.client_ref = c.id AND o.deleted_at IS NULL),
                (SELECT MAX(o.id) FROM orders o WHERE o.client_ref = c.id AND o.deleted_at IS NULL),
                (SELECT o.status FROM orders o WHERE o.client_ref = c.id AND o.deleted_at IS NULL ORDER BY o.id DESC LIMIT 1)
             FROM clients c WHERE c.phone = $1";
        let row: Option<Row> = on_pool!(self, pool => sqlx::query_as(sql)
            .bind(phone)
            .fetch_optional(pool)
            .await?);
        Ok(row.map(
            |(id, phone, name, telegram_id, last_address, orders, last_id, last_status)| {
                ClientSummary {
                    id,
                    phone,
                    name,
                    telegram_id,
                    last_address,
                    orders,
                    last_order: last_id.zip(last_status.and_then(|s| s.parse().ok())),
                }
            },
        ))
    }

    /// Links the client of `phone` to a Telegram user who shared that number
    /// as their own contact (Telegram vouches for it); creates the client if
    /// the number is new. The orders phoned in for that number without a
    /// Telegram client become theirs: they see them, are told of their
    /// progress and may cancel or rate them. `true` when the link is new.
    pub async fn link_client_telegram(
        &self,
        phone: &str,
        telegram_id: i64,
        name: &str,
    ) -> anyhow::Result<bool> {
        let now = now_ms();
        let sql = "INSERT INTO clients (phone, name, telegram_id, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $4)
             ON CONFLICT (phone) DO UPDATE SET telegram_id = excluded.telegram_id,
                updated_at = excluded.updated_at
             WHERE clients.telegram_id IS DISTINCT FROM excluded.telegram_id";
        let adopt = "UPDATE orders SET client_id = $1, client_chat_id = $1
             WHERE client_id IS NULL AND client_ref = (SELECT id FROM clients WHERE phone = $2)";
        let changed = in_write_tx!(self, tx => {
            let linked = sqlx::query(sql)
                .bind(phone)
                .bind(name)
                .bind(telegram_id)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query(adopt)
                .bind(telegram_id)
                .bind(phone)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok::<_, anyhow::Error>(linked)
        })?;
        Ok(changed > 0)
    }
}
