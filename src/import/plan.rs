//! A Status_bot snapshot in this bot's terms: what to write
//! ([`LegacyImport`]) and the figures of the source it must add up to.
//! Every row is read by the rules of `domain::legacy`; a value no rule
//! reads (an unknown status, a time stamp in no known form) stops the
//! import with the row named, rather than bringing over something wrong.

use std::collections::{BTreeMap, HashMap};

use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::source::{Row, Snapshot};
use crate::db::{
    ImportedClient, ImportedMaster, ImportedMoney, ImportedOrder, ImportedPerson, ImportedRepair,
    ImportedStep, LegacyImport, VisitBounds,
};
use crate::domain::legacy::{self, Figures};
use crate::domain::{parse_visit, schedule, Code, Money, OrderStatus, Phone, Role};

/// What a snapshot becomes.
#[derive(Debug, Clone)]
pub struct Plan {
    pub batch: LegacyImport,
    /// The source's people per role (see [`Figures::people`]).
    pub people: BTreeMap<String, i64>,
    /// Things worth the operator's eye that did not stop the import
    /// (history of orders that no longer exist, a master row gone).
    pub notes: Vec<String>,
}

/// How a note kept from an earlier refusal starts.
const EARLIER_REFUSAL: &str = "Ранее отказ: ";

/// At most this many unreadable rows are listed.
const SHOWN_PROBLEMS: usize = 10;

/// Plans the import of `snapshot`; naive time stamps of the old bot are in
/// `source_tz` (the old bot's clock), times people typed (visits, due
/// dates) in `shop_tz`; reminders are planned from `now_ms`.
pub fn plan(
    snapshot: &Snapshot,
    source_tz: &TimeZone,
    shop_tz: &TimeZone,
    now_ms: i64,
) -> anyhow::Result<Plan> {
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    let at = |text: Option<&str>| text.map(|t| legacy::timestamp(t, source_tz)).transpose();

    // People: roles from users.role, masters from the masters table.
    let mut roles_of: HashMap<i64, legacy::Roles> = HashMap::new();
    let mut names: HashMap<i64, String> = HashMap::new();
    let mut since: HashMap<i64, i64> = HashMap::new();
    for user in &snapshot.users {
        let Ok(Some(id)) = user.int("telegram_id") else {
            problems.push(format!("users: telegram_id {:?}", user.get("telegram_id")));
            continue;
        };
        match legacy::roles(user.get("role").unwrap_or("")) {
            // Someone deleted there gets no role here.
            Ok(_) if user.get("deleted_at").is_some() => {
                roles_of.insert(id, legacy::Roles::default());
            }
            Ok(roles) => {
                roles_of.insert(id, roles);
            }
            Err(token) => problems.push(format!("users {id}: unknown role {token:?}")),
        }
        names.insert(id, person_name(user, id));
        match at(user.get("created_at")) {
            Ok(Some(ms)) => {
                since.insert(id, ms);
            }
            Ok(None) => {}
            Err(e) => problems.push(format!("users {id}: {e}")),
        }
    }
    let mut master_of_row: HashMap<i64, i64> = HashMap::new();
    let mut masters = Vec::new();
    for row in &snapshot.masters {
        let (Ok(Some(row_id)), Ok(Some(user))) = (row.int("id"), row.int("telegram_id")) else {
            problems.push(format!("masters: id {:?}", row.get("id")));
            continue;
        };
        master_of_row.insert(row_id, user);
        let roles = roles_of.entry(user).or_default();
        if !roles.roles.contains(&Role::Master) {
            roles.roles.push(Role::Master);
            roles.roles.sort();
        }
        let added_at = match at(row.get("created_at")) {
            Ok(ms) => ms.or(since.get(&user).copied()).unwrap_or(now_ms),
            Err(e) => {
                problems.push(format!("masters {row_id}: {e}"));
                now_ms
            }
        };
        masters.push(ImportedMaster {
            user_id: user,
            phone: row.get("phone").map(normalised_phone),
            specialization: legacy::specialization(row.get("specialization").unwrap_or("")),
            senior: roles.senior,
            // Not approved there, or deactivated, or deleted: takes no orders.
            active: row.flag("is_active") != Some(false)
                && row.flag("is_approved") != Some(false)
                && row.get("deleted_at").is_none(),
            work_group: row.int("work_chat_id").ok().flatten(),
            added_at,
        });
    }
    let mut people = Vec::new();
    let mut people_figures: BTreeMap<String, i64> = BTreeMap::new();
    let mut ids: Vec<&i64> = roles_of.keys().collect();
    ids.sort();
    for id in ids {
        let roles = &roles_of[id];
        for role in &roles.roles {
            *people_figures.entry(role.code().to_string()).or_default() += 1;
            people.push(ImportedPerson {
                user_id: *id,
                role: *role,
                name: names.get(id).cloned().unwrap_or_else(|| format!("id {id}")),
                added_at: since.get(id).copied().unwrap_or(now_ms),
            });
        }
        if roles.senior {
            *people_figures.entry("senior".into()).or_default() += 1;
        }
    }
    let role_list = |user: i64| -> Vec<Role> {
        roles_of
            .get(&user)
            .map(|r| r.roles.clone())
            .unwrap_or_default()
    };

    // History rows by order.
    let mut history: BTreeMap<i64, Vec<&Row>> = BTreeMap::new();
    for row in &snapshot.history {
        match row.int("order_id") {
            Ok(Some(order)) => history.entry(order).or_default().push(row),
            _ => problems.push(format!(
                "order_status_history {:?}: no order",
                row.get("id")
            )),
        }
    }

    let mut orders = Vec::new();
    for row in &snapshot.orders {
        let Ok(Some(number)) = row.int("id") else {
            problems.push(format!("orders: id {:?}", row.get("id")));
            continue;
        };
        match order(
            row,
            number,
            history.remove(&number).unwrap_or_default(),
            &master_of_row,
            &role_list,
            (source_tz, shop_tz),
            now_ms,
        ) {
            Ok(o) => {
                if o.master_id.is_none() && row.get("assigned_master_id").is_some() {
                    notes.push(format!(
                        "order {number}: its master (masters.id {}) is no longer in the masters table",
                        row.get("assigned_master_id").unwrap_or("")
                    ));
                }
                orders.push(o);
            }
            Err(e) => problems.push(format!("order {number}: {e:#}")),
        }
    }
    for (order, rows) in &history {
        notes.push(format!(
            "{} history rows of order {order}, which is not in the orders table, left out",
            rows.len()
        ));
    }
    if !problems.is_empty() {
        let shown: Vec<&str> = problems
            .iter()
            .take(SHOWN_PROBLEMS)
            .map(String::as_str)
            .collect();
        anyhow::bail!(
            "{} rows cannot be read, nothing was imported: {}{}",
            problems.len(),
            shown.join("; "),
            if problems.len() > SHOWN_PROBLEMS {
                "; …"
            } else {
                ""
            }
        );
    }

    Ok(Plan {
        batch: LegacyImport {
            people,
            masters,
            clients: clients(&orders),
            orders,
        },
        people: people_figures,
        notes,
    })
}

/// The figures of the source, leaving out the orders of `excluded` old
/// numbers (changed on both sides since an earlier import).
pub fn source_figures(plan: &Plan, excluded: &[i64]) -> Figures {
    let mut figures = Figures {
        people: plan.people.clone(),
        ..Figures::default()
    };
    let compared = plan
        .batch
        .orders
        .iter()
        .filter(|o| !excluded.contains(&o.legacy_number));
    for o in compared {
        *figures
            .orders
            .entry(o.status.code().to_string())
            .or_default() += 1;
        figures.deleted += i64::from(o.deleted_at.is_some());
        figures.history += o.history.len() as i64;
        if o.status == OrderStatus::Closed {
            let m = &o.money;
            let z = |v: Option<Money>| v.unwrap_or(Money::ZERO);
            figures
                .closed
                .entry(o.master_id.unwrap_or(0))
                .or_default()
                .add(z(m.total), z(m.materials), z(m.master), z(m.company));
        }
    }
    figures
}

/// One order with its history, in this bot's terms.
fn order(
    row: &Row,
    number: i64,
    history: Vec<&Row>,
    master_of_row: &HashMap<i64, i64>,
    role_list: &dyn Fn(i64) -> Vec<Role>,
    (tz, shop_tz): (&TimeZone, &TimeZone),
    now_ms: i64,
) -> anyhow::Result<ImportedOrder> {
    let at = |column: &str| {
        row.get(column)
            .map(|t| legacy::timestamp(t, tz).map_err(anyhow::Error::msg))
            .transpose()
    };
    let money = |column: &str| {
        row.get(column)
            .map(|t| legacy::money(t).map_err(|e| anyhow::anyhow!("{column}: {e}")))
            .transpose()
    };
    let raw_status = row.get("status").unwrap_or("");
    let status = legacy::status(raw_status)
        .ok_or_else(|| anyhow::anyhow!("unknown status {raw_status:?}"))?;
    let created_at = at("created_at")?.ok_or_else(|| anyhow::anyhow!("no created_at"))?;
    let updated_at = at("updated_at")?.unwrap_or(created_at);
    let master_id = row
        .int("assigned_master_id")?
        .and_then(|m| master_of_row.get(&m).copied());
    let filed_by = row.int("dispatcher_id")?;

    let mut steps = Vec::new();
    for h in history {
        let to_raw = h.get("new_status").unwrap_or("");
        let to = legacy::status(to_raw)
            .ok_or_else(|| anyhow::anyhow!("history: unknown status {to_raw:?}"))?;
        let from = match h.get("old_status") {
            Some(raw) => Some(
                legacy::status(raw)
                    .ok_or_else(|| anyhow::anyhow!("history: unknown status {raw:?}"))?,
            ),
            None => None,
        };
        let action = legacy::history_action(from, to);
        let actor_id = h.int("changed_by")?.unwrap_or(0);
        let when = h
            .get("changed_at")
            .map(|t| legacy::timestamp(t, tz).map_err(anyhow::Error::msg))
            .transpose()?
            .unwrap_or(updated_at);
        steps.push(ImportedStep {
            action,
            from,
            to,
            actor_id,
            actor_role: legacy::history_role(action, &role_list(actor_id)),
            comment: h.get("notes").map(str::to_string),
            at: when,
        });
    }
    let done_at = (status == OrderStatus::Closed).then(|| {
        steps
            .iter()
            .rev()
            .find(|s| s.to == OrderStatus::Closed)
            .map_or(updated_at, |s| s.at)
    });

    let dr = legacy::repair_note(row.get("notes").unwrap_or(""));
    let mut notes = dr.rest.clone();
    let mut add_line = |line: String| {
        notes = Some(match notes.take() {
            Some(n) => format!("{n}\n{line}"),
            None => line,
        });
    };
    if let Some(lead) = row.get("master_lead_name") {
        add_line(format!("Привёл клиента: {lead}"));
    }
    // The old bot keeps the reason of an earlier refusal by a master on an
    // order given to someone else since: here a reason belongs to a refused
    // order, so the earlier one is kept as a note.
    let refuse_reason = row.get("refuse_reason").map(str::to_string);
    let refuse_reason = match refuse_reason {
        Some(reason) if status != OrderStatus::Refused => {
            add_line(format!("{EARLIER_REFUSAL}{reason}"));
            None
        }
        reason => reason,
    };
    let due_text = row.get("estimated_completion_date").map(str::to_string);
    let repair =
        (due_text.is_some() || dr.parts.is_some() || dr.agreed.is_some()).then(|| ImportedRepair {
            due_at: due_text
                .as_deref()
                .and_then(|t| legacy::due_moment(t, shop_tz)),
            due_text,
            parts: dr.parts.clone(),
            price: dr.agreed,
        });
    let deleted_at = at("deleted_at")?;
    let mut jobs = Vec::new();
    if let Some(due) = repair.as_ref().and_then(|r| r.due_at) {
        let open = status == OrderStatus::LongRepair && deleted_at.is_none();
        if open && due > now_ms && master_id.is_some() {
            jobs.push(schedule::repair_due(master_id, due, now_ms));
        }
    }

    let (total, materials) = (money("total_amount")?, money("materials_cost")?);
    let (master, company) = (money("master_profit")?, money("company_profit")?);
    let net = total.map(|t| t - materials.unwrap_or(Money::ZERO));
    let master_percent = match (master, net) {
        (Some(m), Some(n)) if n.kopecks() > 0 => {
            Some((m.kopecks() * 100 + n.kopecks() / 2) / n.kopecks())
        }
        _ => None,
    };

    let visit_time = row.get("scheduled_time").unwrap_or("").to_string();
    let visit_now = at("last_rescheduled_at")?.unwrap_or(created_at);
    let visit_now = shop_tz.to_datetime(Timestamp::from_millisecond(visit_now)?);
    let visit = parse_visit(legacy::visit_words(&visit_time), visit_now)
        .ok()
        .map(|v| VisitBounds::of(&v, shop_tz));

    Ok(ImportedOrder {
        legacy_number: number,
        status,
        equipment: legacy::equipment(row.get("equipment_type").unwrap_or("")),
        description: row.get("description").unwrap_or("").to_string(),
        client_name: row.get("client_name").unwrap_or("").to_string(),
        address: row.get("client_address").unwrap_or("").to_string(),
        phone: normalised_phone(row.get("client_phone").unwrap_or("")),
        visit_time,
        visit,
        master_id,
        filed_by,
        filed_by_role: filed_by
            .map(|u| role_list(u).into_iter().max().unwrap_or(Role::Dispatcher))
            .unwrap_or(Role::Dispatcher),
        notes,
        refuse_reason,
        reschedules: row.int("rescheduled_count")?.unwrap_or(0),
        money: ImportedMoney {
            total,
            materials,
            master,
            company,
            master_percent,
            out_of_city: row.flag("out_of_city"),
            has_review: row.flag("has_review"),
            prepayment: money("prepayment_amount")?,
        },
        repair,
        created_at,
        updated_at,
        done_at,
        deleted_at,
        history: steps,
        jobs,
    })
}

/// The name a person goes by: first and last name, else the @username.
fn person_name(user: &Row, id: i64) -> String {
    let full: Vec<&str> = [user.get("first_name"), user.get("last_name")]
        .into_iter()
        .flatten()
        .filter(|p| *p != "None")
        .collect();
    if !full.is_empty() {
        return full.join(" ");
    }
    user.get("username")
        .map(|u| format!("@{u}"))
        .unwrap_or_else(|| format!("id {id}"))
}

/// A phone as this bot keys clients by (`+79991234567`); a number it does
/// not read as one (`8 042-79-51`) is kept as typed.
fn normalised_phone(raw: &str) -> String {
    Phone::parse(raw)
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|_| raw.trim().to_string())
}

/// One client per phone, named and addressed as in their newest order.
fn clients(orders: &[ImportedOrder]) -> Vec<ImportedClient> {
    let mut by_phone: BTreeMap<&str, (ImportedClient, i64)> = BTreeMap::new();
    for o in orders {
        let (client, newest) = by_phone.entry(&o.phone).or_insert_with(|| {
            let client = ImportedClient {
                phone: o.phone.clone(),
                name: o.client_name.clone(),
                address: o.address.clone(),
                since: o.created_at,
            };
            (client, o.created_at)
        });
        if o.created_at >= *newest {
            *newest = o.created_at;
            client.name = o.client_name.clone();
            client.address = o.address.clone();
        }
        client.since = client.since.min(o.created_at);
    }
    by_phone.into_values().map(|(client, _)| client).collect()
}
