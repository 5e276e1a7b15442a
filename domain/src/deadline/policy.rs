//! The SLA table: the county's own commitment (承诺时限), editable by admins
//! (DESIGN.md section 4).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::values::{Urgency, ValueError};

/// How a limit counts: on the clock (24×7), or in working days of the calendar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitUnit {
    Minutes,
    WorkingDays,
}

impl LimitUnit {
    pub const NAMES: &'static [&'static str] = &["minutes", "working_days"];

    pub fn as_str(self) -> &'static str {
        match self {
            LimitUnit::Minutes => "minutes",
            LimitUnit::WorkingDays => "working_days",
        }
    }
}

impl std::str::FromStr for LimitUnit {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, ValueError> {
        match s {
            "minutes" => Ok(LimitUnit::Minutes),
            "working_days" => Ok(LimitUnit::WorkingDays),
            _ => Err(ValueError::NotOneOf {
                allowed: Self::NAMES,
            }),
        }
    }
}

/// The longest clock limit an admin may set: 30 days.
pub const MAX_MINUTES: u32 = 30 * 24 * 60;
/// The longest working-day limit an admin may set: 60 working days (about a quarter).
pub const MAX_WORKING_DAYS: u32 = 60;

/// An amount of time in one unit, at least 1 and at most the unit's maximum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawLimit")]
pub struct Limit {
    amount: u32,
    unit: LimitUnit,
}

#[derive(Deserialize)]
struct RawLimit {
    amount: u32,
    unit: LimitUnit,
}

impl TryFrom<RawLimit> for Limit {
    type Error = ValueError;
    fn try_from(raw: RawLimit) -> Result<Self, ValueError> {
        Limit::new(raw.amount, raw.unit)
    }
}

impl Limit {
    pub fn new(amount: u32, unit: LimitUnit) -> Result<Self, ValueError> {
        let max = match unit {
            LimitUnit::Minutes => MAX_MINUTES,
            LimitUnit::WorkingDays => MAX_WORKING_DAYS,
        };
        if amount == 0 {
            Err(ValueError::Invalid("a limit is at least 1"))
        } else if amount > max {
            Err(ValueError::Invalid(match unit {
                LimitUnit::Minutes => "a clock limit is at most 43200 minutes (30 days)",
                LimitUnit::WorkingDays => "a working-day limit is at most 60 working days",
            }))
        } else {
            Ok(Limit { amount, unit })
        }
    }

    pub fn minutes(amount: u32) -> Self {
        Limit::new(amount, LimitUnit::Minutes).expect("a valid clock limit")
    }

    pub fn working_days(amount: u32) -> Self {
        Limit::new(amount, LimitUnit::WorkingDays).expect("a valid working-day limit")
    }

    pub fn amount(&self) -> u32 {
        self.amount
    }

    pub fn unit(&self) -> LimitUnit {
        self.unit
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.unit {
            LimitUnit::Minutes => write!(f, "{} min", self.amount),
            LimitUnit::WorkingDays => write!(f, "{} working days", self.amount),
        }
    }
}

/// One row of the SLA table: the three limits of an urgency class and their basis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaPolicy {
    /// 签收: accept (or dispose) the ticket.
    pub accept: Limit,
    /// 响应: first contact with the enterprise.
    pub contact: Limit,
    /// 办结反馈: resolve or explain, and feed the result back.
    pub resolve: Limit,
    /// What the limits are set with reference to (参照).
    pub basis: String,
}

/// The whole table, one policy per urgency class.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlaTable {
    policies: BTreeMap<Urgency, SlaPolicy>,
}

impl SlaTable {
    /// The defaults of DESIGN.md section 4.
    pub fn defaults() -> Self {
        let policies = Urgency::ALL
            .iter()
            .map(|&class| (class, default_policy(class)))
            .collect();
        SlaTable { policies }
    }

    pub fn get(&self, class: Urgency) -> &SlaPolicy {
        &self.policies[&class]
    }

    /// Replaces one class's policy. Deadlines already set keep their snapshot.
    pub fn set(&mut self, class: Urgency, policy: SlaPolicy) {
        self.policies.insert(class, policy);
    }

    pub fn iter(&self) -> impl Iterator<Item = (Urgency, &SlaPolicy)> {
        self.policies.iter().map(|(class, policy)| (*class, policy))
    }
}

impl Default for SlaTable {
    fn default() -> Self {
        SlaTable::defaults()
    }
}

/// The default limits of each class (DESIGN.md section 4; each 参照 the rule named in its
/// `basis`, none of which binds this county directly).
pub fn default_policy(class: Urgency) -> SlaPolicy {
    let (accept, contact, resolve, basis) = match class {
        Urgency::Emergency => (
            Limit::minutes(15),
            Limit::minutes(30),
            Limit::minutes(24 * 60),
            "参照 天津市12345政务服务便民热线实施细则: 紧急诉求15分钟内签收",
        ),
        Urgency::Utilities => (
            Limit::minutes(30),
            Limit::minutes(2 * 60),
            Limit::minutes(24 * 60),
            "参照 天津市12345热线实施细则 (30分钟签收); 北京市接诉即办地方标准征求意见稿 (水电气热24小时办结)",
        ),
        Urgency::General => (
            Limit::working_days(1),
            Limit::working_days(1),
            Limit::working_days(5),
            "参照 潍坊市接诉即办条例 第二十条; 济南市接诉即办条例 第二十四条",
        ),
        Urgency::Complex => (
            Limit::working_days(1),
            Limit::working_days(1),
            Limit::working_days(15),
            "参照 湖北省 复杂疑难诉求15个工作日办结",
        ),
    };
    SlaPolicy {
        accept,
        contact,
        resolve,
        basis: basis.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// DESIGN.md section 4: the default table.
    #[test]
    fn defaults_match_the_design_table() {
        let table = SlaTable::defaults();
        let emergency = table.get(Urgency::Emergency);
        assert_eq!(
            (emergency.accept, emergency.contact, emergency.resolve),
            (Limit::minutes(15), Limit::minutes(30), Limit::minutes(1440))
        );
        let utilities = table.get(Urgency::Utilities);
        assert_eq!(
            (utilities.accept, utilities.contact, utilities.resolve),
            (
                Limit::minutes(30),
                Limit::minutes(120),
                Limit::minutes(1440)
            )
        );
        let general = table.get(Urgency::General);
        assert_eq!(
            (general.accept, general.contact, general.resolve),
            (
                Limit::working_days(1),
                Limit::working_days(1),
                Limit::working_days(5)
            )
        );
        assert_eq!(table.get(Urgency::Complex).resolve, Limit::working_days(15));
        assert!(table.iter().all(|(_, p)| p.basis.starts_with("参照")));
    }

    #[test]
    fn limits_are_bounded() {
        assert!(Limit::new(0, LimitUnit::Minutes).is_err());
        assert!(Limit::new(MAX_MINUTES + 1, LimitUnit::Minutes).is_err());
        assert!(Limit::new(MAX_WORKING_DAYS + 1, LimitUnit::WorkingDays).is_err());
        let parsed: Result<Limit, _> =
            serde_json::from_str(r#"{"amount": 0, "unit": "working_days"}"#);
        assert!(parsed.is_err());
    }
}
