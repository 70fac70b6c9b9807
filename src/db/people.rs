use super::{now_ms, Database};
use crate::domain::Role;

/// A staff member added at runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub user_id: i64,
    pub role: Role,
    pub name: String,
}

impl Database {
    /// The stored role of a user, if an admin or dispatcher added them.
    pub async fn person(&self, user_id: i64) -> anyhow::Result<Option<Person>> {
        let row: Option<(i64, String, String)> =
            sqlx::query_as("SELECT user_id, role, name FROM people WHERE user_id = ?")
                .bind(user_id)
                .fetch_optional(self.pool())
                .await?;
        Ok(row.and_then(|(user_id, role, name)| {
            Role::from_code(&role).map(|role| Person {
                user_id,
                role,
                name,
            })
        }))
    }

    /// Adds or re-roles a person.
    pub async fn upsert_person(&self, person: &Person, added_by: i64) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO people (user_id, role, name, added_by, added_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (user_id) DO UPDATE SET role = excluded.role, name = excluded.name",
        )
        .bind(person.user_id)
        .bind(person.role.code())
        .bind(&person.name)
        .bind(added_by)
        .bind(now_ms())
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Removes a person; `true` if they were there.
    pub async fn remove_person(&self, user_id: i64) -> anyhow::Result<bool> {
        let done = sqlx::query("DELETE FROM people WHERE user_id = ?")
            .bind(user_id)
            .execute(self.writer())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Everyone with `role`, by name.
    pub async fn people_with_role(&self, role: Role) -> anyhow::Result<Vec<Person>> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT user_id, name FROM people WHERE role = ? ORDER BY name, user_id",
        )
        .bind(role.code())
        .fetch_all(self.pool())
        .await?;
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
