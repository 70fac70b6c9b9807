//! Masters' profiles and their figures: what the assign list, the profile
//! card and a master's `/my_stats` read.

use super::{now_ms, status_list, Database};
use crate::domain::{Candidate, Code, MasterProfile, OrderStatus, Role, StatusGroup};

/// A master's own figures over a period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MasterStats {
    /// Orders in their hands now.
    pub open: i64,
    /// Orders they closed in the period, and what those came to.
    pub closed: i64,
    /// What the client paid for the closed ones.
    pub revenue: crate::domain::Money,
    /// Their mean rating over every rated order.
    pub mean_rating: Option<f64>,
}

/// Raw `master_profiles` columns with the person's name.
type ProfileRow = (
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<i64>,
);

fn profile_of((user_id, name, phone, specialization, senior, active): ProfileRow) -> MasterProfile {
    MasterProfile {
        user_id,
        name,
        phone,
        specialization: MasterProfile::parse_specialization(&specialization.unwrap_or_default()),
        senior: senior == Some(1),
        active: active != Some(0),
    }
}

/// The masters with their profiles (defaults where none is stored).
const PROFILES: &str = "SELECT p.user_id, p.name, m.phone, m.specialization, m.senior, m.active
     FROM people p LEFT JOIN master_profiles m ON m.user_id = p.user_id
     WHERE p.role = $1";

impl Database {
    /// A master's profile; `None` when `user_id` is not a master.
    pub async fn master_profile(&self, user_id: i64) -> anyhow::Result<Option<MasterProfile>> {
        let sql = format!("{PROFILES} AND p.user_id = $2");
        let row: Option<ProfileRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(Role::Master.code())
            .bind(user_id)
            .fetch_optional(pool)
            .await?);
        Ok(row.map(profile_of))
    }

    /// Every master as the assign list weighs them: profile, open jobs,
    /// whether they have a work group. One statement.
    pub async fn master_candidates(&self) -> anyhow::Result<Vec<Candidate>> {
        let with_master = status_list(StatusGroup::WithMaster);
        let sql = format!(
            "SELECT p.user_id, p.name, m.phone, m.specialization, m.senior, m.active,
                    (SELECT COUNT(*) FROM orders o WHERE o.master_id = p.user_id AND o.status IN {with_master} AND o.deleted_at IS NULL),
                    (SELECT COUNT(*) FROM master_groups g WHERE g.master_id = p.user_id)
             FROM people p LEFT JOIN master_profiles m ON m.user_id = p.user_id
             WHERE p.role = $1 ORDER BY p.name, p.user_id"
        );
        type Row = (
            i64,
            String,
            Option<String>,
            Option<String>,
            Option<i64>,
            Option<i64>,
            i64,
            i64,
        );
        let rows: Vec<Row> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(Role::Master.code())
            .fetch_all(pool)
            .await?);
        Ok(rows
            .into_iter()
            .map(
                |(id, name, phone, spec, senior, active, open_jobs, groups)| Candidate {
                    profile: profile_of((id, name, phone, spec, senior, active)),
                    open_jobs,
                    has_group: groups > 0,
                },
            )
            .collect())
    }

    /// Stores a master's phone, specialization and senior flag (the active
    /// flag has its own guarded change: [`Database::set_master_active`]).
    pub async fn save_master_profile(&self, profile: &MasterProfile) -> anyhow::Result<()> {
        let sql = "INSERT INTO master_profiles (user_id, phone, specialization, senior, active)
             VALUES ($1, $2, $3, $4, 1)
             ON CONFLICT (user_id) DO UPDATE SET phone = excluded.phone,
                specialization = excluded.specialization, senior = excluded.senior";
        on_writer!(self, pool => sqlx::query(sql)
            .bind(profile.user_id)
            .bind(&profile.phone)
            .bind(profile.specialization_codes())
            .bind(i64::from(profile.senior))
            .execute(pool)
            .await
            .map(drop))?;
        Ok(())
    }

    /// Makes a master active or inactive. Deactivating a master who still
    /// has open orders is refused: `Err` lists those orders, and nothing
    /// is written (checked and written in one transaction, so an order
    /// assigned meanwhile cannot slip through).
    pub async fn set_master_active(
        &self,
        user_id: i64,
        active: bool,
    ) -> anyhow::Result<Result<(), Vec<i64>>> {
        let with_master = status_list(StatusGroup::WithMaster);
        let open_sql = format!(
            "SELECT id FROM orders WHERE master_id = $1 AND status IN {with_master} AND deleted_at IS NULL ORDER BY id"
        );
        in_write_tx!(self, tx => {
            if !active {
                let open: Vec<i64> = sqlx::query_scalar(&open_sql)
                    .bind(user_id)
                    .fetch_all(&mut *tx)
                    .await?;
                if !open.is_empty() {
                    return Ok(Err(open));
                }
            }
            sqlx::query(
                "INSERT INTO master_profiles (user_id, active) VALUES ($1, $2)
                 ON CONFLICT (user_id) DO UPDATE SET active = excluded.active",
            )
            .bind(user_id)
            .bind(i64::from(active))
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(Ok(()))
        })
    }

    /// A master's figures: open now; closed in `[from_ms, to_ms)` and
    /// their total price; mean rating overall.
    pub async fn master_stats(
        &self,
        master_id: i64,
        from_ms: i64,
        to_ms: i64,
    ) -> anyhow::Result<MasterStats> {
        let with_master = status_list(StatusGroup::WithMaster);
        let closed = OrderStatus::Closed.code();
        let sql = format!(
            "SELECT
                SUM(CASE WHEN status IN {with_master} THEN 1 ELSE 0 END),
                SUM(CASE WHEN status = '{closed}' AND done_at >= $2 AND done_at < $3 THEN 1 ELSE 0 END),
                SUM(CASE WHEN status = '{closed}' AND done_at >= $2 AND done_at < $3 THEN COALESCE(total_kopecks, 0) ELSE 0 END),
                AVG(CAST(rating AS DOUBLE PRECISION))
             FROM orders WHERE master_id = $1 AND deleted_at IS NULL"
        );
        let row: (Option<i64>, Option<i64>, Option<i64>, Option<f64>) = on_pool!(self, pool => sqlx::query_as(&sql)
                .bind(master_id)
                .bind(from_ms)
                .bind(to_ms)
                .fetch_one(pool)
                .await?);
        Ok(MasterStats {
            open: row.0.unwrap_or(0),
            closed: row.1.unwrap_or(0),
            revenue: crate::domain::Money::from_kopecks(row.2.unwrap_or(0)),
            mean_rating: row.3,
        })
    }

    /// The bot was added to a group.
    pub async fn remember_bot_group(&self, chat_id: i64, title: &str) -> anyhow::Result<()> {
        let sql = "INSERT INTO bot_groups (chat_id, title, added_at) VALUES ($1, $2, $3)
             ON CONFLICT (chat_id) DO UPDATE SET title = excluded.title";
        on_writer!(self, pool => sqlx::query(sql)
            .bind(chat_id)
            .bind(title)
            .bind(now_ms())
            .execute(pool)
            .await
            .map(drop))?;
        Ok(())
    }

    /// The bot left a group (or the group moved to a new id).
    pub async fn forget_bot_group(&self, chat_id: i64) -> anyhow::Result<()> {
        on_writer!(self, pool => sqlx::query("DELETE FROM bot_groups WHERE chat_id = $1")
            .bind(chat_id)
            .execute(pool)
            .await
            .map(drop))?;
        Ok(())
    }

    /// Groups the bot is in that serve no master: what a profile offers to bind.
    pub async fn unbound_bot_groups(&self) -> anyhow::Result<Vec<(i64, String)>> {
        let sql = "SELECT b.chat_id, b.title FROM bot_groups b
             WHERE NOT EXISTS (SELECT 1 FROM master_groups g WHERE g.chat_id = b.chat_id)
             ORDER BY b.title, b.chat_id";
        on_pool!(self, pool => Ok(sqlx::query_as(sql).fetch_all(pool).await?))
    }
}
