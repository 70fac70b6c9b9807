//! The callback-data vocabulary of every inline button, parsed and built in
//! this one module. Callback data is untrusted: whatever a client sends back
//! goes through [`Callback::parse`], which refuses anything malformed, and
//! the handler checks role, ownership and status again before acting.
//!
//! Layouts (Telegram allows 64 bytes):
//! - order dialog: `eq:<kind>`, `vt:<slot>`, `cf:yes|edit|no`, `ed:<field>`
//! - order actions: `o:<verb>:<order>[:<arg>...]`
//! - the staff's order list: `l:<status|all>:<page>`
//! - follow-up dialogs: `sd:skip|master|dispatcher`

use crate::domain::{ApplianceKind, Code, EditField, OrderStatus, VisitSlot};

/// Telegram's limit on callback data.
pub const MAX_DATA_BYTES: usize = 64;

/// Any inline button the bot sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Callback {
    Dialog(DialogButton),
    Order(OrderButton),
    List(ListButton),
    FollowUp(FollowUpButton),
    Group(GroupButton),
    Master(MasterButton),
    Report(ReportButton),
}

/// A button of the `/reports` menu. Untrusted: the handler decides again
/// whose orders the presser may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportButton {
    /// Open orders.
    Active,
    /// Closed work in the current day, week or month.
    Period(crate::domain::report::Period),
}

/// A button of a master's profile card (staff). Untrusted: the handler
/// checks the presser's permission and that the id is a master.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MasterButton {
    Profile(i64),
    /// The list of appliance kinds to toggle.
    Specialization(i64),
    ToggleKind(i64, ApplianceKind),
    ToggleSenior(i64),
    ToggleActive(i64),
    /// Ask the master's phone.
    Phone(i64),
    /// The unbound groups the bot is in, to bind one.
    Groups(i64),
    /// Bind this group (a negative chat id) to the master.
    BindTo(i64, i64),
}

/// A button of a work group's binding menu.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupButton {
    /// Bind the group to this master.
    Bind(i64),
}

/// A button of the client's order dialog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialogButton {
    Equipment(ApplianceKind),
    Visit(VisitSlot),
    Confirm,
    EditMenu,
    Edit(EditField),
    /// Also the cancel button of the shared-contact question.
    Cancel,
    /// Skip an optional step (the desk's notes).
    Skip,
    /// Desk: take the returning caller's name and address.
    Reuse,
}

/// An order-action button. Untrusted: the handler re-checks role,
/// ownership and status before acting on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderButton {
    Card(i64),
    ChooseMaster(i64),
    /// Assign order to master, expecting the order's current master (0 = none):
    /// a button pressed on an outdated card then fails instead of re-assigning.
    AssignTo(i64, i64, i64),
    Accept(i64),
    Start(i64),
    Parts(i64),
    Resume(i64),
    Done(i64),
    Decline(i64),
    Cancel(i64),
    Comment(i64),
    RateMenu(i64),
    Rate(i64, u8),
    /// Every internal comment of an order, for a card too long to hold them.
    Comments(i64),
    /// The order's full history.
    History(i64),
    /// Staff: take the order back from its master.
    Unassign(i64),
    /// Master: move the visit (a time and a reason are asked).
    Reschedule(i64),
    /// Staff: refuse the order (a reason is asked).
    Refuse(i64),
    /// Staff: a refused or cancelled order back to new.
    Reopen(i64),
    /// Admin: correct a closed order's money (the amounts are asked again).
    EditMoney(i64),
    /// Staff: "the client is waiting" to the master.
    Ping(i64),
    /// Staff: which field of the order to correct.
    EditMenu(i64),
    /// Staff: correct this field (the new value is asked).
    EditField(i64, EditField),
}

/// A page of the staff's order list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListButton {
    pub status: Option<OrderStatus>,
    pub page: i64,
}

/// Buttons of the short follow-up dialogs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowUpButton {
    /// Skip the rating comment.
    SkipComment,
    /// Add the shared contact as a master.
    AddAsMaster,
    /// Add the shared contact as a dispatcher (admins only).
    AddAsDispatcher,
    /// Yes / no to a closing question (out of city, a review).
    Yes,
    No,
}

impl Callback {
    /// The data Telegram sends back when the button is pressed.
    pub fn data(self) -> String {
        match self {
            Self::Dialog(b) => match b {
                DialogButton::Equipment(k) => format!("eq:{}", k.code()),
                DialogButton::Visit(s) => format!("vt:{}", s.code()),
                DialogButton::Confirm => "cf:yes".into(),
                DialogButton::EditMenu => "cf:edit".into(),
                DialogButton::Cancel => "cf:no".into(),
                DialogButton::Edit(f) => format!("ed:{}", f.code()),
                DialogButton::Skip => "cf:skip".into(),
                DialogButton::Reuse => "cf:reuse".into(),
            },
            Self::Order(b) => order_data(b),
            Self::List(l) => format!(
                "l:{}:{}",
                l.status.map(|s| s.code()).unwrap_or("all"),
                l.page
            ),
            Self::Group(GroupButton::Bind(master)) => format!("g:bind:{master}"),
            Self::Master(b) => master_data(b),
            Self::Report(ReportButton::Active) => "r:active".into(),
            Self::Report(ReportButton::Period(p)) => {
                let code: &str = p.into();
                format!("r:{code}")
            }
            Self::FollowUp(b) => match b {
                FollowUpButton::SkipComment => "sd:skip".into(),
                FollowUpButton::AddAsMaster => "sd:master".into(),
                FollowUpButton::AddAsDispatcher => "sd:dispatcher".into(),
                FollowUpButton::Yes => "sd:yes".into(),
                FollowUpButton::No => "sd:no".into(),
            },
        }
    }

    /// Parses callback data; `None` for anything malformed, forged or from
    /// a vocabulary this release does not have.
    pub fn parse(data: &str) -> Option<Self> {
        if data.len() > MAX_DATA_BYTES {
            return None;
        }
        let (prefix, rest) = data.split_once(':')?;
        match prefix {
            "eq" => {
                ApplianceKind::from_code(rest).map(|k| Self::Dialog(DialogButton::Equipment(k)))
            }
            "vt" => VisitSlot::from_code(rest).map(|s| Self::Dialog(DialogButton::Visit(s))),
            "cf" => match rest {
                "yes" => Some(Self::Dialog(DialogButton::Confirm)),
                "edit" => Some(Self::Dialog(DialogButton::EditMenu)),
                "no" => Some(Self::Dialog(DialogButton::Cancel)),
                "skip" => Some(Self::Dialog(DialogButton::Skip)),
                "reuse" => Some(Self::Dialog(DialogButton::Reuse)),
                _ => None,
            },
            "ed" => EditField::from_code(rest).map(|f| Self::Dialog(DialogButton::Edit(f))),
            "o" => parse_order(rest).map(Self::Order),
            "m" => parse_master(rest).map(Self::Master),
            "g" => match rest.split_once(':') {
                Some(("bind", id)) => id
                    .parse::<i64>()
                    .ok()
                    .filter(|id| *id > 0)
                    .map(|id| Self::Group(GroupButton::Bind(id))),
                _ => None,
            },
            "l" => parse_list(rest).map(Self::List),
            "r" => match rest {
                "active" => Some(Self::Report(ReportButton::Active)),
                period => period
                    .parse()
                    .ok()
                    .map(|p| Self::Report(ReportButton::Period(p))),
            },
            "sd" => match rest {
                "skip" => Some(Self::FollowUp(FollowUpButton::SkipComment)),
                "master" => Some(Self::FollowUp(FollowUpButton::AddAsMaster)),
                "dispatcher" => Some(Self::FollowUp(FollowUpButton::AddAsDispatcher)),
                "yes" => Some(Self::FollowUp(FollowUpButton::Yes)),
                "no" => Some(Self::FollowUp(FollowUpButton::No)),
                _ => None,
            },
            _ => None,
        }
    }
}

fn order_data(b: OrderButton) -> String {
    use OrderButton as B;
    match b {
        B::Card(id) => format!("o:card:{id}"),
        B::ChooseMaster(id) => format!("o:asg:{id}"),
        B::AssignTo(id, m, expected) => format!("o:am:{id}:{m}:{expected}"),
        B::Accept(id) => format!("o:acc:{id}"),
        B::Start(id) => format!("o:st:{id}"),
        B::Parts(id) => format!("o:pt:{id}"),
        B::Resume(id) => format!("o:rs:{id}"),
        B::Done(id) => format!("o:dn:{id}"),
        B::Decline(id) => format!("o:dc:{id}"),
        B::Cancel(id) => format!("o:cn:{id}"),
        B::Comment(id) => format!("o:cm:{id}"),
        B::RateMenu(id) => format!("o:rt:{id}"),
        B::Rate(id, stars) => format!("o:rv:{id}:{stars}"),
        B::Comments(id) => format!("o:cms:{id}"),
        B::History(id) => format!("o:his:{id}"),
        B::Unassign(id) => format!("o:ua:{id}"),
        B::Reschedule(id) => format!("o:rsc:{id}"),
        B::Refuse(id) => format!("o:rf:{id}"),
        B::Reopen(id) => format!("o:ro:{id}"),
        B::EditMoney(id) => format!("o:mn:{id}"),
        B::Ping(id) => format!("o:pg:{id}"),
        B::EditMenu(id) => format!("o:em:{id}"),
        B::EditField(id, f) => format!("o:ef:{id}:{}", f.code()),
    }
}

fn parse_order(rest: &str) -> Option<OrderButton> {
    use OrderButton as B;
    let parts: Vec<&str> = rest.split(':').collect();
    let num = |i: usize| parts.get(i).and_then(|p| p.parse::<i64>().ok());
    if parts.len() < 2 {
        return None;
    }
    let id = num(1).filter(|id| *id > 0)?;
    let button = match (parts[0], parts.len()) {
        ("card", 2) => B::Card(id),
        ("asg", 2) => B::ChooseMaster(id),
        ("am", 4) => B::AssignTo(id, num(2).filter(|m| *m > 0)?, num(3).filter(|e| *e >= 0)?),
        ("acc", 2) => B::Accept(id),
        ("st", 2) => B::Start(id),
        ("pt", 2) => B::Parts(id),
        ("rs", 2) => B::Resume(id),
        ("dn", 2) => B::Done(id),
        ("dc", 2) => B::Decline(id),
        ("cn", 2) => B::Cancel(id),
        ("cm", 2) => B::Comment(id),
        ("rt", 2) => B::RateMenu(id),
        ("rv", 3) => B::Rate(
            id,
            parts[2]
                .parse::<u8>()
                .ok()
                .filter(|s| (1..=5).contains(s))?,
        ),
        ("cms", 2) => B::Comments(id),
        ("his", 2) => B::History(id),
        ("ua", 2) => B::Unassign(id),
        ("rsc", 2) => B::Reschedule(id),
        ("rf", 2) => B::Refuse(id),
        ("ro", 2) => B::Reopen(id),
        ("mn", 2) => B::EditMoney(id),
        ("pg", 2) => B::Ping(id),
        ("em", 2) => B::EditMenu(id),
        ("ef", 3) => B::EditField(id, EditField::from_code(parts[2])?),
        _ => return None,
    };
    Some(button)
}

fn master_data(b: MasterButton) -> String {
    use MasterButton as B;
    match b {
        B::Profile(id) => format!("m:p:{id}"),
        B::Specialization(id) => format!("m:sp:{id}"),
        B::ToggleKind(id, kind) => format!("m:k:{id}:{}", kind.code()),
        B::ToggleSenior(id) => format!("m:sen:{id}"),
        B::ToggleActive(id) => format!("m:act:{id}"),
        B::Phone(id) => format!("m:ph:{id}"),
        B::Groups(id) => format!("m:g:{id}"),
        B::BindTo(id, chat) => format!("m:bg:{id}:{chat}"),
    }
}

fn parse_master(rest: &str) -> Option<MasterButton> {
    use MasterButton as B;
    let parts: Vec<&str> = rest.split(':').collect();
    let id = parts.get(1)?.parse::<i64>().ok().filter(|id| *id > 0)?;
    Some(match (parts[0], parts.len()) {
        ("p", 2) => B::Profile(id),
        ("sp", 2) => B::Specialization(id),
        ("k", 3) => B::ToggleKind(id, ApplianceKind::from_code(parts[2])?),
        ("sen", 2) => B::ToggleSenior(id),
        ("act", 2) => B::ToggleActive(id),
        ("ph", 2) => B::Phone(id),
        ("g", 2) => B::Groups(id),
        ("bg", 3) => B::BindTo(id, parts[2].parse::<i64>().ok().filter(|c| *c < 0)?),
        _ => return None,
    })
}

impl MasterButton {
    /// Callback data for this button.
    pub fn data(self) -> String {
        Callback::Master(self).data()
    }
}

fn parse_list(rest: &str) -> Option<ListButton> {
    let (filter, page) = rest.split_once(':')?;
    let page: i64 = page.parse().ok().filter(|p| (0..100_000).contains(p))?;
    let status = match filter {
        "all" => None,
        code => Some(OrderStatus::from_code(code)?),
    };
    Some(ListButton { status, page })
}

impl OrderButton {
    /// The order the button is about.
    pub fn order_id(self) -> i64 {
        use OrderButton as B;
        match self {
            B::Card(id)
            | B::ChooseMaster(id)
            | B::AssignTo(id, _, _)
            | B::Accept(id)
            | B::Start(id)
            | B::Parts(id)
            | B::Resume(id)
            | B::Done(id)
            | B::Decline(id)
            | B::Cancel(id)
            | B::Comment(id)
            | B::RateMenu(id)
            | B::Rate(id, _)
            | B::Comments(id)
            | B::History(id)
            | B::Unassign(id)
            | B::Reschedule(id)
            | B::Refuse(id)
            | B::Reopen(id)
            | B::EditMoney(id)
            | B::Ping(id)
            | B::EditMenu(id)
            | B::EditField(id, _) => id,
        }
    }

    /// Callback data for this button.
    pub fn data(self) -> String {
        Callback::Order(self).data()
    }
}

impl ListButton {
    /// Callback data for this page.
    pub fn data(self) -> String {
        Callback::List(self).data()
    }
}

impl DialogButton {
    /// Callback data for this button.
    pub fn data(self) -> String {
        Callback::Dialog(self).data()
    }
}

impl GroupButton {
    /// Callback data for this button.
    pub fn data(self) -> String {
        Callback::Group(self).data()
    }
}

impl FollowUpButton {
    /// Callback data for this button.
    pub fn data(self) -> String {
        Callback::FollowUp(self).data()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strum::VariantArray;

    /// One value of every variant, with the largest numbers that fit.
    fn every_callback() -> Vec<Callback> {
        let big = i64::MAX;
        let mut all: Vec<Callback> = Vec::new();
        for k in ApplianceKind::VARIANTS {
            all.push(Callback::Dialog(DialogButton::Equipment(*k)));
        }
        for s in VisitSlot::VARIANTS {
            all.push(Callback::Dialog(DialogButton::Visit(*s)));
        }
        for f in EditField::VARIANTS {
            all.push(Callback::Dialog(DialogButton::Edit(*f)));
        }
        all.extend(
            [
                DialogButton::Confirm,
                DialogButton::EditMenu,
                DialogButton::Cancel,
                DialogButton::Skip,
                DialogButton::Reuse,
            ]
            .map(Callback::Dialog),
        );
        use OrderButton as B;
        all.extend(
            [
                B::Card(big),
                B::ChooseMaster(big),
                B::AssignTo(big, big, big),
                B::AssignTo(1, 2, 0),
                B::Accept(big),
                B::Start(big),
                B::Parts(big),
                B::Resume(big),
                B::Done(big),
                B::Decline(big),
                B::Cancel(big),
                B::Comment(big),
                B::RateMenu(big),
                B::Rate(big, 5),
                B::Rate(1, 1),
                B::Comments(big),
                B::History(big),
                B::Unassign(big),
                B::Reschedule(big),
                B::Refuse(big),
                B::Reopen(big),
                B::EditMoney(big),
                B::Ping(big),
                B::EditMenu(big),
            ]
            .map(Callback::Order),
        );
        for f in EditField::VARIANTS {
            all.push(Callback::Order(B::EditField(big, *f)));
        }
        for status in std::iter::once(None).chain(OrderStatus::VARIANTS.iter().copied().map(Some)) {
            all.push(Callback::List(ListButton {
                status,
                page: 99_999,
            }));
        }
        all.push(Callback::Group(GroupButton::Bind(big)));
        {
            use MasterButton as M;
            all.extend(
                [
                    M::Profile(big),
                    M::Specialization(big),
                    M::ToggleSenior(big),
                    M::ToggleActive(big),
                    M::Phone(big),
                    M::Groups(big),
                    M::BindTo(big, -1_000_000_000_000_000),
                    M::BindTo(1, -5),
                ]
                .map(Callback::Master),
            );
            for k in ApplianceKind::VARIANTS {
                all.push(Callback::Master(M::ToggleKind(big, *k)));
            }
        }
        all.extend(
            [
                FollowUpButton::SkipComment,
                FollowUpButton::AddAsMaster,
                FollowUpButton::AddAsDispatcher,
            ]
            .map(Callback::FollowUp),
        );
        all
    }

    #[test]
    fn every_variant_round_trips_within_64_bytes() {
        let all = every_callback();
        for cb in &all {
            let data = cb.data();
            assert!(data.len() <= MAX_DATA_BYTES, "{data}: {} bytes", data.len());
            assert_eq!(Callback::parse(&data), Some(*cb), "{data}");
        }
        // No two values share their data.
        let mut datas: Vec<String> = all.iter().map(|c| c.data()).collect();
        datas.sort();
        datas.dedup();
        assert_eq!(datas.len(), all.len());
    }

    #[test]
    fn forgeries_and_strangers_are_refused() {
        for forged in [
            "",
            "eq",
            "eq:",
            "eq:toaster",
            "cf:maybe",
            "xx:yes",
            "ed:price",
            "eq:tv:extra",
            "o:card",
            "o:card:-1",
            "o:card:abc",
            "o:rv:1:6",
            "o:rv:1:0",
            "o:am:1",
            "o:am:1:2",
            "o:am:1:2:-1",
            "o:zz:1",
            "o:card:1:2",
            "x:card:1",
            "l:lost:0",
            "l:all:-1",
            "l:all:100000",
            "sd:admin",
            "sd:",
            "m:bg:1:5",
            "m:k:1:toaster",
            "m:p:0",
            "m:zz:1",
            "g:bind:0",
            "g:bind:-5",
            "g:bind",
            "g:unknown:1",
            "o:ef:1",
            "o:ef:1:price",
            "o:ef:1:address:2",
        ] {
            assert_eq!(Callback::parse(forged), None, "{forged}");
        }
        let long = format!("o:card:{}", "1".repeat(70));
        assert_eq!(Callback::parse(&long), None);
        assert_eq!(
            Callback::parse("l:new:2"),
            Some(Callback::List(ListButton {
                status: Some(OrderStatus::New),
                page: 2
            }))
        );
    }
}
