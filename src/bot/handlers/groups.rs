//! Masters' work groups on Telegram: binding a group to a master, the bot
//! being added to or removed from a group, a group that becomes a
//! supergroup, and who may do what inside one. Every update from a group
//! passes [`gate`] first: buttons act only for the group's master or an
//! admin, commands only for the master and staff, and other chatter is not
//! the bot's business.

use super::error::{BotError, BotResult, OrInternal};
use super::{names, roles};
use crate::bot::incoming::{Incoming, Input, Membership};
use crate::bot::output::reply;
use crate::bot::ui::callbacks::{Callback, GroupButton};
use crate::bot::ui::commands::Command;
use crate::bot::ui::keyboards;
use crate::bot::BotContext;
use crate::db::Notification;
use crate::domain::{Actor, Permission, Role};

/// What the router does with a group's update after the gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Answered (or ignored) here.
    Handled,
    /// The group's master or a staff member acting: route it as usual.
    Route,
}

/// Commands that make sense in a work group; the rest belong in a private
/// chat with the bot (a dialog that files an order, a menu).
fn served_in_groups(cmd: &Command) -> bool {
    matches!(
        cmd,
        Command::Help
            | Command::Cancel
            | Command::MyJobs
            | Command::MyStats
            | Command::Order(_)
            | Command::History(_)
            | Command::BindMaster(_)
            | Command::UnbindMaster
    )
}

/// Decides what happens to an update from a group.
pub async fn gate(ctx: &BotContext, inc: &Incoming) -> BotResult<Gate> {
    match &inc.input {
        Input::Membership(change) => {
            on_membership(ctx, inc, *change).await?;
            return Ok(Gate::Handled);
        }
        Input::Migrated { to_chat_id } => {
            let moved = ctx
                .db
                .migrate_group(inc.sender.chat_id, *to_chat_id)
                .await
                .or_internal("cannot move a group's binding")?;
            tracing::info!(
                from_chat = inc.sender.chat_id,
                to_chat = *to_chat_id,
                binding_moved = moved,
                "group became a supergroup"
            );
            return Ok(Gate::Handled);
        }
        _ => {}
    }
    let actor = roles::actor(ctx, inc).await?;
    let bound = ctx
        .db
        .group(inc.sender.chat_id)
        .await
        .or_internal("cannot load a work group")?;
    let is_groups_master = bound.as_ref().is_some_and(|g| g.master_id == actor.user_id);
    match &inc.input {
        Input::Command { name, args } => match Command::from_parts(name, args) {
            Some(Command::BindMaster(args)) => {
                require_admin(actor, "bind_master")?;
                bind_command(ctx, inc, &args).await?;
                Ok(Gate::Handled)
            }
            Some(Command::UnbindMaster) => {
                require_admin(actor, "unbind_master")?;
                unbind(ctx, inc).await?;
                Ok(Gate::Handled)
            }
            Some(cmd) if is_groups_master || actor.roles.is_staff() => {
                if served_in_groups(&cmd) {
                    Ok(Gate::Route)
                } else {
                    let text = ctx.texts.get(inc.sender.lang, "group_private_only");
                    reply::send(ctx, &inc.sender, text, None).await;
                    Ok(Gate::Handled)
                }
            }
            _ => Ok(Gate::Handled),
        },
        Input::Button { query_id, data, .. } => {
            if let Some(Callback::Group(GroupButton::Bind(master_id))) = Callback::parse(data) {
                reply::answer_button(ctx, query_id, None).await;
                require_admin(actor, "bind_master")?;
                bind(ctx, inc, master_id).await?;
                return Ok(Gate::Handled);
            }
            // A card's buttons act for the group's master or an admin only.
            if is_groups_master || actor.roles.contains(Role::Admin) {
                Ok(Gate::Route)
            } else {
                tracing::info!(
                    user_id = actor.user_id,
                    chat_id = inc.sender.chat_id,
                    "a button in a work group pressed by someone else; refused"
                );
                let toast = ctx.texts.get(inc.sender.lang, "not_for_you");
                reply::answer_button(ctx, query_id, Some(toast)).await;
                Ok(Gate::Handled)
            }
        }
        // Answers to the master's own questions (the work done, a price);
        // the router ignores a group's chatter outside a dialog.
        _ if is_groups_master || actor.roles.is_staff() => Ok(Gate::Route),
        _ => Ok(Gate::Handled),
    }
}

fn require_admin(actor: Actor, what: &str) -> BotResult {
    if actor.may(Permission::BindGroups) {
        Ok(())
    } else {
        Err(BotError::needs_role(actor.role(), what))
    }
}

/// `/bind_master` (the masters to choose from) or `/bind_master ID`.
async fn bind_command(ctx: &BotContext, inc: &Incoming, args: &str) -> BotResult {
    if let Ok(master_id) = args.trim().parse::<i64>() {
        return bind(ctx, inc, master_id).await;
    }
    ask_which_master(ctx, inc).await
}

async fn ask_which_master(ctx: &BotContext, inc: &Incoming) -> BotResult {
    let (t, lang) = (&ctx.texts, inc.sender.lang);
    let masters = ctx
        .db
        .people_with_role(Role::Master)
        .await
        .or_internal("cannot list masters")?;
    if masters.is_empty() {
        return Err(BotError::Invalid(t.get(lang, "no_masters").to_string()));
    }
    let rows = masters
        .iter()
        .map(|m| vec![(m.name.clone(), GroupButton::Bind(m.user_id).data())])
        .collect();
    let text = t.get(lang, "group_bind_which");
    reply::send(ctx, &inc.sender, text, Some(keyboards::inline(rows))).await;
    Ok(())
}

/// Binds this group to `master_id` (who must be a master), telling the
/// group, the master, and whoever the binding replaced.
async fn bind(ctx: &BotContext, inc: &Incoming, master_id: i64) -> BotResult {
    let (t, lang) = (&ctx.texts, inc.sender.lang);
    let is_master = ctx
        .db
        .person_roles(master_id)
        .await
        .or_internal("cannot load a master")?
        .iter()
        .any(|p| p.role == Role::Master);
    if !is_master {
        return Err(BotError::Invalid(
            t.get(lang, "group_not_a_master").to_string(),
        ));
    }
    let chat_id = inc.sender.chat_id;
    let title = inc.sender.chat_title.clone();
    let rebound = ctx
        .db
        .bind_group(chat_id, master_id, &title, inc.sender.user_id)
        .await
        .or_internal("cannot bind a group")?;
    let name = names::display_name(ctx, master_id).await;
    tracing::info!(
        chat_id,
        master_id,
        by = inc.sender.user_id,
        ?rebound,
        "work group bound"
    );
    let mut notes = vec![Notification {
        chat_id: master_id,
        text: t.fmt(lang, "group_bound_master", &[("title", &title)]),
        buttons: vec![],
        card: None,
        document: None,
    }];
    if let Some(old) = rebound.old_group_of_master {
        notes.push(Notification {
            chat_id: old,
            text: t.fmt(lang, "group_moved_away", &[("name", &name)]),
            buttons: vec![],
            card: None,
            document: None,
        });
    }
    if let Err(e) = ctx.db.enqueue(&notes).await {
        tracing::warn!(error = %e, "cannot queue the binding's notices");
    }
    ctx.outbox.changed();
    let text = t.fmt(lang, "group_bound", &[("title", &title), ("name", &name)]);
    reply::send(ctx, &inc.sender, text, None).await;
    Ok(())
}

async fn unbind(ctx: &BotContext, inc: &Incoming) -> BotResult {
    let (t, lang) = (&ctx.texts, inc.sender.lang);
    let master = ctx
        .db
        .unbind_group(inc.sender.chat_id)
        .await
        .or_internal("cannot unbind a group")?;
    let text = match master {
        Some(master_id) => {
            tracing::info!(
                chat_id = inc.sender.chat_id,
                master_id,
                "work group unbound"
            );
            let name = names::display_name(ctx, master_id).await;
            t.fmt(lang, "group_unbound", &[("name", &name)])
        }
        None => t.get(lang, "group_not_bound").to_string(),
    };
    reply::send(ctx, &inc.sender, text, None).await;
    Ok(())
}

/// The bot was added to, removed from, promoted or demoted in a group.
async fn on_membership(ctx: &BotContext, inc: &Incoming, change: Membership) -> BotResult {
    let (t, lang) = (&ctx.texts, inc.sender.lang);
    let chat_id = inc.sender.chat_id;
    tracing::info!(
        chat_id,
        by = inc.sender.user_id,
        ?change,
        "bot membership in a group changed"
    );
    match change {
        Membership::Added => {
            ctx.db
                .remember_bot_group(chat_id, &inc.sender.chat_title)
                .await
                .or_internal("cannot remember a group")?;
            let actor = roles::actor(ctx, inc).await?;
            if actor.may(Permission::BindGroups) {
                ask_which_master(ctx, inc).await?;
            } else {
                let text = t.get(lang, "group_added_not_admin");
                reply::send(ctx, &inc.sender, text, None).await;
            }
        }
        Membership::Removed => {
            ctx.db
                .forget_bot_group(chat_id)
                .await
                .or_internal("cannot forget a group")?;
            let Some(master_id) = ctx
                .db
                .unbind_group(chat_id)
                .await
                .or_internal("cannot unbind a group")?
            else {
                return Ok(());
            };
            // Cards go to the master's private chat from now on: say so.
            let name = names::display_name(ctx, master_id).await;
            let title = inc.sender.chat_title.clone();
            let staff = ctx.staff_chats().await.unwrap_or_default();
            let mut notes: Vec<Notification> = staff
                .iter()
                .map(|chat| Notification {
                    chat_id: *chat,
                    text: t.fmt(
                        lang,
                        "group_removed_staff",
                        &[("title", &title), ("name", &name)],
                    ),
                    buttons: vec![],
                    card: None,
                    document: None,
                })
                .collect();
            notes.push(Notification {
                chat_id: master_id,
                text: t.fmt(lang, "group_removed_master", &[("title", &title)]),
                buttons: vec![],
                card: None,
                document: None,
            });
            if let Err(e) = ctx.db.enqueue(&notes).await {
                tracing::warn!(error = %e, "cannot queue the removal's notices");
            }
            ctx.outbox.changed();
        }
        Membership::Promoted | Membership::Demoted => {}
    }
    Ok(())
}
