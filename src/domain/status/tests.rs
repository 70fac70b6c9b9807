//! Every (status, action, role) combination, allowed and refused, against an
//! explicit table written independently of `decide`'s match.

use super::*;
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

fn actions() -> Vec<Action> {
    vec![
        Action::Assign {
            master_id: OTHER_MASTER,
        },
        Action::Accept,
        Action::StartWork,
        Action::WaitParts,
        Action::ResumeWork,
        Action::Finish,
        Action::Decline,
        Action::Cancel,
        Action::Comment,
        Action::Rate,
    ]
}

/// The expected outcome, spelled out as the shop's rules read in SPEC §2.
fn expected(status: OrderStatus, who: &str, action: Action) -> Option<OrderStatus> {
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
        (Action::Finish, "own master") if status == S::InProgress => Some(S::Done),
        (Action::Decline, "own master")
            if matches!(status, S::Assigned | S::InProgress | S::WaitingParts) =>
        {
            Some(S::New)
        }
        (Action::Cancel, "own client") if matches!(status, S::New | S::Assigned) => {
            Some(S::Cancelled)
        }
        (Action::Cancel, _) if staff && status.is_open() => Some(S::Cancelled),
        (Action::Comment, _) if staff => Some(status),
        (Action::Rate, "own client") if status == S::Done => Some(S::Done),
        _ => None,
    }
}

#[test]
fn every_status_action_role_combination() {
    let mut checked = 0;
    for status in OrderStatus::ALL {
        for (who, actor) in actors() {
            for action in actions() {
                let got = decide(facts(status), actor, action);
                match expected(status, who, action) {
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
    assert_eq!(
        decide(facts(S::New), client, Action::Assign { master_id: MASTER }),
        Err(TransitionError::Forbidden)
    );
    assert_eq!(
        decide(facts(S::InProgress), client, Action::Cancel),
        Err(TransitionError::WrongStatus(S::InProgress))
    );
    let mut done = facts(S::Done);
    done.rated = true;
    assert_eq!(
        decide(done, client, Action::Rate),
        Err(TransitionError::AlreadyRated)
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
        Action::Assign { master_id: MASTER },
    )
    .unwrap();
    assert_eq!(t.master, Some(Some(MASTER)));
    let master = Actor {
        user_id: MASTER,
        role: Role::Master,
    };
    let t = decide(facts(S::Assigned), master, Action::Decline).unwrap();
    assert_eq!(t.master, Some(None));
}

#[test]
fn status_codes_round_trip() {
    for s in OrderStatus::ALL {
        assert_eq!(OrderStatus::from_code(s.code()), Some(s));
    }
    assert!(OrderStatus::from_code("lost").is_none());
    assert!(!S::Done.is_open() && !S::Cancelled.is_open() && S::WaitingParts.is_open());
}
