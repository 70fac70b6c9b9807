//! Reading a Status_bot database: opened read-only (the old bot may still
//! be running on it), read in one read transaction (a consistent snapshot
//! while it writes), its tables and columns found with `PRAGMA table_info`
//! (installations differ: the ORM + Alembic schema, the raw-SQL one with
//! columns added later). Every value is read as text, so a column declared
//! REAL in one installation and TEXT in another reads the same; the rules
//! of `domain::legacy` give it meaning.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::Context;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, Row as _, SqliteConnection};

/// One row: column name → value as text (`None` for NULL or a column this
/// installation does not have).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Row(BTreeMap<String, Option<String>>);

impl Row {
    /// The value of `column`, trimmed; `None` when NULL, empty or absent.
    pub fn get(&self, column: &str) -> Option<&str> {
        self.0
            .get(column)
            .and_then(|v| v.as_deref())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }

    /// `column` as an integer (`1`, `1.0`); `Err` names a value that is none.
    pub fn int(&self, column: &str) -> anyhow::Result<Option<i64>> {
        match self.get(column) {
            None => Ok(None),
            Some(v) => v
                .strip_suffix(".0")
                .unwrap_or(v)
                .parse()
                .map(Some)
                .map_err(|_| anyhow::anyhow!("{column} = {v:?} is not a number")),
        }
    }

    /// `column` as a flag (`1`/`0`, `true`/`false`).
    pub fn flag(&self, column: &str) -> Option<bool> {
        match self.get(column)?.to_ascii_lowercase().as_str() {
            "1" | "1.0" | "true" | "t" | "yes" => Some(true),
            "0" | "0.0" | "false" | "f" | "no" => Some(false),
            _ => None,
        }
    }
}

/// The tables the importer reads, as one snapshot.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub users: Vec<Row>,
    pub masters: Vec<Row>,
    pub orders: Vec<Row>,
    pub history: Vec<Row>,
    /// What was found, for the first line of the report: the schema's
    /// variant and its Alembic revision, if any.
    pub schema: String,
}

/// A table the importer reads: the columns it reads when present, the
/// first `required` of which it cannot do without.
struct Table {
    name: &'static str,
    columns: &'static [&'static str],
    required: usize,
}

impl Table {
    fn required(&self) -> &'static [&'static str] {
        &self.columns[..self.required]
    }
}

const USERS: Table = Table {
    name: "users",
    columns: &[
        "telegram_id",
        "role",
        "username",
        "first_name",
        "last_name",
        "created_at",
        "deleted_at",
    ],
    required: 2,
};
const MASTERS: Table = Table {
    name: "masters",
    columns: &[
        "id",
        "telegram_id",
        "phone",
        "specialization",
        "is_active",
        "is_approved",
        "work_chat_id",
        "created_at",
        "deleted_at",
    ],
    required: 2,
};
const ORDERS: Table = Table {
    name: "orders",
    columns: &[
        "id",
        "equipment_type",
        "description",
        "client_name",
        "client_address",
        "client_phone",
        "status",
        "created_at",
        "assigned_master_id",
        "dispatcher_id",
        "master_lead_name",
        "notes",
        "scheduled_time",
        "total_amount",
        "materials_cost",
        "master_profit",
        "company_profit",
        "has_review",
        "out_of_city",
        "estimated_completion_date",
        "prepayment_amount",
        "rescheduled_count",
        "last_rescheduled_at",
        "refuse_reason",
        "updated_at",
        "deleted_at",
    ],
    required: 8,
};
/// Optional as a whole: an installation without it has no history.
const HISTORY: Table = Table {
    name: "order_status_history",
    columns: &[
        "id",
        "order_id",
        "old_status",
        "new_status",
        "changed_by",
        "changed_at",
        "notes",
    ],
    required: 0,
};

/// Reads the snapshot of the Status_bot database at `path`, never writing
/// to it. Refuses, in one sentence, a file that is not a readable SQLite
/// database or whose tables are not Status_bot's.
pub async fn read(path: &Path) -> anyhow::Result<Snapshot> {
    anyhow::ensure!(path.is_file(), "{}: no such file", path.display());
    let mut conn = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .create_if_missing(false)
        .connect()
        .await
        .with_context(|| format!("{}: cannot open as SQLite", path.display()))?;
    let outcome = read_from(&mut conn, path).await;
    let _ = conn.close().await;
    outcome
}

async fn read_from(conn: &mut SqliteConnection, path: &Path) -> anyhow::Result<Snapshot> {
    let damaged = |e: sqlx::Error| {
        anyhow::anyhow!(
            "{}: not a readable SQLite database (damaged or another kind of file): {e}",
            path.display()
        )
    };
    let mut tx = conn.begin().await.map_err(damaged)?;
    let check: Vec<String> = sqlx::query_scalar("PRAGMA quick_check")
        .fetch_all(&mut *tx)
        .await
        .map_err(damaged)?;
    if check != ["ok"] {
        anyhow::bail!(
            "{}: the database is damaged (PRAGMA quick_check: {})",
            path.display(),
            check.join("; ")
        );
    }
    let tables: BTreeSet<String> = sqlx::query_scalar::<_, String>(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    )
    .fetch_all(&mut *tx)
    .await
    .map_err(damaged)?
    .into_iter()
    .collect();
    let mut columns: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for table in [USERS.name, MASTERS.name, ORDERS.name, HISTORY.name] {
        let names: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info($1)")
            .bind(table)
            .fetch_all(&mut *tx)
            .await?;
        columns.insert(table, names.into_iter().collect());
    }
    let mut missing = Vec::new();
    for table in [&USERS, &MASTERS, &ORDERS] {
        let have = &columns[table.name];
        if have.is_empty() {
            missing.push(format!("table {}", table.name));
            continue;
        }
        for column in table.required().iter().filter(|c| !have.contains(**c)) {
            missing.push(format!("{}.{column}", table.name));
        }
    }
    if !missing.is_empty() {
        let found: Vec<&str> = tables.iter().map(String::as_str).collect();
        anyhow::bail!(
            "{}: not a Status_bot database: found tables [{}], missing {}",
            path.display(),
            found.join(", "),
            missing.join(", ")
        );
    }
    let alembic: Option<String> = if tables.contains("alembic_version") {
        sqlx::query_scalar("SELECT version_num FROM alembic_version LIMIT 1")
            .fetch_optional(&mut *tx)
            .await
            .ok()
            .flatten()
    } else {
        None
    };
    let variant = if tables.contains("order_reports") && columns["orders"].contains("version") {
        "ORM + Alembic"
    } else {
        "raw SQL"
    };
    let schema = match alembic {
        Some(rev) => format!("{variant} schema, Alembic revision {rev}"),
        None => format!("{variant} schema, no Alembic revision"),
    };
    let users = rows(&mut tx, &USERS, &columns[USERS.name]).await?;
    let masters = rows(&mut tx, &MASTERS, &columns[MASTERS.name]).await?;
    let orders = rows(&mut tx, &ORDERS, &columns[ORDERS.name]).await?;
    let history = match &columns[HISTORY.name] {
        have if have.is_empty() => Vec::new(),
        have => rows(&mut tx, &HISTORY, have).await?,
    };
    tx.rollback().await?;
    Ok(Snapshot {
        users,
        masters,
        orders,
        history,
        schema,
    })
}

/// Every row of `table`, the columns it has as text (the others as
/// NULL), ordered by its first column (its key).
async fn rows(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    table: &Table,
    have: &BTreeSet<String>,
) -> anyhow::Result<Vec<Row>> {
    let wanted = table.columns;
    let select: Vec<String> = wanted
        .iter()
        .map(|c| {
            if have.contains(*c) {
                format!("CAST(\"{c}\" AS TEXT)")
            } else {
                "NULL".to_string()
            }
        })
        .collect();
    let sql = format!(
        "SELECT {} FROM \"{}\" ORDER BY \"{}\"",
        select.join(", "),
        table.name,
        wanted[0]
    );
    let raw = sqlx::query(&sql)
        .fetch_all(&mut **tx)
        .await
        .with_context(|| format!("cannot read table {}", table.name))?;
    Ok(raw
        .iter()
        .map(|r| {
            Row(wanted
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    (
                        c.to_string(),
                        r.try_get::<Option<String>, _>(i).ok().flatten(),
                    )
                })
                .collect())
        })
        .collect())
}
