//! Ids and timestamps every service stamps on its records.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A new time-ordered id (UUIDv7, lowercase hyphenated).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().hyphenated().to_string()
}

/// The canonical form of an id from a path, or `None` when it cannot be one of ours.
pub fn parse_id(raw: &str) -> Option<String> {
    uuid::Uuid::parse_str(raw)
        .ok()
        .map(|u| u.hyphenated().to_string())
}

/// Now, RFC 3339 in UTC with second precision or finer.
pub fn now_rfc3339() -> String {
    format_rfc3339(OffsetDateTime::now_utc())
}

/// Now, RFC 3339 in UTC with whole seconds.
pub fn now_rfc3339_seconds() -> String {
    let now = OffsetDateTime::now_utc();
    format_rfc3339(now.replace_nanosecond(0).unwrap_or(now))
}

fn format_rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_canonical_uuids_sorted_by_time() {
        let a = new_id();
        let b = new_id();
        assert!(a < b, "{a} !< {b}");
        assert_eq!(parse_id(&a.to_uppercase()), Some(a));
        assert_eq!(parse_id("not-an-id"), None);
    }

    #[test]
    fn timestamps_parse_back_and_seconds_have_no_fraction() {
        assert!(OffsetDateTime::parse(&now_rfc3339(), &Rfc3339).is_ok());
        let seconds = now_rfc3339_seconds();
        assert!(OffsetDateTime::parse(&seconds, &Rfc3339).is_ok());
        assert!(!seconds.contains('.'), "{seconds}");
    }
}
