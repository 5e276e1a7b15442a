//! Field limits of the admin API's request bodies, and the parsers of the values that
//! have no domain type. Lengths are Unicode characters after trimming, as in the domain
//! (DESIGN.md section 3, rule 12); the domain's own limits are re-exported, not repeated.

use jiban_domain::values::{Text, ValueError};

pub use jiban_domain::values::{CATEGORY_CODE_MAX, EMAIL_MAX, SHORT_TEXT_MAX};

pub const USERNAME_MIN: usize = 3;
pub const USERNAME_MAX: usize = 64;
/// NIST SP 800-63B section 5.1.1.2 asks for at least 8; ten costs users little.
pub const PASSWORD_MIN: usize = 10;
/// argon2 takes any length, but a body of megabytes of password is not a password.
pub const PASSWORD_MAX: usize = 256;
/// Display names, department, contact and category names.
pub const NAME_MAX: usize = 100;
pub const ENTERPRISE_NAME_MAX: usize = 200;
pub const DEPARTMENT_CODE_MAX: usize = 32;
pub const PHONE_MAX: usize = 32;
/// Liaisons stationed at one enterprise.
pub const LIAISONS_MAX: usize = 100;
/// Entries of one year of the calendar: at most one per date.
pub const CALENDAR_DAYS_MAX: usize = 366;

/// The same limits as `u64`, the type `validator`'s length rules take.
pub mod as_u64 {
    pub const CALENDAR_DAYS_MAX: u64 = super::CALENDAR_DAYS_MAX as u64;
    pub const DEPARTMENT_CODE_MAX: u64 = super::DEPARTMENT_CODE_MAX as u64;
    pub const EMAIL_MAX: u64 = super::EMAIL_MAX as u64;
    pub const ENTERPRISE_NAME_MAX: u64 = super::ENTERPRISE_NAME_MAX as u64;
    pub const LIAISONS_MAX: u64 = super::LIAISONS_MAX as u64;
    pub const NAME_MAX: u64 = super::NAME_MAX as u64;
    pub const PASSWORD_MAX: u64 = super::PASSWORD_MAX as u64;
    pub const PHONE_MAX: u64 = super::PHONE_MAX as u64;
    pub const SHORT_TEXT_MAX: u64 = super::SHORT_TEXT_MAX as u64;
    pub const USERNAME_MAX: u64 = super::USERNAME_MAX as u64;
}

/// A person's, department's or category's name: 1–100 characters.
pub type Name = Text<1, NAME_MAX>;
/// An enterprise's registered name: 1–200 characters.
pub type EnterpriseName = Text<1, ENTERPRISE_NAME_MAX>;

/// A username: 3–64 of `a-z 0-9 . _ -`, starting with a letter or digit. Upper case is
/// folded to lower case, so `Wang` and `wang` are one account (and one throttling key).
pub fn username(raw: &str) -> Result<String, ValueError> {
    let name = raw.trim().to_lowercase();
    let count = name.chars().count();
    if count < USERNAME_MIN {
        return Err(ValueError::TooShort { min: USERNAME_MIN });
    }
    if count > USERNAME_MAX {
        return Err(ValueError::TooLong { max: USERNAME_MAX });
    }
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c);
    if !name.chars().all(allowed) || !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(ValueError::Invalid(
            "a username is letters, digits, '.', '_' and '-', starting with a letter or digit",
        ));
    }
    Ok(name)
}

/// A department's code (e.g. `fgw`, `water-bureau`): 1–32 of `a-z 0-9 _ -`, starting
/// with a letter.
pub fn department_code(raw: &str) -> Result<String, ValueError> {
    let code = raw.trim();
    if code.is_empty() {
        return Err(ValueError::Blank);
    }
    if code.chars().count() > DEPARTMENT_CODE_MAX {
        return Err(ValueError::TooLong {
            max: DEPARTMENT_CODE_MAX,
        });
    }
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "_-".contains(c);
    if !code.chars().all(allowed) || !code.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(ValueError::Invalid(
            "a department code is lower-case letters, digits, '_' and '-', starting with a letter",
        ));
    }
    Ok(code.to_owned())
}

/// A telephone number as people write it: 3–32 characters of digits, spaces, `+ - ( )`,
/// with at least three digits (`110`, `0512-6666 8888`, `+86 138 0000 0000`).
pub fn phone(raw: &str) -> Result<String, ValueError> {
    let phone = raw.trim();
    if phone.is_empty() {
        return Err(ValueError::Blank);
    }
    if phone.chars().count() > PHONE_MAX {
        return Err(ValueError::TooLong { max: PHONE_MAX });
    }
    let allowed = |c: char| c.is_ascii_digit() || " +-()".contains(c);
    if !phone.chars().all(allowed) || phone.chars().filter(char::is_ascii_digit).count() < 3 {
        return Err(ValueError::Invalid(
            "a phone number is digits, spaces, '+', '-', '(' and ')'",
        ));
    }
    Ok(phone.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(username(" Wang.Li ").unwrap(), "wang.li");
        assert!(username("ab").is_err());
        assert!(username("王丽").is_err());
        assert!(username("-wang").is_err());
        assert!(username(&"a".repeat(65)).is_err());
    }

    #[test]
    fn department_codes_and_phones() {
        assert_eq!(department_code("water-bureau").unwrap(), "water-bureau");
        assert!(department_code("Water").is_err());
        assert!(department_code("").is_err());
        assert_eq!(phone(" 0512-6666 8888 ").unwrap(), "0512-6666 8888");
        assert!(phone("call me").is_err());
        assert!(phone("+-").is_err());
    }
}
