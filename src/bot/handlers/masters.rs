//! Masters' profiles for staff (phone, specialization, senior, active, work
//! group) and a master's own figures (`/my_stats`). Every button here is
//! checked again: the presser may manage masters, the id is a master.

use super::error::{BotError, BotResult, OrInternal};
use super::roles;
use crate::bot::incoming::Incoming;
use crate::bot::output::reply;
use crate::bot::ui::callbacks::MasterButton;
use crate::bot::ui::labels::equipment_label;
use crate::bot::ui::texts::Lang;
use crate::bot::BotContext;
use crate::domain::{day_start, shop_now, ApplianceKind, Dialog, MasterProfile, Permission};
use strum::VariantArray;

/// The profile of `master_id`, or why not.
async fn profile_of(ctx: &BotContext, inc: &Incoming, master_id: i64) -> BotResult<MasterProfile> {
    ctx.db
        .master_profile(master_id)
        .await
        .or_internal("cannot load a master's profile")?
        .ok_or_else(|| {
            BotError::Invalid(
                ctx.texts
                    .get(inc.sender.lang, "group_not_a_master")
                    .to_string(),
            )
        })
}

/// `/master ID`.
pub async fn profile_command(ctx: &BotContext, inc: &Incoming, args: &str) -> BotResult {
    match args.trim().parse::<i64>() {
        Ok(id) if id > 0 => show_profile(ctx, inc, id, None).await,
        _ => Err(BotError::Invalid(
            ctx.texts.get(inc.sender.lang, "master_usage").to_string(),
        )),
    }
}

/// The profile card with its buttons, in place of `edit` when given.
async fn show_profile(
    ctx: &BotContext,
    inc: &Incoming,
    master_id: i64,
    edit: Option<i32>,
) -> BotResult {
    let (t, lang) = (&ctx.texts, inc.sender.lang);
    let p = profile_of(ctx, inc, master_id).await?;
    let group = ctx
        .db
        .group_of_master(master_id)
        .await
        .or_internal("cannot load a work group")?;
    let open = ctx
        .db
        .open_jobs_of_master(master_id)
        .await
        .or_internal("cannot list a master's jobs")?
        .len();
    let none = t.get(lang, "profile_none").to_string();
    let yes_no = |b: bool| t.get(lang, if b { "yes" } else { "no" }).to_string();
    let text = t.fmt(
        lang,
        "master_profile",
        &[
            ("name", &p.name),
            ("id", &p.user_id),
            ("phone", &p.phone.clone().unwrap_or_else(|| none.clone())),
            ("specialization", &specialization(ctx, lang, &p)),
            ("senior", &yes_no(p.senior)),
            (
                "active",
                &t.get(
                    lang,
                    if p.active {
                        "profile_active"
                    } else {
                        "profile_inactive"
                    },
                ),
            ),
            (
                "group",
                &group
                    .map(|g| format!("«{}»", g.title))
                    .unwrap_or_else(|| t.get(lang, "profile_no_group").to_string()),
            ),
            ("open", &open),
        ],
    );
    let button = |key: &str, b: MasterButton| (t.get(lang, key).to_string(), b.data());
    let active_key = if p.active {
        "btn_deactivate"
    } else {
        "btn_activate"
    };
    let rows = vec![
        vec![
            button(
                "btn_specialization",
                MasterButton::Specialization(master_id),
            ),
            button("btn_senior", MasterButton::ToggleSenior(master_id)),
        ],
        vec![
            button("btn_master_phone", MasterButton::Phone(master_id)),
            button("btn_master_group", MasterButton::Groups(master_id)),
        ],
        vec![button(active_key, MasterButton::ToggleActive(master_id))],
    ];
    reply::edit_or_send(ctx, &inc.sender, edit, text, rows).await;
    Ok(())
}

fn specialization(ctx: &BotContext, lang: Lang, p: &MasterProfile) -> String {
    if p.specialization.is_empty() {
        return ctx.texts.get(lang, "profile_any").to_string();
    }
    p.specialization
        .iter()
        .map(|k| equipment_label(&ctx.texts, lang, *k))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A profile button, pressed in message `pressed`; a question to ask
/// next (the master's phone) comes back for the router to start.
pub async fn on_button(
    ctx: &BotContext,
    inc: &Incoming,
    button: MasterButton,
    pressed: Option<i32>,
) -> BotResult<Option<Dialog>> {
    roles::require(ctx, inc, Permission::ManageMasters, "master profile").await?;
    let (t, lang) = (&ctx.texts, inc.sender.lang);
    match button {
        MasterButton::Profile(id) => show_profile(ctx, inc, id, None).await.map(|_| None),
        MasterButton::Specialization(id) => specialization_menu(ctx, inc, id, pressed)
            .await
            .map(|_| None),
        MasterButton::ToggleKind(id, kind) => {
            let mut p = profile_of(ctx, inc, id).await?;
            p.toggle(kind);
            ctx.db
                .save_master_profile(&p)
                .await
                .or_internal("cannot save a master's profile")?;
            specialization_menu(ctx, inc, id, pressed)
                .await
                .map(|_| None)
        }
        MasterButton::ToggleSenior(id) => {
            let mut p = profile_of(ctx, inc, id).await?;
            p.senior = !p.senior;
            ctx.db
                .save_master_profile(&p)
                .await
                .or_internal("cannot save a master's profile")?;
            show_profile(ctx, inc, id, pressed).await.map(|_| None)
        }
        MasterButton::ToggleActive(id) => {
            let p = profile_of(ctx, inc, id).await?;
            let changed = ctx
                .db
                .set_master_active(id, !p.active)
                .await
                .or_internal("cannot change whether a master is active")?;
            if let Err(open) = changed {
                let list = open
                    .iter()
                    .map(|o| format!("№{o}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(BotError::Invalid(t.fmt(
                    lang,
                    "deactivate_refused",
                    &[("name", &p.name), ("orders", &list)],
                )));
            }
            tracing::info!(
                master_id = id,
                active = !p.active,
                by = inc.sender.user_id,
                "master's availability changed"
            );
            show_profile(ctx, inc, id, pressed).await.map(|_| None)
        }
        MasterButton::Phone(id) => {
            profile_of(ctx, inc, id).await?;
            Ok(Some(Dialog::MasterPhone { master_id: id }))
        }
        MasterButton::Groups(id) => {
            let p = profile_of(ctx, inc, id).await?;
            let groups = ctx
                .db
                .unbound_bot_groups()
                .await
                .or_internal("cannot list groups")?;
            if groups.is_empty() {
                return Err(BotError::Invalid(t.get(lang, "no_free_groups").to_string()));
            }
            let rows = groups
                .into_iter()
                .map(|(chat, title)| vec![(title, MasterButton::BindTo(id, chat).data())])
                .collect();
            let text = t.fmt(lang, "bind_which_group", &[("name", &p.name)]);
            reply::send(
                ctx,
                &inc.sender,
                text,
                Some(crate::bot::ui::keyboards::inline(rows)),
            )
            .await;
            Ok(None)
        }
        MasterButton::BindTo(id, chat) => {
            roles::require(ctx, inc, Permission::BindGroups, "bind group").await?;
            let p = profile_of(ctx, inc, id).await?;
            let title = ctx
                .db
                .unbound_bot_groups()
                .await
                .or_internal("cannot list groups")?
                .into_iter()
                .find(|(c, _)| *c == chat)
                .map(|(_, title)| title)
                // Only a group the bot is in and that serves nobody.
                .ok_or_else(|| BotError::Invalid(t.get(lang, "no_free_groups").to_string()))?;
            ctx.db
                .bind_group(chat, id, &title, inc.sender.user_id)
                .await
                .or_internal("cannot bind a group")?;
            tracing::info!(
                chat_id = chat,
                master_id = id,
                by = inc.sender.user_id,
                "work group bound from a profile"
            );
            let text = t.fmt(lang, "group_bound", &[("title", &title), ("name", &p.name)]);
            if let Err(e) = ctx
                .db
                .enqueue(&[crate::db::Notification {
                    chat_id: chat,
                    text: text.clone(),
                    buttons: vec![],
                    card: None,
                    document: None,
                }])
                .await
            {
                tracing::warn!(error = %e, "cannot tell a group it was bound");
            }
            ctx.outbox.changed();
            reply::send(ctx, &inc.sender, text, None).await;
            Ok(None)
        }
    }
}

/// The appliance kinds to toggle, the master's marked.
async fn specialization_menu(
    ctx: &BotContext,
    inc: &Incoming,
    master_id: i64,
    edit: Option<i32>,
) -> BotResult {
    let (t, lang) = (&ctx.texts, inc.sender.lang);
    let p = profile_of(ctx, inc, master_id).await?;
    let mut rows: Vec<Vec<(String, String)>> = ApplianceKind::VARIANTS
        .chunks(2)
        .map(|pair| {
            pair.iter()
                .map(|k| {
                    let mark = if p.repairs(*k) { "✅ " } else { "" };
                    (
                        format!("{mark}{}", equipment_label(t, lang, *k)),
                        MasterButton::ToggleKind(master_id, *k).data(),
                    )
                })
                .collect()
        })
        .collect();
    rows.push(vec![(
        t.get(lang, "btn_back_to_profile").to_string(),
        MasterButton::Profile(master_id).data(),
    )]);
    let text = t.fmt(lang, "specialization_which", &[("name", &p.name)]);
    reply::edit_or_send(ctx, &inc.sender, edit, text, rows).await;
    Ok(())
}

/// A master's phone typed into the profile's question.
pub async fn save_phone(
    ctx: &BotContext,
    inc: &Incoming,
    master_id: i64,
    phone: String,
) -> BotResult {
    roles::require(ctx, inc, Permission::ManageMasters, "master profile").await?;
    let mut p = profile_of(ctx, inc, master_id).await?;
    p.phone = Some(phone);
    ctx.db
        .save_master_profile(&p)
        .await
        .or_internal("cannot save a master's profile")?;
    show_profile(ctx, inc, master_id, None).await
}

/// `/my_stats`: a master's open jobs, this month's closed ones and their
/// total, and their mean rating.
pub async fn my_stats(ctx: &BotContext, inc: &Incoming) -> BotResult {
    let (t, lang) = (&ctx.texts, inc.sender.lang);
    let tz = t.time_zone();
    let today = shop_now(jiff::Timestamp::now(), tz).date();
    let month = today.first_of_month();
    let next = month
        .checked_add(jiff::Span::new().months(1))
        .unwrap_or(month);
    let s = ctx
        .db
        .master_stats(
            inc.sender.user_id,
            day_start(month, tz).as_millisecond(),
            day_start(next, tz).as_millisecond(),
        )
        .await
        .or_internal("cannot compute a master's figures")?;
    let rating = s
        .mean_rating
        .map(|r| format!("{r:.1}"))
        .unwrap_or_else(|| t.get(lang, "stats_none").to_string());
    let text = t.fmt(
        lang,
        "my_stats",
        &[
            ("open", &s.open),
            ("closed", &s.closed),
            ("revenue", &s.revenue),
            ("rating", &rating),
            ("month", &month.strftime("%m.%Y").to_string()),
        ],
    );
    reply::send(ctx, &inc.sender, text, None).await;
    Ok(())
}
