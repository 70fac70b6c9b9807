//! Writing what the importer read from the old bot (Status_bot): people,
//! masters' profiles and work groups, clients, orders with their history,
//! all in one transaction that is committed only when the figures read
//! back inside it agree with the source. Orders already brought over (by
//! their old number) are left as they are, so a second run adds only what
//! is new in the source.

use std::collections::{BTreeMap, HashSet};

use super::jobs::jobs_insert_query;
use super::{now_ms, Database, DbKind, VisitBounds};
use crate::domain::legacy::{Figures, Sums};
use crate::domain::schedule::NewJob;
use crate::domain::{ActionKind, ApplianceKind, Code, Money, OrderStatus, Role};

/// A staff role of someone from the old bot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedPerson {
    pub user_id: i64,
    pub role: Role,
    pub name: String,
    pub added_at: i64,
}

/// A master's profile and work group from the old bot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedMaster {
    pub user_id: i64,
    pub phone: Option<String>,
    pub specialization: Vec<ApplianceKind>,
    pub senior: bool,
    pub active: bool,
    pub work_group: Option<i64>,
    pub added_at: i64,
}

/// A client record: one per normalised phone, named and addressed as in
/// their newest order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedClient {
    pub phone: String,
    pub name: String,
    pub address: String,
    pub since: i64,
}

/// The money stored with an order (any of it may be missing).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportedMoney {
    pub total: Option<Money>,
    pub materials: Option<Money>,
    pub master: Option<Money>,
    pub company: Option<Money>,
    pub master_percent: Option<i64>,
    pub out_of_city: Option<bool>,
    pub has_review: Option<bool>,
    pub prepayment: Option<Money>,
}

/// A long repair's terms as the old bot kept them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportedRepair {
    pub due_text: Option<String>,
    pub due_at: Option<i64>,
    pub parts: Option<String>,
    pub price: Option<Money>,
}

/// One line of an order's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedStep {
    pub action: ActionKind,
    pub from: Option<OrderStatus>,
    pub to: OrderStatus,
    pub actor_id: i64,
    pub actor_role: Role,
    pub comment: Option<String>,
    pub at: i64,
}

/// An order of the old bot, in this bot's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedOrder {
    /// Its number there: kept as its number here when that is free.
    pub legacy_number: i64,
    pub status: OrderStatus,
    pub equipment: ApplianceKind,
    pub description: String,
    pub client_name: String,
    pub address: String,
    /// Normalised when it reads as a phone number, else as typed.
    pub phone: String,
    pub visit_time: String,
    pub visit: Option<VisitBounds>,
    pub master_id: Option<i64>,
    /// Who took the call (the first history entry names them).
    pub filed_by: Option<i64>,
    pub filed_by_role: Role,
    pub notes: Option<String>,
    pub refuse_reason: Option<String>,
    pub reschedules: i64,
    pub money: ImportedMoney,
    pub repair: Option<ImportedRepair>,
    pub created_at: i64,
    pub updated_at: i64,
    pub done_at: Option<i64>,
    pub deleted_at: Option<i64>,
    /// The old bot's history rows, oldest first.
    pub history: Vec<ImportedStep>,
    /// Reminders the order still needs here (a long repair due later).
    pub jobs: Vec<NewJob>,
}

/// Everything one run brings over.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LegacyImport {
    pub people: Vec<ImportedPerson>,
    pub masters: Vec<ImportedMaster>,
    pub clients: Vec<ImportedClient>,
    pub orders: Vec<ImportedOrder>,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportOutcome {
    /// Orders written now.
    pub orders: usize,
    /// Of those, how many kept their old number as their number here.
    pub kept_numbers: usize,
    /// Orders brought over by an earlier run and unchanged there since.
    pub already: usize,
    /// Orders brought over before, changed in the old bot since and not
    /// here: replaced by the old bot's version.
    pub refreshed: usize,
    /// Old numbers of orders changed both here and in the old bot since
    /// they were brought over: kept as they are here, and left out of the
    /// figures (they no longer can agree).
    pub conflicts: Vec<i64>,
    /// Old numbers of orders worked on here since they were brought over
    /// and unchanged there: kept, and left out of the figures too.
    pub worked_here: Vec<i64>,
    /// Staff roles and master profiles given now.
    pub people: u64,
    /// Client records created now.
    pub clients: u64,
    /// The figures of everything imported so far, read back in the
    /// transaction.
    pub figures: Figures,
    /// Whether the transaction was committed.
    pub committed: bool,
}

/// The columns an imported order writes, in the order they are bound.
const ORDER_FIELDS: [&str; 33] = [
    "client_name",
    "equipment",
    "description",
    "address",
    "phone",
    "visit_time",
    "visit_from",
    "visit_to",
    "visit_window",
    "status",
    "master_id",
    "total_kopecks",
    "materials_kopecks",
    "master_kopecks",
    "company_kopecks",
    "master_percent",
    "out_of_city",
    "has_review",
    "prepayment_kopecks",
    "repair_due_text",
    "repair_due_at",
    "repair_parts",
    "repair_price_kopecks",
    "notes",
    "refuse_reason",
    "reschedules",
    "created_at",
    "updated_at",
    "done_at",
    "deleted_at",
    "legacy_number",
    "legacy_updated_at",
    "client_ref",
];

/// How an order of the old bot is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Write {
    /// New here, under its old number.
    KeepNumber,
    /// New here, under a number of this bot (its old one is taken).
    NewNumber,
    /// Brought over before and untouched here since: replaced by the old
    /// bot's newer version; the order's number here.
    Replace(i64),
}

/// Moves PostgreSQL's order number sequence past the highest number taken.
const MOVE_SEQUENCE: &str =
    "SELECT setval(pg_get_serial_sequence('orders', 'id'), (SELECT MAX(id) FROM orders))";

const INSERT_STEP: &str = "INSERT INTO order_history
        (order_id, action, from_status, to_status, actor_id, actor_role, comment, at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

impl Database {
    /// Writes `batch` in one transaction, reads the figures of every
    /// imported order back inside it, and commits only if `accept` says
    /// they are right (and this is not a `dry_run`). Nothing is half
    /// written: a failure or a kill leaves the database as it was.
    pub async fn import_legacy(
        &self,
        batch: &LegacyImport,
        dry_run: bool,
        mut progress: impl FnMut(usize) + Send,
        accept: impl FnOnce(&[i64], &Figures) -> bool + Send,
    ) -> anyhow::Result<ImportOutcome> {
        let kind = self.kind();
        in_write_tx!(self, tx => {
            let now = now_ms();
            let mut people = 0u64;
            for p in &batch.people {
                people += sqlx::query(
                    "INSERT INTO people (user_id, role, name, added_by, added_at)
                     VALUES ($1, $2, $3, NULL, $4) ON CONFLICT (user_id, role) DO NOTHING",
                )
                .bind(p.user_id)
                .bind(p.role.code())
                .bind(&p.name)
                .bind(p.added_at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            }
            for m in &batch.masters {
                let codes: Vec<&str> = m.specialization.iter().map(|k| k.code()).collect();
                people += sqlx::query(
                    "INSERT INTO master_profiles (user_id, phone, specialization, senior, active)
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id) DO NOTHING",
                )
                .bind(m.user_id)
                .bind(&m.phone)
                .bind(codes.join(","))
                .bind(i64::from(m.senior))
                .bind(i64::from(m.active))
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if let Some(chat) = m.work_group {
                    sqlx::query(
                        "INSERT INTO master_groups (chat_id, master_id, title, bound_by, bound_at)
                         VALUES ($1, $2, '', $2, $3) ON CONFLICT DO NOTHING",
                    )
                    .bind(chat)
                    .bind(m.user_id)
                    .bind(m.added_at)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            // What earlier runs brought over: its number here, its last
            // change here, and the old bot's last change it was copied at.
            let known: Vec<(i64, i64, i64, Option<i64>)> = sqlx::query_as(
                "SELECT legacy_number, id, updated_at, legacy_updated_at FROM orders
                 WHERE legacy_number IS NOT NULL",
            )
            .fetch_all(&mut *tx)
            .await?;
            let known: BTreeMap<i64, (i64, i64, Option<i64>)> = known
                .into_iter()
                .map(|(number, id, updated, copied)| (number, (id, updated, copied)))
                .collect();
            let mut fresh: Vec<&ImportedOrder> = Vec::new();
            let mut refresh: Vec<(i64, &ImportedOrder)> = Vec::new();
            let mut conflicts: Vec<i64> = Vec::new();
            let mut worked_here: Vec<i64> = Vec::new();
            for o in &batch.orders {
                match known.get(&o.legacy_number) {
                    None => fresh.push(o),
                    Some((_, updated, copied)) if *copied == Some(o.updated_at) => {
                        if Some(*updated) != *copied {
                            worked_here.push(o.legacy_number);
                        }
                    }
                    // Untouched here since it was copied: the old bot's newer
                    // version replaces it.
                    Some((id, updated, copied)) if Some(*updated) == *copied => refresh.push((*id, o)),
                    Some(_) => conflicts.push(o.legacy_number),
                }
            }
            let needed: HashSet<&str> = fresh
                .iter()
                .copied()
                .chain(refresh.iter().map(|(_, o)| *o))
                .map(|o| o.phone.as_str())
                .collect();
            let mut clients = 0u64;
            let mut client_ids: BTreeMap<&str, i64> = BTreeMap::new();
            for c in batch.clients.iter().filter(|c| needed.contains(c.phone.as_str())) {
                let existing: Option<i64> = sqlx::query_scalar("SELECT id FROM clients WHERE phone = $1")
                    .bind(&c.phone)
                    .fetch_optional(&mut *tx)
                    .await?;
                let id = match existing {
                    Some(id) => id,
                    None => {
                        clients += 1;
                        sqlx::query_scalar(
                            "INSERT INTO clients (phone, name, telegram_id, last_address, created_at, updated_at)
                             VALUES ($1, $2, NULL, $3, $4, $4) RETURNING id",
                        )
                        .bind(&c.phone)
                        .bind(&c.name)
                        .bind(&c.address)
                        .bind(c.since)
                        .fetch_one(&mut *tx)
                        .await?
                    }
                };
                client_ids.insert(c.phone.as_str(), id);
            }
            // Orders whose old number is free here keep it; they are written
            // first, so that a number given to another one cannot take it.
            let mut in_turn: Vec<(Write, &ImportedOrder)> = Vec::new();
            for o in &fresh {
                let taken: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders WHERE id = $1")
                    .bind(o.legacy_number)
                    .fetch_one(&mut *tx)
                    .await?;
                let write = if taken == 0 { Write::KeepNumber } else { Write::NewNumber };
                in_turn.push((write, o));
            }
            in_turn.sort_by_key(|(write, _)| *write != Write::KeepNumber);
            in_turn.extend(refresh.iter().map(|(id, o)| (Write::Replace(*id), *o)));
            let kept_numbers = in_turn.iter().filter(|(w, _)| *w == Write::KeepNumber).count();
            let fields = ORDER_FIELDS.join(", ");
            let values = placeholders(ORDER_FIELDS.len());
            let n = ORDER_FIELDS.len();
            let mut sequence_moved = false;
            for (done, (write, o)) in in_turn.into_iter().enumerate() {
                if kind == DbKind::Postgres && write == Write::NewNumber && !sequence_moved {
                    // The numbers kept were given explicitly, which does not
                    // move PostgreSQL's identity sequence: it is moved past
                    // them before any order takes a number from it.
                    sqlx::query(MOVE_SEQUENCE).execute(&mut *tx).await?;
                    sequence_moved = true;
                }
                let sql = match write {
                    Write::KeepNumber => {
                        format!("INSERT INTO orders ({fields}, id) VALUES ({values}, ${}) RETURNING id", n + 1)
                    }
                    Write::NewNumber => format!("INSERT INTO orders ({fields}) VALUES ({values}) RETURNING id"),
                    Write::Replace(_) => {
                        let set: Vec<String> = ORDER_FIELDS
                            .iter()
                            .enumerate()
                            .map(|(i, f)| format!("{f} = ${}", i + 1))
                            .collect();
                        format!(
                            "UPDATE orders SET {} WHERE id = ${} AND updated_at = legacy_updated_at RETURNING id",
                            set.join(", "),
                            n + 1
                        )
                    }
                };
                let money = |m: Option<Money>| m.map(Money::kopecks);
                let repair = o.repair.clone().unwrap_or_default();
                let visit = o.visit.as_ref();
                let query = sqlx::query_scalar::<_, i64>(&sql)
                    .bind(&o.client_name)
                    .bind(o.equipment.code())
                    .bind(&o.description)
                    .bind(&o.address)
                    .bind(&o.phone)
                    .bind(&o.visit_time)
                    .bind(visit.map(|v| v.from_ms))
                    .bind(visit.map(|v| v.to_ms))
                    .bind(visit.map(|v| v.window))
                    .bind(o.status.code())
                    .bind(o.master_id)
                    .bind(money(o.money.total))
                    .bind(money(o.money.materials))
                    .bind(money(o.money.master))
                    .bind(money(o.money.company))
                    .bind(o.money.master_percent)
                    .bind(o.money.out_of_city)
                    .bind(o.money.has_review)
                    .bind(money(o.money.prepayment))
                    .bind(repair.due_text)
                    .bind(repair.due_at)
                    .bind(repair.parts)
                    .bind(money(repair.price))
                    .bind(&o.notes)
                    .bind(&o.refuse_reason)
                    .bind(o.reschedules)
                    .bind(o.created_at)
                    .bind(o.updated_at)
                    .bind(o.done_at)
                    .bind(o.deleted_at)
                    .bind(o.legacy_number)
                    .bind(o.updated_at)
                    .bind(client_ids.get(o.phone.as_str()).copied());
                let query = match write {
                    Write::KeepNumber => query.bind(o.legacy_number),
                    Write::Replace(id) => query.bind(id),
                    Write::NewNumber => query,
                };
                let id = query.fetch_one(&mut *tx).await?;
                if matches!(write, Write::Replace(_)) {
                    // Its history is the old bot's, written again in full.
                    sqlx::query("DELETE FROM order_history WHERE order_id = $1")
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
                if let Some(filer) = o.filed_by {
                    sqlx::query(INSERT_STEP)
                        .bind(id)
                        .bind("create")
                        .bind(None::<&str>)
                        .bind(OrderStatus::New.code())
                        .bind(filer)
                        .bind(o.filed_by_role.code())
                        .bind(None::<&str>)
                        .bind(o.created_at)
                        .execute(&mut *tx)
                        .await?;
                }
                for step in &o.history {
                    sqlx::query(INSERT_STEP)
                        .bind(id)
                        .bind(step.action.code())
                        .bind(step.from.map(|s| s.code()))
                        .bind(step.to.code())
                        .bind(step.actor_id)
                        .bind(step.actor_role.code())
                        .bind(&step.comment)
                        .bind(step.at)
                        .execute(&mut *tx)
                        .await?;
                }
                if let Some(mut insert) = jobs_insert_query(Some(id), &o.jobs, now) {
                    insert.build().execute(&mut *tx).await?;
                }
                progress(done + 1);
            }
            if kind == DbKind::Postgres && kept_numbers > 0 {
                // And past the last of them for the orders filed from now on.
                sqlx::query(MOVE_SEQUENCE).execute(&mut *tx).await?;
            }
            // The figures of every order imported so far and of the people
            // of this batch, read inside the transaction.
            let mut figures = Figures::default();
            // Only the roles this batch gives: a role given here besides
            // is not the old bot's.
            let given: HashSet<(i64, &str)> =
                batch.people.iter().map(|p| (p.user_id, p.role.code())).collect();
            let roles: Vec<(i64, String)> = sqlx::query_as("SELECT user_id, role FROM people")
                .fetch_all(&mut *tx)
                .await?;
            for (_, role) in roles.into_iter().filter(|(u, r)| given.contains(&(*u, r.as_str()))) {
                *figures.people.entry(role).or_default() += 1;
            }
            let masters: HashSet<i64> = batch.masters.iter().map(|m| m.user_id).collect();
            let seniors: Vec<(i64, i64)> = sqlx::query_as("SELECT user_id, senior FROM master_profiles")
                .fetch_all(&mut *tx)
                .await?;
            let senior = seniors
                .into_iter()
                .filter(|(u, s)| masters.contains(u) && *s == 1)
                .count();
            if senior > 0 {
                figures.people.insert("senior".into(), senior as i64);
            }
            // Orders worked on here since they were copied (and those also
            // changed there) are left out of the figures: they no longer
            // are the old bot's.
            let mut diverged: Vec<i64> = conflicts.iter().chain(&worked_here).copied().collect();
            diverged.sort_unstable();
            let compared = match diverged.is_empty() {
                true => "legacy_number IS NOT NULL".to_string(),
                false => {
                    let numbers: Vec<String> = diverged.iter().map(i64::to_string).collect();
                    format!("legacy_number IS NOT NULL AND legacy_number NOT IN ({})", numbers.join(", "))
                }
            };
            let by_status: Vec<(String, i64)> = sqlx::query_as(&format!(
                "SELECT status, COUNT(*) FROM orders WHERE {compared} GROUP BY status"
            ))
            .fetch_all(&mut *tx)
            .await?;
            figures.orders = by_status.into_iter().collect();
            let (deleted, history): (i64, i64) = sqlx::query_as(&format!(
                "SELECT
                    (SELECT COUNT(*) FROM orders WHERE {compared} AND deleted_at IS NOT NULL),
                    (SELECT COUNT(*) FROM order_history h JOIN orders o ON o.id = h.order_id
                      WHERE o.{compared} AND h.action <> 'create')"
            ))
            .fetch_one(&mut *tx)
            .await?;
            figures.deleted = deleted;
            figures.history = history;
            let closed = OrderStatus::Closed.code();
            let sums: Vec<(Option<i64>, i64, i64, i64, i64, i64)> = sqlx::query_as(&format!(
                "SELECT master_id, COUNT(*), CAST(COALESCE(SUM(total_kopecks), 0) AS BIGINT),
                        CAST(COALESCE(SUM(materials_kopecks), 0) AS BIGINT),
                        CAST(COALESCE(SUM(master_kopecks), 0) AS BIGINT),
                        CAST(COALESCE(SUM(company_kopecks), 0) AS BIGINT)
                 FROM orders WHERE {compared} AND status = '{closed}'
                 GROUP BY master_id"
            ))
            .fetch_all(&mut *tx)
            .await?;
            for (master, orders, total, materials, share, company) in sums {
                let k = Money::from_kopecks;
                figures.closed.insert(
                    master.unwrap_or(0),
                    Sums {
                        orders,
                        total: k(total),
                        materials: k(materials),
                        master: k(share),
                        company: k(company),
                    },
                );
            }
            let committed = !dry_run && accept(&diverged, &figures);
            if committed {
                tx.commit().await?;
            } else {
                tx.rollback().await?;
            }
            Ok(ImportOutcome {
                orders: fresh.len(),
                kept_numbers,
                already: batch.orders.len() - fresh.len() - refresh.len() - conflicts.len()
                    - worked_here.len(),
                worked_here,
                refreshed: refresh.len(),
                conflicts,
                people,
                clients,
                figures,
                committed,
            })
        })
    }
}

/// `$1, $2, … $n`.
fn placeholders(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}
