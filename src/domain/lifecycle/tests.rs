//! Every (status, action, role) combination, allowed and refused, against an
//! explicit table written independently of `decide`'s match.

use super::*;
use crate::domain::{Code, StatusGroup};
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
        client_id: CLIENT,
        master_id,
        rated: false,
    }
}

fn actors() -> Vec<(&'static str, Actor)> {
    vec![
        (
            "own client",
            Actor {
                user_id: CLIENT,
                role: Role::Client,
            },
        ),
        (
            "other client",
            Actor {
                user_id: STRANGER,
                role: Role::Client,
            },
        ),
        (
            "own master",
            Actor {
                user_id: MASTER,
                role: Role::Master,
            },
        ),
        (
            "other master",
            Actor {
                user_id: OTHER_MASTER,
                role: Role::Master,
            },
        ),
        (
            "dispatcher",
            Actor {
                user_id: DISPATCHER,
                role: Role::Dispatcher,
            },
        ),
        (
            "admin",
            Actor {
                user_id: ADMIN,
                role: Role::Admin,
            },
        ),
    ]
}

/// One action of every kind, as a user acting on `order` as they see it would send it.
fn actions(order: OrderFacts) -> Vec<Action> {
    vec![
        Action::Assign {
            master_id: OTHER_MASTER,
            seen_master: order.master_id,
        },
        Action::Accept,
        Action::StartWork,
        Action::WaitParts,
        Action::ResumeWork,
        Action::Finish {
            work: "replaced the pump".into(),
            price: 2500,
        },
        Action::Decline {
            reason: "no parts".into(),
        },
        Action::Cancel,
        Action::Comment {
            text: "call first".into(),
        },
        Action::Rate { stars: 5 },
    ]
}

/// The expected outcome, spelled out as the shop's rules read in SPEC §2.
fn expected(status: OrderStatus, who: &str, action: &Action) -> Option<OrderStatus> {
    let staff = who == "dispatcher" || who == "admin";
    match (action, who) {
        (Action::Assign { .. }, _) if staff => match status {
            S::New | S::Assigned => Some(S::Assigned),
            _ => None,
        },
        (Action::Accept, "own master") if status == S::Assigned => Some(S::Assigned),
        (Action::StartWork, "own master") if status == S::Assigned => Some(S::InProgress),
        (Action::WaitParts, "own master") if status == S::InProgress => Some(S::WaitingParts),
        (Action::ResumeWork, "own master") if status == S::WaitingParts => Some(S::InProgress),
        (Action::Finish { .. }, "own master") if status == S::InProgress => Some(S::Done),
        (Action::Decline { .. }, "own master")
            if matches!(status, S::Assigned | S::InProgress | S::WaitingParts) =>
        {
            Some(S::New)
        }
        (Action::Cancel, "own client") if matches!(status, S::New | S::Assigned) => {
            Some(S::Cancelled)
        }
        (Action::Cancel, _) if staff && status.is_open() => Some(S::Cancelled),
        (Action::Comment { .. }, _) if staff => Some(status),
        (Action::Rate { .. }, "own client") if status == S::Done => Some(S::Done),
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
    assert_eq!(checked, 6 * 6 * 10);
}

#[test]
fn refusals_say_why() {
    let client = Actor {
        user_id: CLIENT,
        role: Role::Client,
    };
    let assign = |master_id, seen_master| Action::Assign {
        master_id,
        seen_master,
    };
    assert_eq!(
        decide(facts(S::New), client, &assign(MASTER, None)),
        Err(TransitionError::Forbidden)
    );
    assert_eq!(
        decide(facts(S::InProgress), client, &Action::Cancel),
        Err(TransitionError::WrongStatus(S::InProgress))
    );
    let mut done = facts(S::Done);
    done.rated = true;
    assert_eq!(
        decide(done, client, &Action::Rate { stars: 5 }),
        Err(TransitionError::AlreadyRated)
    );
    assert_eq!(
        decide(facts(S::Done), client, &Action::Rate { stars: 6 }),
        Err(TransitionError::BadValue)
    );
    let dispatcher = Actor {
        user_id: DISPATCHER,
        role: Role::Dispatcher,
    };
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
}

#[test]
fn assignment_sets_and_decline_clears_the_master() {
    let dispatcher = Actor {
        user_id: DISPATCHER,
        role: Role::Dispatcher,
    };
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
    let master = Actor {
        user_id: MASTER,
        role: Role::Master,
    };
    let decline = Action::Decline {
        reason: "ill".into(),
    };
    let t = decide(facts(S::Assigned), master, &decline).unwrap();
    assert_eq!(t.master, Some(None));
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
    assert!(!S::Done.is_open() && !S::Cancelled.is_open() && S::WaitingParts.is_open());
    assert_eq!(
        StatusGroup::WithMaster.statuses(),
        [S::Assigned, S::InProgress, S::WaitingParts]
    );
    for kind in ActionKind::VARIANTS.iter().copied() {
        assert_eq!(ActionKind::from_code(kind.code()), Some(kind));
    }
    assert_eq!(ActionKind::StartWork.code(), "start_work");
}
