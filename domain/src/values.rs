//! Value types that parse instead of validate: once you hold one, it is valid.
//!
//! Each limit lives here once, as a public constant, so the HTTP layer's field rules read
//! the same numbers. Lengths are counted in Unicode characters after trimming (DESIGN.md
//! section 3, rule 12).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;
use uuid::Uuid;

/// Why a value did not parse. The `code` is stable and snake_case, for problem+json.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum ValueError {
    #[error("must not be blank")]
    Blank,
    #[error("must be at least {min} characters")]
    TooShort { min: usize },
    #[error("must be at most {max} characters")]
    TooLong { max: usize },
    #[error("must be one of: {}", allowed.join(", "))]
    NotOneOf { allowed: &'static [&'static str] },
    #[error("must not contain control characters{}", if *.multiline { " (line breaks and tabs are allowed)" } else { " or line breaks" })]
    ControlCharacter { multiline: bool },
    #[error("{0}")]
    Invalid(&'static str),
}

impl ValueError {
    pub fn code(&self) -> &'static str {
        match self {
            ValueError::Blank => "blank",
            ValueError::TooShort { .. } => "too_short",
            ValueError::TooLong { .. } => "too_long",
            ValueError::NotOneOf { .. } => "unknown_value",
            ValueError::ControlCharacter { .. } => "control_character",
            ValueError::Invalid(_) => "invalid",
        }
    }
}

// ---------------------------------------------------------------------------------------
// Text with length bounds
// ---------------------------------------------------------------------------------------

/// Trimmed text of `MIN..=MAX` Unicode characters (DESIGN.md section 3, rule 12), without
/// NUL or other control characters (PostgreSQL's `text` cannot hold NUL; issue 8). Texts
/// of at least [`SHORT_TEXT_MAX`] characters may span lines (line breaks and tabs); shorter
/// ones (a title, an information item) are one line.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Text<const MIN: usize, const MAX: usize>(String);

impl<const MIN: usize, const MAX: usize> Text<MIN, MAX> {
    /// Whether this text may span lines.
    pub const MULTILINE: bool = MAX >= SHORT_TEXT_MAX;

    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let trimmed = raw.trim();
        let chars = trimmed.chars().count();
        let allowed = |c: char| Self::MULTILINE && matches!(c, '\n' | '\r' | '\t');
        // Before trimming: a trailing U+0085 is whitespace to `trim`, and still refused.
        if raw
            .chars()
            .any(|c| c.is_control() && !allowed(c) && !c.is_ascii_whitespace())
            || trimmed.chars().any(|c| c.is_control() && !allowed(c))
        {
            return Err(ValueError::ControlCharacter {
                multiline: Self::MULTILINE,
            });
        }
        if chars == 0 && MIN > 0 {
            Err(ValueError::Blank)
        } else if chars < MIN {
            Err(ValueError::TooShort { min: MIN })
        } else if chars > MAX {
            Err(ValueError::TooLong { max: MAX })
        } else {
            Ok(Text(trimmed.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl<const MIN: usize, const MAX: usize> fmt::Display for Text<MIN, MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de, const MIN: usize, const MAX: usize> Deserialize<'de> for Text<MIN, MAX> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Text::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// Longest free text anywhere (descriptions, results, comments): 10,000 characters.
pub const LONG_TEXT_MAX: usize = 10_000;
/// Longest short text (reasons, notes, names): 2,000 characters.
pub const SHORT_TEXT_MAX: usize = 2_000;

pub const TITLE_MAX: usize = 200;
pub const DESCRIPTION_MAX: usize = LONG_TEXT_MAX;
/// A non-accept disposition's explanation: at least 20 characters (北京市接诉即办工作条例 Art. 11; DESIGN.md section 3, rule 2).
pub const DISPOSITION_EXPLANATION_MIN: usize = 20;
/// A resolution's result, which the enterprise reads: at least 10 characters (DESIGN.md section 3, rule 6).
pub const RESULT_MIN: usize = 10;
/// Explaining what cannot be done, "耐心细致解释": at least 50 characters (DESIGN.md section 3, rule 6).
pub const EXPLANATION_MIN: usize = 50;
/// What a lead department asks of a co-handling department (主办/协办, issue 13): at least
/// 10 characters, so that the request says what is wanted.
pub const CO_HANDLING_REQUEST_MIN: usize = 10;
/// A co-handling department's opinion (协办意见, issue 13): at least 10 characters.
pub const OPINION_MIN: usize = 10;
/// At most this many departments asked in one co-handling request (issue 13).
pub const CO_HANDLERS_PER_REQUEST_MAX: usize = 20;
/// At most this many items in one information request (一次性告知 lists them all at once).
pub const INFO_ITEMS_MAX: usize = 50;
pub const INFO_ITEM_MAX: usize = 500;

/// A ticket's title: 1–200 characters.
pub type Title = Text<1, TITLE_MAX>;
/// A ticket's description: 1–10,000 characters.
pub type Description = Text<1, DESCRIPTION_MAX>;
/// A comment, a contact summary, supplied information: 1–10,000 characters.
pub type Body = Text<1, LONG_TEXT_MAX>;
/// A reason or a note (transfer, extension, appeal, withdrawal, decisions): 1–2,000 characters.
pub type Reason = Text<1, SHORT_TEXT_MAX>;
/// Why a ticket is closed without acceptance (rule 2).
pub type DispositionExplanation = Text<DISPOSITION_EXPLANATION_MIN, LONG_TEXT_MAX>;
/// The result fed back to the enterprise (rule 6).
pub type ResultText = Text<RESULT_MIN, LONG_TEXT_MAX>;
/// Why the matter cannot be solved now (rule 6).
pub type Explanation = Text<EXPLANATION_MIN, LONG_TEXT_MAX>;
/// What is asked of co-handling departments (issue 13).
pub type CoHandlingRequest = Text<CO_HANDLING_REQUEST_MIN, SHORT_TEXT_MAX>;
/// A co-handling department's opinion (issue 13).
pub type Opinion = Text<OPINION_MIN, LONG_TEXT_MAX>;
/// One missing item in an information request.
pub type InfoItem = Text<1, INFO_ITEM_MAX>;

// ---------------------------------------------------------------------------------------
// Identifiers
// ---------------------------------------------------------------------------------------

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            pub fn from_uuid(id: Uuid) -> Self {
                $name(id)
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = ValueError;
            fn from_str(s: &str) -> Result<Self, ValueError> {
                Uuid::parse_str(s).map($name).map_err(|_| ValueError::Invalid("must be a UUID"))
            }
        }
    };
}

uuid_id!(
    /// A user: an enterprise's staff member, a liaison, an officer, a supervisor or an admin.
    UserId
);
uuid_id!(DepartmentId);
uuid_id!(EnterpriseId);
uuid_id!(AlertId);
uuid_id!(
    /// A liaison's on-site visit (驻厂走访).
    VisitId
);
uuid_id!(
    /// A file attached to a ticket (issue 11).
    AttachmentId
);

/// A ticket's id: a UUID v7, so ids sort by creation time (DESIGN.md section 7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "Uuid", into = "Uuid")]
pub struct TicketId(Uuid);

impl TicketId {
    /// Accepts only version 7 UUIDs.
    pub fn from_uuid(id: Uuid) -> Result<Self, ValueError> {
        if id.get_version_num() == 7 {
            Ok(TicketId(id))
        } else {
            Err(ValueError::Invalid("ticket ids are UUID v7"))
        }
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl TryFrom<Uuid> for TicketId {
    type Error = ValueError;
    fn try_from(id: Uuid) -> Result<Self, ValueError> {
        TicketId::from_uuid(id)
    }
}

impl From<TicketId> for Uuid {
    fn from(id: TicketId) -> Uuid {
        id.0
    }
}

impl fmt::Display for TicketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for TicketId {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, ValueError> {
        let id = Uuid::parse_str(s).map_err(|_| ValueError::Invalid("must be a UUID"))?;
        TicketId::from_uuid(id)
    }
}

/// A ticket's number, `JB-2026-000123`: the year it was received (+08:00) and a per-year
/// sequence value of at least six digits (DESIGN.md sections 7 and 9; gaps are fine).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TicketNumber {
    year: u16,
    seq: u64,
}

impl TicketNumber {
    pub fn new(year: i32, seq: u64) -> Result<Self, ValueError> {
        if !(2000..=9999).contains(&year) {
            return Err(ValueError::Invalid("the year must have four digits"));
        }
        if seq == 0 {
            return Err(ValueError::Invalid("the sequence starts at 1"));
        }
        Ok(TicketNumber {
            year: year as u16,
            seq,
        })
    }

    pub fn year(&self) -> i32 {
        i32::from(self.year)
    }

    pub fn seq(&self) -> u64 {
        self.seq
    }
}

impl fmt::Display for TicketNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JB-{}-{:06}", self.year, self.seq)
    }
}

impl FromStr for TicketNumber {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, ValueError> {
        const BAD: ValueError = ValueError::Invalid("a ticket number reads JB-YYYY-NNNNNN");
        let rest = s.strip_prefix("JB-").ok_or(BAD)?;
        let (year, seq) = rest.split_once('-').ok_or(BAD)?;
        let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        if year.len() != 4 || !digits(year) || seq.len() < 6 || !digits(seq) {
            return Err(BAD);
        }
        let seq: u64 = seq.parse().map_err(|_| BAD)?;
        TicketNumber::new(year.parse().map_err(|_| BAD)?, seq)
    }
}

impl Serialize for TicketNumber {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TicketNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        raw.parse().map_err(serde::de::Error::custom)
    }
}

// ---------------------------------------------------------------------------------------
// Unified social credit code
// ---------------------------------------------------------------------------------------

/// An enterprise's 统一社会信用代码: 18 characters whose last is a check character
/// (GB 32100-2015, section 4 and appendix: mod-31 over the weighted first 17).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Uscc(String);

/// GB 32100-2015: the 31 characters a code may use, each worth its index.
const USCC_CHARSET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
/// GB 32100-2015: the weights of positions 1..=17 (3^(i-1) mod 31).
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

impl Uscc {
    /// Parses a code, upper-casing it, and verifies its check character (GB 32100-2015).
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let code = raw.trim().to_ascii_uppercase();
        let values: Vec<u32> = code
            .chars()
            .map(|c| USCC_CHARSET.find(c).map(|i| i as u32))
            .collect::<Option<_>>()
            .ok_or(ValueError::Invalid(
                "a credit code uses only 0-9 and A-Y without I, O, S, V, Z",
            ))?;
        if values.len() != 18 {
            return Err(ValueError::Invalid("a credit code has 18 characters"));
        }
        if uscc_check_value(&values[..17]) != values[17] {
            return Err(ValueError::Invalid(
                "the credit code's check character is wrong",
            ));
        }
        Ok(Uscc(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// GB 32100-2015: check = 31 − (Σ value·weight mod 31), and 31 itself becomes 0.
fn uscc_check_value(values: &[u32]) -> u32 {
    let sum: u32 = values.iter().zip(USCC_WEIGHTS).map(|(v, w)| v * w).sum();
    (31 - sum % 31) % 31
}

impl FromStr for Uscc {
    type Err = ValueError;
    fn from_str(raw: &str) -> Result<Self, ValueError> {
        Uscc::parse(raw)
    }
}

impl TryFrom<String> for Uscc {
    type Error = ValueError;
    fn try_from(raw: String) -> Result<Self, ValueError> {
        Uscc::parse(&raw)
    }
}

impl From<Uscc> for String {
    fn from(code: Uscc) -> String {
        code.0
    }
}

impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// ---------------------------------------------------------------------------------------
// Email, category code
// ---------------------------------------------------------------------------------------

pub const EMAIL_MAX: usize = 254;

/// An email address: one `@`, a non-empty local part, a dotted domain, no spaces, at most
/// 254 characters (RFC 5321 section 4.5.3.1.3). Deliverability is the mail server's call.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let email = raw.trim();
        if email.chars().count() > EMAIL_MAX {
            return Err(ValueError::TooLong { max: EMAIL_MAX });
        }
        let bad = ValueError::Invalid("must be an email address like name@example.gov.cn");
        let (local, domain) = email.split_once('@').ok_or(bad.clone())?;
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && !domain.contains('@');
        if local.is_empty()
            || !domain_ok
            || email.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(bad);
        }
        Ok(Email(email.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Email {
    type Err = ValueError;
    fn from_str(raw: &str) -> Result<Self, ValueError> {
        Email::parse(raw)
    }
}

impl TryFrom<String> for Email {
    type Error = ValueError;
    fn try_from(raw: String) -> Result<Self, ValueError> {
        Email::parse(&raw)
    }
}

impl From<Email> for String {
    fn from(email: Email) -> String {
        email.0
    }
}

pub const CATEGORY_CODE_MAX: usize = 32;

/// A dispatch category's code (派单目录): lower-case ASCII letters, digits and `_`, starting
/// with a letter, at most 32 characters (DESIGN.md section 3, "Dispatch").
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CategoryCode(String);

impl CategoryCode {
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let code = raw.trim();
        if code.is_empty() {
            return Err(ValueError::Blank);
        }
        if code.len() > CATEGORY_CODE_MAX {
            return Err(ValueError::TooLong {
                max: CATEGORY_CODE_MAX,
            });
        }
        let mut chars = code.chars();
        let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase());
        if !first_ok || !chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
            return Err(ValueError::Invalid(
                "a category code is lower-case letters, digits and _, starting with a letter",
            ));
        }
        Ok(CategoryCode(code.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for CategoryCode {
    type Err = ValueError;
    fn from_str(raw: &str) -> Result<Self, ValueError> {
        CategoryCode::parse(raw)
    }
}

impl TryFrom<String> for CategoryCode {
    type Error = ValueError;
    fn try_from(raw: String) -> Result<Self, ValueError> {
        CategoryCode::parse(&raw)
    }
}

impl From<CategoryCode> for String {
    fn from(code: CategoryCode) -> String {
        code.0
    }
}

impl fmt::Display for CategoryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// ---------------------------------------------------------------------------------------
// Enumerations
// ---------------------------------------------------------------------------------------

/// An enumeration whose wire names are snake_case strings, with `ALL`, `as_str` and a
/// `FromStr` whose error lists the allowed values.
macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub const NAMES: &'static [&'static str] = &[$($wire),+];

            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = ValueError;
            fn from_str(s: &str) -> Result<Self, ValueError> {
                match s {
                    $($wire => Ok($name::$variant),)+
                    _ => Err(ValueError::NotOneOf { allowed: Self::NAMES }),
                }
            }
        }
    };
}

wire_enum!(
    /// What a ticket is (DESIGN.md section 3).
    Kind {
        Complaint = "complaint",
        Request = "request",
        Consultation = "consultation",
        Suggestion = "suggestion",
    }
);

wire_enum!(
    /// Urgency class, which picks the SLA row (DESIGN.md section 4).
    Urgency {
        Emergency = "emergency",
        Utilities = "utilities",
        General = "general",
        Complex = "complex",
    }
);

wire_enum!(
    /// A user's role (DESIGN.md section 1).
    Role {
        Enterprise = "enterprise",
        Liaison = "liaison",
        Officer = "officer",
        Supervisor = "supervisor",
        Admin = "admin",
    }
);

wire_enum!(
    /// 好差评: the five levels (DESIGN.md section 3, rule 7).
    RatingLevel {
        VerySatisfied = "very_satisfied",
        Satisfied = "satisfied",
        BasicallySatisfied = "basically_satisfied",
        Dissatisfied = "dissatisfied",
        VeryDissatisfied = "very_dissatisfied",
    }
);

impl RatingLevel {
    /// The last two levels are bad: they reopen and escalate the ticket (rule 7).
    pub fn is_bad(self) -> bool {
        matches!(
            self,
            RatingLevel::Dissatisfied | RatingLevel::VeryDissatisfied
        )
    }
}

wire_enum!(
    /// A non-accept intake disposition (北京市接诉即办工作条例 Art. 11; DESIGN.md rule 2).
    Disposition {
        Redirect = "redirect",
        Duplicate = "duplicate",
        OutOfScope = "out_of_scope",
    }
);

wire_enum!(
    /// How an officer or liaison reached the enterprise (rule 8).
    ContactMethod {
        Phone = "phone",
        Visit = "visit",
        Message = "message",
        Meeting = "meeting",
    }
);

wire_enum!(
    /// How a ticket came in, from who filed it (DESIGN.md section 1): the enterprise itself
    /// online, a liaison on its behalf, an officer on the hotline, or a supervisor.
    Channel {
        Online = "online",
        Liaison = "liaison",
        Hotline = "hotline",
        Supervision = "supervision",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    /// Rule 12: lengths are Unicode characters after trimming, not bytes.
    #[test]
    fn text_counts_characters_after_trimming() {
        // Ten Chinese characters are 30 bytes but exactly the 10 a result needs.
        assert!(ResultText::parse("  已协调供电公司恢复供电  ").is_ok());
        assert_eq!(
            ResultText::parse("  已经处理好了  "),
            Err(ValueError::TooShort { min: RESULT_MIN })
        );
        assert_eq!(Title::parse("   "), Err(ValueError::Blank));
        assert_eq!(
            Title::parse(&"长".repeat(TITLE_MAX + 1)),
            Err(ValueError::TooLong { max: TITLE_MAX })
        );
        assert_eq!(Title::parse(" 停电 ").unwrap().as_str(), "停电");
    }

    /// DESIGN.md section 3, rule 2: a disposition needs 20 characters of explanation.
    #[test]
    fn disposition_explanation_needs_twenty_characters() {
        assert!(DispositionExplanation::parse(&"因".repeat(19)).is_err());
        // Issue 8: no NUL nor other control characters; line breaks only in long texts.
        for bad in ["停电\u{0}", "a\u{7}b", "a\u{85}b", "a\u{7f}"] {
            assert_eq!(
                Title::parse(bad).unwrap_err().code(),
                "control_character",
                "{bad:?}"
            );
            assert_eq!(
                Body::parse(bad).unwrap_err().code(),
                "control_character",
                "{bad:?}"
            );
        }
        assert_eq!(
            Title::parse("停电\n影响生产").unwrap_err().code(),
            "control_character"
        );
        assert_eq!(
            InfoItem::parse("a\tb").unwrap_err().code(),
            "control_character"
        );
        assert!(Body::parse("第一行\r\n第二行\t缩进").is_ok());
        assert!(Reason::parse("原因：\n一、…").is_ok());
        assert!(DispositionExplanation::parse(&"因".repeat(20)).is_ok());
    }

    /// DESIGN.md section 3, rule 6: an explanation needs 50 characters.
    #[test]
    fn explanation_needs_fifty_characters() {
        assert!(Explanation::parse(&"政".repeat(49)).is_err());
        assert!(Explanation::parse(&"政".repeat(50)).is_ok());
    }

    /// GB 32100-2015: real codes pass, a changed check character fails.
    #[test]
    fn uscc_check_character_is_verified() {
        for good in [
            "91350100M000100Y43",
            "91110000600037341L",
            "91440300708461136T",
        ] {
            assert!(Uscc::parse(good).is_ok(), "{good}");
        }
        assert!(
            Uscc::parse("91350100m000100y43").is_ok(),
            "case is normalised"
        );
        assert!(Uscc::parse("91350100M000100Y44").is_err());
        assert!(Uscc::parse("91350100M000100Y4").is_err(), "17 characters");
        assert!(
            Uscc::parse("91350100M000100I43").is_err(),
            "I is not in the charset"
        );
    }

    /// DESIGN.md section 7: ticket numbers read JB-2026-000123.
    #[test]
    fn ticket_numbers_round_trip() {
        let n = TicketNumber::new(2026, 123).unwrap();
        assert_eq!(n.to_string(), "JB-2026-000123");
        assert_eq!("JB-2026-000123".parse::<TicketNumber>().unwrap(), n);
        assert_eq!(
            "JB-2026-1234567".parse::<TicketNumber>().unwrap().seq(),
            1_234_567
        );
        for bad in [
            "JB-26-000123",
            "JB-2026-123",
            "XX-2026-000123",
            "JB-2026-0001a3",
        ] {
            assert!(bad.parse::<TicketNumber>().is_err(), "{bad}");
        }
    }

    /// DESIGN.md section 7: ticket ids are UUID v7.
    #[test]
    fn ticket_ids_are_v7() {
        assert!(TicketId::from_uuid(Uuid::new_v4()).is_err());
        let v7 = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001);
        assert!(TicketId::from_uuid(v7).is_ok());
    }

    #[test]
    fn emails_and_category_codes_parse() {
        assert!(Email::parse("wang.li@jiangning.gov.cn").is_ok());
        for bad in ["wang", "@gov.cn", "wang@gov", "wang li@gov.cn", "a@b..cn"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        assert!(CategoryCode::parse("utilities").is_ok());
        assert!(CategoryCode::parse("Utilities").is_err());
        assert!(CategoryCode::parse("1abc").is_err());
    }

    #[test]
    fn enums_name_their_allowed_values() {
        let err = "urgent".parse::<Urgency>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "must be one of: emergency, utilities, general, complex"
        );
        assert_eq!("out_of_scope".parse(), Ok(Disposition::OutOfScope));
    }
}
