//! Who acts: a user with a role and its attachments, or the system itself (the deadline
//! scanner).

use serde::{Deserialize, Serialize};

use crate::values::{DepartmentId, EnterpriseId, Role, UserId};

/// A user as the rules see it (DESIGN.md section 1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub role: Role,
    /// An officer's department.
    pub department_id: Option<DepartmentId>,
    /// An enterprise user's enterprise.
    pub enterprise_id: Option<EnterpriseId>,
    /// The enterprises a liaison is stationed at (驻厂).
    pub stationed_at: Vec<EnterpriseId>,
}

impl User {
    pub fn is(&self, role: Role) -> bool {
        self.role == role
    }

    pub fn is_stationed_at(&self, enterprise: EnterpriseId) -> bool {
        self.role == Role::Liaison && self.stationed_at.contains(&enterprise)
    }
}

/// Whoever issues a command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    User(User),
    /// The deadline scanner: closes tickets whose rating window ended, recomputes
    /// provisional deadlines.
    System,
}

impl Actor {
    pub fn id(&self) -> Option<UserId> {
        match self {
            Actor::User(user) => Some(user.id),
            Actor::System => None,
        }
    }

    pub fn user(&self) -> Option<&User> {
        match self {
            Actor::User(user) => Some(user),
            Actor::System => None,
        }
    }

    pub fn role(&self) -> Option<Role> {
        self.user().map(|user| user.role)
    }
}

impl From<User> for Actor {
    fn from(user: User) -> Actor {
        Actor::User(user)
    }
}
