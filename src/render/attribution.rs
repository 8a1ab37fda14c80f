//! "Who changed it" in drift views: a resource's writes from CloudTrail, the newest few,
//! or why none can be shown.

use crate::model::{Address, TrailEvent};
use crate::plan::drift::Attribution;

/// The events shown per resource in the human and markdown views (`--json` has all).
pub const SHOWN: usize = 3;

/// One event: when, what, who, from where, and whether it failed or was secinfra's.
pub fn event(event: &TrailEvent) -> String {
    let mut line = format!("{} {} by {}", event.time, event.name, event.caller);
    if let Some(ip) = &event.source_ip {
        line.push_str(&format!(" from {ip}"));
    }
    if event.by_secinfra {
        line.push_str(" (a secinfra run)");
    }
    if let Some(error) = &event.error {
        line.push_str(&format!(" — failed: {error}"));
    }
    line
}

/// What is known of who changed `address`: one line per event shown, or one saying why
/// there is none. Empty when the resource was not to be looked up.
pub fn lines(address: &Address, attribution: &Attribution) -> Vec<String> {
    if let Some(why) = attribution.not_looked_up.get(address) {
        return vec![format!("who: not looked up — {why}")];
    }
    let Some(writes) = attribution.resources.get(address) else {
        return Vec::new();
    };
    if writes.events.is_empty() {
        return vec![format!(
            "who: no write in CloudTrail since {} naming {} (events appear about 5 minutes \
             after the call)",
            attribution.since,
            writes.looked_up.join(" or ")
        )];
    }
    let mut lines: Vec<String> = writes
        .events
        .iter()
        .take(SHOWN)
        .map(|e| format!("who: {}", event(e)))
        .collect();
    let earlier = writes.events.len().saturating_sub(SHOWN);
    if earlier > 0 || writes.more {
        let count = if writes.more {
            format!("{earlier} or more")
        } else {
            earlier.to_string()
        };
        lines.push(format!(
            "     and {count} earlier write{} since {} (drift --json lists those read)",
            if earlier == 1 && !writes.more {
                ""
            } else {
                "s"
            },
            attribution.since
        ));
    }
    lines
}

/// The line saying why nobody could be named, when lookups could not be made.
pub fn unavailable(attribution: &Attribution) -> Option<String> {
    attribution
        .unavailable
        .as_ref()
        .map(|why| format!("Who made these changes is not known: {why}."))
}
