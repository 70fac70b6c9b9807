//! Every (status, action, role) combination, allowed and refused, against an
//! explicit table written independently of `decide`'s match.

use super::*;
use crate::domain::{Code, Roles, StatusGroup, Visit};
use OrderStatus as S;

const CLIENT: i64 = 10;
const MASTER: i64 = 20;
const OTHER_MASTER: i64 = 21;
const DISPATCHER: i64 = 30;
const ADMIN: i64 = 40;
const STRANGER: i64 = 50;

fn facts(status: OrderStatus) -> OrderFacts {
    let master_id = match status {
        S::New => None,
        _ => Some(MASTER),
    };
    OrderFacts {
        status,
        client_id: Some(CLIENT),
        master_id,
        rated: false,
        deleted: false,
    }
}

fn actors() -> Vec<(&'static str, Actor)> {
    vec![
        ("own client", Actor::new(CLIENT, Role::Client)),
        ("other client", Actor::new(STRANGER, Role::Client)),
        ("own master", Actor::new(MASTER, Role::Master)),
        ("other master", Actor::new(OTHER_MASTER, Role::Master)),
        ("dispatcher", Actor::new(DISPATCHER, Role::Dispatcher)),
        ("admin", Actor::new(ADMIN, Role::Admin)),
    ]
}

/// One action of every kind, as a user acting on `order` as they see it would send it.
fn actions(order: OrderFacts) -> Vec<Action> {
    vec![
        Action::Assign {
            master_id: OTHER_MASTER,
            seen_master: order.master_id,
        },
        Action::Unassign,
        Action::Accept,
        Action::StartWork,
        Action::WaitParts {
            terms: RepairTerms {
                due_words: "через неделю".into(),
                due: Visit::whole_day(jiff::civil::date(2026, 11, 1)),
                parts: "компрессор".into(),
                price: crate::domain::Money::from_roubles(9000),
                prepayment: None,
            },
            note: "до 01.11".into(),
        },
        Action::ResumeWork,
        Action::Finish {
            work: "replaced the pump".into(),
            money: ClosedMoney::default(),
            note: "total 2 500 ₽".into(),
        },
        Action::EditMoney {
            money: ClosedMoney::default(),
            change: "total: 2 500 ₽ → 3 000 ₽".into(),
        },
        Action::Decline {
            reason: "no parts".into(),
        },
        Action::Reschedule {
            change: "visit: today → tomorrow; ill".into(),
        },
        Action::Refuse {
            reason: "outside our area".into(),
        },
        Action::Cancel,
        Action::Reopen,
        Action::Comment {
            text: "call first".into(),
        },
        Action::Edit {
            change: "address: a → b".into(),
        },
        Action::Ping,
        Action::Rate { stars: 5 },
    ]
}

/// The expected outcome, spelled out as the shop's rules read in SPEC §3.
fn expected(status: OrderStatus, who: &str, action: &Action) -> Option<OrderStatus> {
    let staff = who == "dispatcher" || who == "admin";
    let open = !matches!(status, S::Closed | S::Refused | S::Cancelled);
    let with_master = open && status != S::New;
    match (action, who) {
        (Action::Assign { .. }, _) if staff => match status {
            S::New | S::Assigned | S::Accepted => Some(S::Assigned),
            _ => None,
        },
        (Action::Unassign, _) if staff && matches!(status, S::Assigned | S::Accepted) => {
            Some(S::New)
        }
        (Action::Accept, "own master") if status == S::Assigned => Some(S::Accepted),
        (Action::StartWork, "own master") if status == S::Accepted => Some(S::OnSite),
        (Action::WaitParts { .. }, "own master") if matches!(status, S::Accepted | S::OnSite) => {
            Some(S::LongRepair)
        }
        (Action::ResumeWork, "own master") if status == S::LongRepair => Some(S::OnSite),
        (Action::Finish { .. }, "own master") if matches!(status, S::OnSite | S::LongRepair) => {
            Some(S::Closed)
        }
        (Action::Decline { .. }, "own master") if with_master => Some(S::New),
        (Action::Reschedule { .. }, "own master")
            if matches!(status, S::Assigned | S::Accepted) =>
        {
            Some(status)
        }
        (Action::Refuse { .. }, _) if staff && open => Some(S::Refused),
        (Action::Cancel, "own client") if matches!(status, S::New | S::Assigned) => {
            Some(S::Cancelled)
        }
        (Action::Reopen, _) if staff && matches!(status, S::Refused | S::Cancelled) => Some(S::New),
        (Action::Comment { .. }, _) if staff => Some(status),
        (Action::Edit { .. }, _) if staff && open => Some(status),
        (Action::Ping, _) if staff && with_master => Some(status),
        (Action::Rate { .. }, "own client") if status == S::Closed => Some(S::Closed),
        (Action::EditMoney { .. }, "admin") if status == S::Closed => Some(S::Closed),
        _ => None,
    }
}

#[test]
fn every_status_action_role_combination() {
    let mut checked = 0;
    for status in OrderStatus::VARIANTS.iter().copied() {
        for (who, actor) in actors() {
            let allowed = allowed_actions(facts(status), actor);
            for action in actions(facts(status)) {
                let got = decide(facts(status), actor, &action);
                let want = expected(status, who, &action);
                assert_eq!(
                    allowed.contains(&action.kind()),
                    want.is_some(),
                    "{who} {action:?} on {status}: offered as a button iff allowed"
                );
                assert_eq!(
                    permits(facts(status), actor, action.kind()).ok(),
                    want,
                    "{who} {action:?} on {status}: the rule for its kind"
                );
                match want {
                    Some(to) => {
                        let t = got.unwrap_or_else(|e| {
                            panic!("{who} {action:?} on {status}: refused ({e}), expected → {to}")
                        });
                        assert_eq!(t.to, to, "{who} {action:?} on {status}");
                        assert_eq!(t.from, status);
                    }
                    None => assert!(
                        got.is_err(),
                        "{who} {action:?} on {status}: allowed → {:?}, expected refusal",
                        got
                    ),
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 8 * 6 * 17);
}

#[test]
fn refusals_say_why() {
    let client = Actor::new(CLIENT, Role::Client);
    let assign = |master_id, seen_master| Action::Assign {
        master_id,
        seen_master,
    };
    assert_eq!(
        decide(facts(S::New), client, &assign(MASTER, None)),
        Err(TransitionError::Forbidden)
    );
    assert_eq!(
        decide(facts(S::OnSite), client, &Action::Cancel),
        Err(TransitionError::WrongStatus(S::OnSite))
    );
    let mut done = facts(S::Closed);
    done.rated = true;
    assert_eq!(
        decide(done, client, &Action::Rate { stars: 5 }),
        Err(TransitionError::AlreadyRated)
    );
    assert_eq!(
        decide(facts(S::Closed), client, &Action::Rate { stars: 6 }),
        Err(TransitionError::BadValue)
    );
    let dispatcher = Actor::new(DISPATCHER, Role::Dispatcher);
    // Someone else assigned a master since this dispatcher looked.
    assert_eq!(
        decide(facts(S::Assigned), dispatcher, &assign(OTHER_MASTER, None)),
        Err(TransitionError::Outdated)
    );
    assert_eq!(
        decide(
            facts(S::Assigned),
            dispatcher,
            &assign(MASTER, Some(MASTER))
        ),
        Err(TransitionError::Unchanged)
    );
    assert_eq!(
        decide(
            facts(S::Accepted),
            dispatcher,
            &assign(MASTER, Some(MASTER))
        ),
        Err(TransitionError::Unchanged),
        "re-assigning the master who accepted would undo their Accept"
    );
    for reason in ["", "  ", "no", " ok "] {
        assert_eq!(
            decide(
                facts(S::New),
                dispatcher,
                &Action::Refuse {
                    reason: reason.into()
                }
            ),
            Err(TransitionError::ReasonRequired),
            "{reason:?}"
        );
    }
    assert!(decide(
        facts(S::New),
        dispatcher,
        &Action::Refuse {
            reason: "нет".into()
        }
    )
    .is_ok());
}

#[test]
fn assignment_sets_and_decline_clears_the_master() {
    let dispatcher = Actor::new(DISPATCHER, Role::Dispatcher);
    let t = decide(
        facts(S::New),
        dispatcher,
        &Action::Assign {
            master_id: MASTER,
            seen_master: None,
        },
    )
    .unwrap();
    assert_eq!(t.master, Some(Some(MASTER)));
    let master = Actor::new(MASTER, Role::Master);
    let decline = Action::Decline {
        reason: "ill".into(),
    };
    let t = decide(facts(S::Assigned), master, &decline).unwrap();
    assert_eq!(t.master, Some(None));
    for (status, action) in [
        (S::Accepted, Action::Unassign),
        (S::Refused, Action::Reopen),
    ] {
        let t = decide(facts(status), dispatcher, &action).unwrap();
        assert_eq!((t.to, t.master), (S::New, Some(None)), "{action:?}");
    }
    let t = decide(facts(S::OnSite), dispatcher, &Action::Ping).unwrap();
    assert_eq!((t.to, t.master), (S::OnSite, None));
}

#[test]
fn who_may_view_an_order() {
    for status in OrderStatus::VARIANTS.iter().copied() {
        for (who, actor) in actors() {
            let want = matches!(who, "own client" | "own master" | "dispatcher" | "admin")
                && !(who == "own master" && status == S::New);
            assert_eq!(may_view(facts(status), actor), want, "{who} on {status}");
            assert_eq!(
                may_read_history(actor),
                matches!(who, "dispatcher" | "admin"),
                "{who}"
            );
        }
    }
}

#[test]
fn status_codes_and_groups() {
    for s in OrderStatus::VARIANTS.iter().copied() {
        assert_eq!(OrderStatus::from_code(s.code()), Some(s));
        assert_eq!(StatusGroup::Open.contains(s), s.is_open());
        assert_ne!(
            StatusGroup::Open.contains(s),
            StatusGroup::Terminal.contains(s)
        );
    }
    assert!(OrderStatus::from_code("lost").is_none());
    assert_eq!(S::OnSite.code(), "on_site");
    assert_eq!(S::LongRepair.to_string(), "long_repair");
    // The first releases' codes (old buttons, old exports) still decode.
    for (old, now) in [
        ("in_progress", S::OnSite),
        ("waiting_parts", S::LongRepair),
        ("done", S::Closed),
    ] {
        assert_eq!(OrderStatus::from_code(old), Some(now), "{old}");
    }
    assert!(!S::Closed.is_open() && !S::Refused.is_open() && S::LongRepair.is_open());
    assert_eq!(
        StatusGroup::WithMaster.statuses(),
        [S::Assigned, S::Accepted, S::OnSite, S::LongRepair]
    );
    for kind in ActionKind::VARIANTS.iter().copied() {
        assert_eq!(ActionKind::from_code(kind.code()), Some(kind));
    }
    assert_eq!(ActionKind::StartWork.code(), "start_work");
}

#[test]
fn a_dispatcher_who_is_also_the_master_gets_both_sets() {
    let both = Actor {
        user_id: MASTER,
        roles: Roles::only(Role::Dispatcher).with(Role::Master),
    };
    let allowed = allowed_actions(facts(S::Assigned), both);
    for kind in [ActionKind::Unassign, ActionKind::Accept, ActionKind::Refuse] {
        assert!(allowed.contains(&kind), "{kind:?} in {allowed:?}");
    }
    // Each action is judged against the roles held: a dispatcher alone is
    // not this order's master.
    let dispatcher_only = Actor::new(MASTER, Role::Dispatcher);
    assert_eq!(
        permits(facts(S::Assigned), dispatcher_only, ActionKind::Accept),
        Err(TransitionError::Forbidden)
    );
    // The history names the role the action was taken in.
    assert_eq!(ActionKind::Accept.performed_as(both), Role::Master);
    assert_eq!(ActionKind::Refuse.performed_as(both), Role::Dispatcher);
    assert_eq!(ActionKind::Rate.performed_as(both), Role::Client);
    assert_eq!(both.role(), Role::Dispatcher);
    assert_eq!(
        both.roles.held(),
        [Role::Client, Role::Master, Role::Dispatcher]
    );
    assert!(Roles::default().contains(Role::Client));
}

#[test]
fn the_masters_work_is_exactly_what_only_the_orders_master_may_do() {
    let master = Actor::new(MASTER, Role::Master);
    let admin = Actor::new(ADMIN, Role::Admin);
    for kind in ActionKind::VARIANTS.iter().copied() {
        let only_the_master = OrderStatus::VARIANTS.iter().any(|s| {
            permits(facts(*s), master, kind).is_ok()
                && permits(facts(*s), admin, kind) == Err(TransitionError::Forbidden)
        });
        assert_eq!(kind.is_masters_work(), only_the_master, "{kind:?}");
    }
}
