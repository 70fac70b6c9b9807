//! Who may use which part of the bot, apart from acting on one order (that
//! is [`super::decide`]'s). Every command and every button asks here, on the
//! server, for every update.

use super::Role;

/// Something a command or button lets a person do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// File orders and see one's own: everybody.
    FileOrders,
    /// A master's own jobs.
    OwnJobs,
    /// The order board: lists, cards, assignments.
    OrderBoard,
    /// Take a caller's order at the desk (`/new_order`).
    TakeCalls,
    /// Bind a Telegram group to a master as their work group.
    BindGroups,
    /// Add and remove masters.
    ManageMasters,
    /// Add and remove dispatchers.
    ManageDispatchers,
    /// Statistics.
    Stats,
    /// The CSV export of all orders.
    Export,
}

impl Permission {
    /// The least role that has this permission.
    pub fn least_role(self) -> Role {
        match self {
            Self::FileOrders => Role::Client,
            Self::OwnJobs => Role::Master,
            Self::OrderBoard | Self::TakeCalls | Self::ManageMasters => Role::Dispatcher,
            Self::ManageDispatchers | Self::Stats | Self::Export | Self::BindGroups => Role::Admin,
        }
    }

    /// The permission to add or remove a person of `role` (`None`: nobody
    /// adds clients).
    pub fn to_manage(role: Role) -> Option<Self> {
        match role {
            Role::Master => Some(Self::ManageMasters),
            Role::Dispatcher => Some(Self::ManageDispatchers),
            Role::Client | Role::Admin => None,
        }
    }
}

impl super::Actor {
    /// Whether this person may use `permission` (judged by their most
    /// trusted role: the roles are ordered by trust).
    pub fn may(self, permission: Permission) -> bool {
        self.role().may(permission)
    }
}

impl Role {
    /// Whether this role has `permission`.
    pub fn may(self, permission: Permission) -> bool {
        self.includes(permission.least_role())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_has_exactly_its_permissions() {
        use Permission as P;
        let all = [
            P::FileOrders,
            P::OwnJobs,
            P::OrderBoard,
            P::TakeCalls,
            P::ManageMasters,
            P::ManageDispatchers,
            P::Stats,
            P::Export,
            P::BindGroups,
        ];
        let table: [(Role, &[Permission]); 4] = [
            (Role::Client, &[P::FileOrders]),
            (Role::Master, &[P::FileOrders, P::OwnJobs]),
            (
                Role::Dispatcher,
                &[
                    P::FileOrders,
                    P::OwnJobs,
                    P::OrderBoard,
                    P::TakeCalls,
                    P::ManageMasters,
                ],
            ),
            (Role::Admin, &all),
        ];
        for (role, granted) in table {
            for p in all {
                assert_eq!(role.may(p), granted.contains(&p), "{role:?} {p:?}");
            }
        }
        assert_eq!(Permission::to_manage(Role::Client), None);
        assert_eq!(
            Permission::to_manage(Role::Dispatcher),
            Some(P::ManageDispatchers)
        );
    }
}
