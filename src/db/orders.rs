use super::clients::UPSERT_CLIENT;
use super::jobs::jobs_insert_query;
use super::outbox::{enqueue_query, payloads, queued_items};
use super::status_list;
use super::{now_ms, Database, DbKind, Notification, OutboxItem, ORDER_COLUMNS};
use crate::domain::schedule::NewJob;
use crate::domain::{
    Actor, ApplianceKind, ClosedMoney, Code, Money, OrderFacts, OrderStatus, SearchQuery,
    StatusGroup,
};

/// A validated order ready to be filed (built from a complete draft).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    /// The client's Telegram user and private chat; `None` for an order
    /// phoned in at the desk, which then goes to the Telegram user the
    /// phone's client record is linked to, if any.
    pub client_id: Option<i64>,
    pub client_chat_id: Option<i64>,
    /// Who filed it: the client themselves, or the dispatcher who took the
    /// call (the first history entry names them).
    pub filed_by: Actor,
    /// The Telegram user whose own number `phone` is, when that is known
    /// for sure (a shared own contact): their client record is linked to
    /// them, and every order of that number becomes theirs to see. A typed
    /// number links nobody.
    pub client_telegram: Option<i64>,
    pub client_name: String,
    pub client_lang: String,
    pub equipment: ApplianceKind,
    pub description: String,
    pub photo_file_id: Option<String>,
    pub address: String,
    pub phone: String,
    pub visit_time: String,
    /// The day and window understood from `visit_time`, if it named one.
    pub visit: Option<VisitBounds>,
    /// The dispatcher's notes for the master ("домофон не работает").
    pub notes: Option<String>,
    /// Reminders and escalations the new order starts (stored with it).
    pub jobs: Vec<NewJob>,
}

/// A visit window as stored: its first and last moment (Unix ms) and its
/// kind (`at`, `after`, `before`, `between`, `any`), enough to show it again
/// in the shop's time and to schedule around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitBounds {
    pub from_ms: i64,
    pub to_ms: i64,
    pub window: &'static str,
}

impl VisitBounds {
    /// A visit's window as instants of `tz` (the shop's time zone).
    pub fn of(v: &crate::domain::Visit, tz: &jiff::tz::TimeZone) -> Self {
        Self {
            from_ms: v.starts_at(tz).as_millisecond(),
            to_ms: v.ends_at(tz).as_millisecond(),
            window: v.window_code(),
        }
    }
}

/// An order as stored; decoded from an [`ORDER_COLUMNS`](super::ORDER_COLUMNS) row of either backend.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Order {
    pub id: i64,
    /// The client's Telegram user and chat; `None` while a phoned-in
    /// order's caller is not known on Telegram.
    pub client_id: Option<i64>,
    pub client_chat_id: Option<i64>,
    pub client_name: String,
    pub client_lang: String,
    /// An unknown stored kind reads as `other` (see [`ApplianceKind`]'s `From<String>`).
    #[sqlx(try_from = "String")]
    pub equipment: ApplianceKind,
    pub description: String,
    pub photo_file_id: Option<String>,
    pub address: String,
    pub phone: String,
    pub visit_time: String,
    /// An unknown stored status fails the read: it would be a corrupt row.
    #[sqlx(try_from = "String")]
    pub status: OrderStatus,
    pub master_id: Option<i64>,
    pub work_done: Option<String>,
    /// The money of a closed order, in kopecks (see [`Order::money`]).
    pub total_kopecks: Option<i64>,
    pub materials_kopecks: Option<i64>,
    pub master_kopecks: Option<i64>,
    pub company_kopecks: Option<i64>,
    pub master_percent: Option<i64>,
    pub out_of_city: Option<bool>,
    pub has_review: Option<bool>,
    /// A long repair's terms (see [`crate::domain::RepairTerms`]): the due
    /// date as typed and its moment (ms), the parts, the agreed price and
    /// the prepayment (kopecks).
    pub repair_due_text: Option<String>,
    pub repair_due_at: Option<i64>,
    pub repair_parts: Option<String>,
    pub repair_price_kopecks: Option<i64>,
    pub prepayment_kopecks: Option<i64>,
    pub rating: Option<i64>,
    pub rating_comment: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// When it was closed (ms).
    pub done_at: Option<i64>,
    /// First moment of the visit window (Unix ms), when one was understood.
    pub visit_from: Option<i64>,
    /// Last moment of the visit window (Unix ms).
    pub visit_to: Option<i64>,
    /// Kind of window (see [`VisitBounds`]).
    pub visit_window: Option<String>,
    /// The client record of the order's phone (`clients.id`).
    pub client_ref: Option<i64>,
    /// The dispatcher's notes for the master.
    pub notes: Option<String>,
    /// Why the shop refused it (set with the `refused` status).
    pub refuse_reason: Option<String>,
    /// How many times the visit was moved.
    pub reschedules: i64,
    /// The order's number in the bot it was imported from (Status_bot).
    pub legacy_number: Option<i64>,
    /// When it was deleted there (ms): kept, shown as deleted, never changed.
    pub deleted_at: Option<i64>,
}

impl Order {
    /// What the client paid, once the order is closed.
    pub fn total(&self) -> Option<Money> {
        self.total_kopecks.map(Money::from_kopecks)
    }

    /// The split of a closed order, when it was split (orders closed
    /// before the money rules have a total only).
    pub fn money(&self) -> Option<ClosedMoney> {
        let k = Money::from_kopecks;
        Some(ClosedMoney {
            total: k(self.total_kopecks?),
            materials: k(self.materials_kopecks.unwrap_or(0)),
            master: k(self.master_kopecks?),
            company: k(self.company_kopecks?),
            master_percent: u32::try_from(self.master_percent.unwrap_or(0)).unwrap_or(0),
            out_of_city: self.out_of_city.unwrap_or(false),
            review: self.has_review.unwrap_or(false),
        })
    }

    /// What the lifecycle rules look at.
    pub fn facts(&self) -> OrderFacts {
        OrderFacts {
            status: self.status,
            client_id: self.client_id,
            master_id: self.master_id,
            rated: self.rating.is_some(),
            deleted: self.deleted_at.is_some(),
        }
    }
}

impl Database {
    /// Files an order, its first history entry and its notifications in one
    /// transaction. Idempotent per `source_update_id`: a redelivered update
    /// returns the order it already filed (and `false`), sending nothing twice,
    /// even when both deliveries are being handled at the same moment.
    pub async fn create_order(
        &self,
        new: &NewOrder,
        source_update_id: Option<i64>,
        notifications: impl FnOnce(&Order) -> Vec<Notification>,
    ) -> anyhow::Result<(Order, bool)> {
        let (order, created, _) = self
            .create_order_queued(new, source_update_id, notifications)
            .await?;
        Ok((order, created))
    }

    /// [`Database::create_order`] that also returns the outbox rows it
    /// queued (none when the order was already filed), so the outbox worker
    /// can be handed them at once instead of looking for them in the table.
    pub async fn create_order_queued(
        &self,
        new: &NewOrder,
        source_update_id: Option<i64>,
        notifications: impl FnOnce(&Order) -> Vec<Notification>,
    ) -> anyhow::Result<(Order, bool, Vec<OutboxItem>)> {
        let by_source = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE source_update_id = $1");
        let new_status = OrderStatus::New.code();
        let insert = format!(
            "INSERT INTO orders (client_id, client_chat_id, client_name, client_lang, equipment, description,
                photo_file_id, address, phone, visit_time, status, source_update_id, created_at, updated_at,
                visit_from, visit_to, visit_window, client_ref, notes)
             VALUES (COALESCE($1, $17), COALESCE($2, $17), $3, $4, $5, $6, $7, $8, $9, $10, '{new_status}',
                $11, $12, $12, $13, $14, $15, $16, $18)
             ON CONFLICT (source_update_id) DO NOTHING
             RETURNING {ORDER_COLUMNS}"
        );
        // PostgreSQL spends a sequence number on an insert that conflicts,
        // leaving a gap in order numbers: it looks for a redelivery first.
        // SQLite numbers rows from the table itself, so the insert alone
        // answers both cases, one statement less per order.
        let look_first = self.kind() == DbKind::Postgres;
        in_write_tx!(self, tx => {
            if let (Some(update_id), true) = (source_update_id, look_first) {
                let existing: Option<Order> = sqlx::query_as(&by_source)
                    .bind(update_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                if let Some(order) = existing {
                    return Ok((order, false, Vec::new()));
                }
            }
            let now = now_ms();
            // The client record first: a redelivered update updates it to
            // the same values, and its order is then found below.
            let (client_ref, client_telegram): (i64, Option<i64>) = sqlx::query_as(UPSERT_CLIENT)
                .bind(&new.phone)
                .bind(&new.client_name)
                .bind(new.client_telegram)
                .bind(&new.address)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
            let inserted: Option<Order> = sqlx::query_as(&insert)
                .bind(new.client_id)
                .bind(new.client_chat_id)
                .bind(&new.client_name)
                .bind(&new.client_lang)
                .bind(new.equipment.code())
                .bind(&new.description)
                .bind(&new.photo_file_id)
                .bind(&new.address)
                .bind(&new.phone)
                .bind(&new.visit_time)
                .bind(source_update_id)
                .bind(now)
                .bind(new.visit.as_ref().map(|v| v.from_ms))
                .bind(new.visit.as_ref().map(|v| v.to_ms))
                .bind(new.visit.as_ref().map(|v| v.window))
                .bind(client_ref)
                .bind(client_telegram)
                .bind(&new.notes)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(order) = inserted else {
                // A concurrent delivery of the same update filed it after our
                // look-up (PostgreSQL: the insert waited for that transaction
                // and, READ COMMITTED, this next statement sees its order).
                let order: Order = sqlx::query_as(&by_source)
                    .bind(source_update_id)
                    .fetch_one(&mut *tx)
                    .await?;
                return Ok((order, false, Vec::new()));
            };
            sqlx::query(
                "INSERT INTO order_history (order_id, action, from_status, to_status, actor_id, actor_role, at)
                 VALUES ($1, 'create', NULL, 'new', $2, $3, $4)",
            )
            .bind(order.id)
            .bind(new.filed_by.user_id)
            .bind(new.filed_by.role().code())
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if let Some(mut insert) = jobs_insert_query(Some(order.id), &new.jobs, now) {
                insert.build().execute(&mut *tx).await?;
            }
            let rows = payloads(notifications(&order))?;
            let mut queued = Vec::new();
            if let Some(mut insert) = enqueue_query(&rows, now) {
                insert.push(" RETURNING id, payload");
                let returned: Vec<(i64, String)> =
                    insert.build_query_as().fetch_all(&mut *tx).await?;
                queued = queued_items(rows, returned);
            }
            tx.commit().await?;
            Ok((order, true, queued))
        })
    }

    /// One order by number.
    pub async fn order(&self, id: i64) -> anyhow::Result<Option<Order>> {
        let sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1");
        on_pool!(self, pool => {
            let order: Option<Order> = sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?;
            Ok(order)
        })
    }

    /// The orders a Telegram user filed themselves, newest first (not those
    /// phoned in for their number: see [`Database::orders_of_client`]).
    pub async fn orders_filed_by(&self, client_id: i64, limit: i64) -> anyhow::Result<Vec<Order>> {
        self.orders_where("client_id = $1", client_id, limit).await
    }

    /// A Telegram user's orders, newest first: those they filed, and those
    /// filed for the phone number they shared as their own (a phoned-in order).
    pub async fn orders_of_client(&self, client_id: i64, limit: i64) -> anyhow::Result<Vec<Order>> {
        let own_or_linked =
            "client_id = $1 OR client_ref IN (SELECT id FROM clients WHERE telegram_id = $1)";
        self.orders_where(own_or_linked, client_id, limit).await
    }

    /// Orders matching `condition` on one id parameter, newest first.
    async fn orders_where(
        &self,
        condition: &str,
        id: i64,
        limit: i64,
    ) -> anyhow::Result<Vec<Order>> {
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE ({condition}) AND deleted_at IS NULL ORDER BY id DESC LIMIT $2"
        );
        on_pool!(self, pool => {
            let orders: Vec<Order> = sqlx::query_as(&sql)
                .bind(id)
                .bind(limit)
                .fetch_all(pool)
                .await?;
            Ok(orders)
        })
    }

    /// How many orders a client filed since `since_ms` (rate limit).
    pub async fn count_orders_since(&self, client_id: i64, since_ms: i64) -> anyhow::Result<i64> {
        let sql = "SELECT COUNT(*) FROM orders WHERE client_id = $1 AND created_at >= $2";
        on_pool!(self, pool => Ok(sqlx::query_scalar(sql)
            .bind(client_id)
            .bind(since_ms)
            .fetch_one(pool)
            .await?))
    }

    /// Orders per status code (metrics, `/stats`).
    pub async fn count_by_status(&self) -> anyhow::Result<Vec<(String, i64)>> {
        let sql = "SELECT status, COUNT(*) FROM orders WHERE deleted_at IS NULL GROUP BY status ORDER BY status";
        on_pool!(self, pool => Ok(sqlx::query_as(sql).fetch_all(pool).await?))
    }

    /// A page of orders, newest first, optionally of one status; and the total.
    pub async fn orders_page(
        &self,
        status: Option<OrderStatus>,
        limit: i64,
        offset: i64,
    ) -> anyhow::Result<(Vec<Order>, i64)> {
        let code = status.map(|s| s.code());
        let page = format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE ($1 IS NULL OR status = $1) AND deleted_at IS NULL
             ORDER BY id DESC LIMIT $2 OFFSET $3"
        );
        let count =
            "SELECT COUNT(*) FROM orders WHERE ($1 IS NULL OR status = $1) AND deleted_at IS NULL";
        on_pool!(self, pool => {
            let orders: Vec<Order> = sqlx::query_as(&page)
                .bind(code)
                .bind(limit)
                .bind(offset)
                .fetch_all(pool)
                .await?;
            let total: i64 = sqlx::query_scalar(count).bind(code).fetch_one(pool).await?;
            Ok((orders, total))
        })
    }

    /// A master's open orders, oldest first.
    pub async fn open_jobs_of_master(&self, master_id: i64) -> anyhow::Result<Vec<Order>> {
        let with_master = status_list(StatusGroup::WithMaster);
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM orders
             WHERE master_id = $1 AND status IN {with_master} AND deleted_at IS NULL ORDER BY id"
        );
        on_pool!(self, pool => {
            let orders: Vec<Order> = sqlx::query_as(&sql).bind(master_id)
                .fetch_all(pool)
                .await?;
            Ok(orders)
        })
    }

    /// Orders that fit `query`, newest first, at most `limit` of them, and
    /// how many fit in all. Deleted orders are found by their number only. A phone or an order number is looked up by its
    /// column; a piece of a phone, an address or a name is matched in Rust
    /// against every order (SQLite's LIKE folds only ASCII case, and "Ленина"
    /// must find "ул. ленина"): a scan a staff search can afford.
    pub async fn search_orders(
        &self,
        query: &SearchQuery,
        limit: usize,
    ) -> anyhow::Result<(Vec<Order>, usize)> {
        use futures::TryStreamExt;
        let sql = match (query.only_order(), query) {
            (Some(_), _) => format!(
                "SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1 OR legacy_number = $1 ORDER BY id DESC"
            ),
            (None, SearchQuery::Phone(_)) => {
                format!(
                    "SELECT {ORDER_COLUMNS} FROM orders WHERE phone = $1 AND deleted_at IS NULL ORDER BY id DESC"
                )
            }
            (None, _) => format!(
                "SELECT {ORDER_COLUMNS} FROM orders WHERE deleted_at IS NULL ORDER BY id DESC"
            ),
        };
        on_pool!(self, pool => {
            let q = sqlx::query_as::<_, Order>(&sql);
            let q = match (query.only_order(), query) {
                (Some(id), _) => q.bind(id),
                (None, SearchQuery::Phone(phone)) => q.bind(phone.clone()),
                (None, _) => q,
            };
            let mut rows = q.fetch(pool);
            let (mut found, mut total) = (Vec::new(), 0);
            while let Some(o) = rows.try_next().await? {
                let numbers = [Some(o.id), o.legacy_number];
                let numbers: Vec<i64> = numbers.into_iter().flatten().collect();
                if query.matches(&numbers, &o.phone, &o.address, &o.client_name) {
                    total += 1;
                    if found.len() < limit {
                        found.push(o);
                    }
                }
            }
            Ok((found, total))
        })
    }

    /// Orders created in `[from_ms, to_ms)`, oldest first (export).
    pub async fn orders_created_between(
        &self,
        from_ms: i64,
        to_ms: i64,
    ) -> anyhow::Result<Vec<Order>> {
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE created_at >= $1 AND created_at < $2 AND deleted_at IS NULL ORDER BY id"
        );
        on_pool!(self, pool => {
            let orders: Vec<Order> = sqlx::query_as(&sql)
                .bind(from_ms)
                .bind(to_ms)
                .fetch_all(pool)
                .await?;
            Ok(orders)
        })
    }

    /// The orders a number people quote may name: the order of that
    /// number first, then an imported order that had it in the old bot.
    pub async fn orders_numbered(&self, number: i64) -> anyhow::Result<Vec<Order>> {
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1 OR legacy_number = $1
             ORDER BY CASE WHEN id = $1 THEN 0 ELSE 1 END"
        );
        on_pool!(self, pool => Ok(sqlx::query_as(&sql).bind(number).fetch_all(pool).await?))
    }

    /// Total orders filed through a given update (tests of exactly-once).
    pub async fn count_orders(&self) -> anyhow::Result<i64> {
        on_pool!(self, pool => Ok(sqlx::query_scalar("SELECT COUNT(*) FROM orders")
            .fetch_one(pool)
            .await?))
    }
}
