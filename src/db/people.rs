use super::{now_ms, Database};
use crate::domain::{Code, Role};

/// A staff role given to someone at runtime: one per person and role (a
/// dispatcher may also be a master).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub user_id: i64,
    pub role: Role,
    pub name: String,
}

impl Database {
    /// Every role given to a user at runtime, least trusted first.
    pub async fn person_roles(&self, user_id: i64) -> anyhow::Result<Vec<Person>> {
        let sql = "SELECT user_id, role, name FROM people WHERE user_id = $1";
        let rows: Vec<(i64, String, String)> = on_pool!(self, pool => sqlx::query_as(sql)
            .bind(user_id)
            .fetch_all(pool)
            .await?);
        let mut people: Vec<Person> = rows
            .into_iter()
            .filter_map(|(user_id, role, name)| {
                Role::from_code(&role).map(|role| Person {
                    user_id,
                    role,
                    name,
                })
            })
            .collect();
        people.sort_by_key(|p| p.role);
        Ok(people)
    }

    /// Gives a person a role (beside any they hold), or renames them in it.
    pub async fn upsert_person(&self, person: &Person, added_by: i64) -> anyhow::Result<()> {
        let sql = "INSERT INTO people (user_id, role, name, added_by, added_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (user_id, role) DO UPDATE SET name = excluded.name";
        let now = now_ms();
        on_writer!(self, pool => sqlx::query(sql)
            .bind(person.user_id)
            .bind(person.role.code())
            .bind(&person.name)
            .bind(added_by)
            .bind(now)
            .execute(pool)
            .await.map(drop))?;
        Ok(())
    }

    /// Takes one role from a person (their other roles stay); `true` if
    /// they held it.
    pub async fn remove_person(&self, user_id: i64, role: Role) -> anyhow::Result<bool> {
        let sql = "DELETE FROM people WHERE user_id = $1 AND role = $2";
        let removed = on_writer!(self, pool => sqlx::query(sql)
            .bind(user_id)
            .bind(role.code())
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(removed > 0)
    }

    /// Ids of everyone added as admin or dispatcher: who hears about new
    /// orders. One statement, because every filed order asks.
    pub async fn staff_user_ids(&self) -> anyhow::Result<Vec<i64>> {
        let sql = "SELECT DISTINCT user_id FROM people WHERE role IN ($1, $2) ORDER BY user_id";
        let ids: Vec<i64> = on_pool!(self, pool => sqlx::query_scalar(sql)
            .bind(Role::Admin.code())
            .bind(Role::Dispatcher.code())
            .fetch_all(pool)
            .await?);
        Ok(ids)
    }

    /// Everyone with `role`, by name.
    pub async fn people_with_role(&self, role: Role) -> anyhow::Result<Vec<Person>> {
        let sql = "SELECT user_id, name FROM people WHERE role = $1 ORDER BY name, user_id";
        let rows: Vec<(i64, String)> = on_pool!(self, pool => sqlx::query_as(sql)
            .bind(role.code())
            .fetch_all(pool)
            .await?);
        Ok(rows
            .into_iter()
            .map(|(user_id, name)| Person {
                user_id,
                role,
                name,
            })
            .collect())
    }
}
