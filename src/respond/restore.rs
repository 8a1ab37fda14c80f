//! Recovery, as plain data: whether a point in time lies in a database's restorable window
//! and whether a new instance name is one RDS takes.

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;

/// The span a database can be restored to.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Window {
    pub earliest: DateTime,
    pub latest: DateTime,
}

/// The window from what RDS reports: the latest restorable time, and the earliest the
/// automated backups report, else the later of the instance's creation and the backup
/// retention period back from the latest ("Restoring a DB instance to a specified time",
/// https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIT.html). `None` when
/// automated backups are off (retention 0): nothing to restore from.
pub fn window(
    latest: Option<DateTime>,
    earliest_reported: Option<DateTime>,
    created: Option<DateTime>,
    retention_days: i32,
) -> Option<Window> {
    if retention_days <= 0 {
        return None;
    }
    let latest = latest?;
    let by_retention = latest.secs() - i64::from(retention_days) * 86_400;
    let earliest = match earliest_reported {
        Some(t) => t.secs(),
        None => created.map_or(by_retention, |c| c.secs().max(by_retention)),
    };
    Some(Window {
        earliest: DateTime::from_secs(earliest),
        latest,
    })
}

/// Checks `time` (RFC 3339) against the window; the time when it lies in it.
pub fn restore_time(text: &str, window: Option<Window>) -> Result<DateTime, String> {
    let time = DateTime::from_str(text, Format::DateTime).map_err(|_| {
        format!("`{text}` is not a time; write it as RFC 3339, e.g. 2026-12-01T09:30:00Z")
    })?;
    let Some(window) = window else {
        return Err(
            "the database keeps no automated backups (retention 0), so it cannot be \
                    restored to a point in time; restore a snapshot with --snapshot"
                .into(),
        );
    };
    let show = |t: DateTime| t.fmt(Format::DateTime).unwrap_or_default();
    if time.secs() < window.earliest.secs() || time.secs() > window.latest.secs() {
        return Err(format!(
            "{text} is outside the restorable window, {} to {}",
            show(window.earliest),
            show(window.latest)
        ));
    }
    Ok(time)
}

/// Why `name` is not a DB instance identifier RDS accepts, if it is not: 1 to 63
/// letters, digits or hyphens, starting with a letter, not ending with a hyphen, no two
/// hyphens in a row ("CreateDBInstance", DBInstanceIdentifier constraints).
pub fn identifier_problem(name: &str) -> Option<String> {
    let ok = (1..=63).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !name.ends_with('-')
        && !name.contains("--");
    (!ok).then(|| {
        format!(
            "`{name}` is not a DB instance identifier: 1 to 63 letters, digits or hyphens, \
             starting with a letter, no trailing or double hyphen"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime {
        DateTime::from_str(text, Format::DateTime).expect(text)
    }

    #[test]
    fn the_window_is_what_rds_reports_or_bounded_by_creation_and_retention() {
        let latest = at("2026-12-01T10:00:00Z");
        let reported = window(Some(latest), Some(at("2026-11-20T00:00:00Z")), None, 30);
        assert_eq!(
            reported.map(|w| w.earliest),
            Some(at("2026-11-20T00:00:00Z"))
        );
        let young = window(Some(latest), None, Some(at("2026-12-01T08:00:00Z")), 30);
        assert_eq!(young.map(|w| w.earliest), Some(at("2026-12-01T08:00:00Z")));
        let old = window(Some(latest), None, Some(at("2025-01-01T00:00:00Z")), 7);
        assert_eq!(old.map(|w| w.earliest), Some(at("2026-11-24T10:00:00Z")));
        assert_eq!(window(Some(latest), None, None, 0), None);
    }

    #[test]
    fn a_restore_time_must_lie_in_the_window() {
        let w = window(
            Some(at("2026-12-01T10:00:00Z")),
            Some(at("2026-11-30T00:00:00Z")),
            None,
            7,
        );
        assert!(restore_time("2026-12-01T09:30:00Z", w).is_ok());
        let before = restore_time("2026-11-29T23:59:59Z", w).expect_err("before");
        assert!(
            before.contains(
                "outside the restorable window, 2026-11-30T00:00:00Z to 2026-12-01T10:00:00Z"
            ),
            "{before}"
        );
        assert!(restore_time("2026-12-01T10:00:01Z", w).is_err());
        assert!(
            restore_time("yesterday", w)
                .expect_err("text")
                .contains("RFC 3339")
        );
        assert!(
            restore_time("2026-12-01T09:30:00Z", None)
                .expect_err("no backups")
                .contains("--snapshot")
        );
    }

    #[test]
    fn identifiers_follow_rds_rules() {
        assert!(identifier_problem("shop-main-restored").is_none());
        for bad in ["", "1db", "db--x", "db-", "db_x", &"d".repeat(64)] {
            assert!(identifier_problem(bad).is_some(), "{bad}");
        }
    }
}
