//! `secinfra respond block-ip` and friends: containment without an apply. Addresses go into the incident IP
//! sets of a web ACL the blueprint declares with `incident_block: true` (the ACL blocks
//! them; plan and apply never change their addresses), and a ledger beside the stack's
//! lock records who blocked what, when, why and until when. No stack lock is taken:
//! nothing apply manages changes. Each change prints what it will do, asks (or
//! `--auto-approve`/`--yes`), and writes an audit line to stderr.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use aws_smithy_types::DateTime;
use ipnet::IpNet;
use serde_json::json;

use super::super::pipeline::connect_validated;
use super::super::{Exit, Failure, Session, confirm, print};
use super::{AuditLog, now, refused, rfc3339};
use crate::aws::AwsContext;
use crate::aws::incident::{
    EditError, IncidentSet, edit_addresses, edit_ledger, find_sets, ledger_location,
    read_addresses, read_ledger,
};
use crate::aws::lock::LockPlace;
use crate::cli::{BlockIpArgs, ExpireBlocksArgs, ListBlocksArgs, RespondTarget, UnblockIpArgs};
use crate::model::{Address, BlockRecord, Desired, IpVersion, Kind, Props, incident_ip_set};
use crate::respond::blocks::{self, parse_cidr};

/// One web ACL's incident IP sets as found, and what its blueprint `ip_block` holds.
struct Acl {
    name: String,
    sets: BTreeMap<IpVersion, IncidentSet>,
    declared: BTreeSet<String>,
}

/// The stack's web ACLs with incident sets (or the one `--acl` names), found in the
/// account with the stack's tag.
struct Containment {
    ctx: AwsContext,
    place: LockPlace,
    acls: Vec<Acl>,
    desired: Desired,
}

async fn containment(
    session: &Session,
    target: &RespondTarget,
    one: bool,
) -> Result<Containment, Failure> {
    let (_, ctx, desired) = connect_validated(session, &target.blueprint).await?;
    let declared = incident_acls(&desired);
    if declared.is_empty() {
        return Err(Failure::Refused(format!(
            "{} declares no web ACL with `incident_block: true`: add it to the web ACL under \
             `waf:` and apply, then block addresses with `secinfra respond block-ip`",
            target.blueprint.display()
        )));
    }
    let chosen: Vec<String> = match &target.acl {
        Some(acl) if declared.contains(acl) => vec![acl.clone()],
        Some(acl) => {
            return Err(Failure::Refused(format!(
                "`{acl}` is not a web ACL with `incident_block: true` in {} (those are: {})",
                target.blueprint.display(),
                declared.join(", ")
            )));
        }
        None if one && declared.len() > 1 => {
            return Err(Failure::Refused(format!(
                "the blueprint has {} web ACLs with incident sets ({}): name one with --acl",
                declared.len(),
                declared.join(", ")
            )));
        }
        None => declared,
    };
    let mut wanted = BTreeMap::new();
    for acl in &chosen {
        for version in IpVersion::ALL {
            let address = incident_ip_set(acl, version);
            if let Some(Props::IpSet(set)) = desired.resources.get(&address).map(|r| &r.props) {
                wanted.insert(set.name.clone(), address);
            }
        }
    }
    let (mut found, foreign) = find_sets(&ctx, &wanted).await?;
    if let Some(name) = foreign.first() {
        return Err(Failure::Refused(format!(
            "the IP set {name} exists without stack {}'s tag: it is not this stack's to change",
            ctx.stack
        )));
    }
    let mut acls = Vec::new();
    for acl in chosen {
        let mut sets = BTreeMap::new();
        for version in IpVersion::ALL {
            let address = incident_ip_set(&acl, version);
            let name = wanted
                .iter()
                .find(|(_, a)| **a == address)
                .map(|(n, _)| n.clone())
                .unwrap_or_default();
            let Some(set) = found.remove(&name) else {
                return Err(Failure::Refused(format!(
                    "{address} ({name}) is not in the account yet: run `secinfra apply` first"
                )));
            };
            sets.insert(version, set);
        }
        let declared = match desired
            .resources
            .get(&Address::new(Kind::IpSet, format!("{acl}-blocked")))
            .map(|r| &r.props)
        {
            Some(Props::IpSet(set)) => set.addresses.clone(),
            _ => BTreeSet::new(),
        };
        acls.push(Acl {
            name: acl,
            sets,
            declared,
        });
    }
    let place = LockPlace::new(&ctx, target.lock_bucket.as_deref());
    Ok(Containment {
        ctx,
        place,
        acls,
        desired,
    })
}

/// Web ACLs the blueprint gives incident sets.
fn incident_acls(desired: &Desired) -> Vec<String> {
    desired
        .resources
        .keys()
        .filter(|a| a.kind == Kind::WebAcl)
        .filter(|a| {
            desired
                .resources
                .contains_key(&incident_ip_set(&a.name, IpVersion::V4))
        })
        .map(|a| a.name.clone())
        .collect()
}

/// Every argument parsed, or every problem at once.
fn parse_all(cidrs: &[String]) -> Result<Vec<IpNet>, Failure> {
    let (nets, problems): (Vec<_>, Vec<_>) =
        cidrs.iter().map(|c| parse_cidr(c)).partition(Result::is_ok);
    if !problems.is_empty() {
        return Err(refused(
            problems.into_iter().filter_map(Result::err).collect(),
        ));
    }
    Ok(nets.into_iter().filter_map(Result::ok).collect())
}

async fn current(
    ctx: &AwsContext,
    acl: &Acl,
) -> Result<BTreeMap<IpVersion, BTreeSet<String>>, Failure> {
    let mut held = BTreeMap::new();
    for (version, set) in &acl.sets {
        held.insert(*version, read_addresses(ctx, set).await?.0);
    }
    Ok(held)
}

fn edit_failure(e: EditError) -> Failure {
    match e {
        EditError::Refused(problems) => refused(problems),
        EditError::Aws(e) => e.into(),
    }
}

pub async fn block_ip(session: &Session, args: &BlockIpArgs) -> Result<Exit, Failure> {
    let wanted = parse_all(&args.cidrs)?;
    if args.reason.trim().is_empty() {
        return Err(Failure::Refused("--reason must say why".into()));
    }
    let Containment {
        ctx,
        place,
        acls,
        desired,
    } = containment(session, &args.target, true).await?;
    let audit = AuditLog::new(&ctx, &desired, "block-ip");
    let acl = &acls[0];
    let held = current(&ctx, acl).await?;
    let plan =
        blocks::plan_block(&wanted, &held, &acl.declared, args.allow_private).map_err(refused)?;
    let at = now();
    let expires = args
        .expires
        .map(|d| rfc3339(DateTime::from_secs(at.secs() + d.as_secs() as i64)));
    let mut preview = format!(
        "Block at web ACL {} of stack {} ({} in account {}):\n",
        acl.name, ctx.stack, ctx.region, ctx.account
    );
    for (version, add) in &plan.add {
        for cidr in add {
            let _ = writeln!(preview, "  + {cidr}  (IP set {})", acl.sets[version].name);
        }
    }
    let _ = writeln!(
        preview,
        "  until: {}\n  reason: {}",
        expires.as_deref().unwrap_or("lifted by unblock-ip"),
        args.reason
    );
    eprint!("{preview}");
    confirm(session, "Block these addresses now?", args.auto_approve)?;

    for (version, add) in &plan.add {
        let add = add.clone();
        edit_addresses(&ctx, &acl.sets[version], move |now| {
            // Another responder may have blocked some meanwhile: theirs stay, ours join.
            let mut next = now.clone();
            next.extend(add.iter().cloned());
            if next.len() > blocks::IP_SET_LIMIT {
                return Err(vec![format!(
                    "{} addresses would pass AWS's limit of {} per IP set",
                    next.len(),
                    blocks::IP_SET_LIMIT
                )]);
            }
            Ok(next)
        })
        .await
        .map_err(edit_failure)?;
    }
    let added: Vec<String> = plan.add.values().flatten().cloned().collect();
    let blocked_at = rfc3339(at);
    let records: Vec<BlockRecord> = added
        .iter()
        .map(|cidr| BlockRecord {
            cidr: cidr.clone(),
            web_acl: acl.name.clone(),
            reason: args.reason.clone(),
            operator: ctx.caller.clone(),
            blocked_at: blocked_at.clone(),
            expires: expires.clone(),
        })
        .collect();
    audit
        .line(
            session,
            &format!(
                "blocked {} at web_acl.{} of stack {} until {}",
                added.join(", "),
                acl.name,
                ctx.stack,
                expires.as_deref().unwrap_or("unblocked")
            ),
            &args.reason,
        )
        .await;
    let recorded = edit_ledger(&ctx, &place, |ledger| {
        ledger
            .blocks
            .retain(|b| !(b.web_acl == acl.name && added.contains(&b.cidr)));
        ledger.blocks.extend(records.iter().cloned());
    })
    .await;
    if let Err(e) = recorded {
        return Err(Failure::Refused(format!(
            "blocked {} in AWS WAF, but recording who and why at {} failed ({e}); \
             list-blocks shows them without a record and expire-blocks will not lift them",
            added.join(", "),
            ledger_location(&ctx, &place)
        )));
    }
    if args.target.json {
        print(&format!(
            "{}\n",
            json!({
                "verb": "block-ip",
                "stack": ctx.stack,
                "web_acl": acl.name,
                "blocked": records,
            })
        ))?;
    } else {
        print(&format!(
            "Blocked {} address{} at web ACL {} (until {}).\n",
            added.len(),
            if added.len() == 1 { "" } else { "es" },
            acl.name,
            expires.as_deref().unwrap_or("unblocked")
        ))?;
    }
    Ok(Exit::Success)
}

/// Removes `remove` from the ACL's incident sets (what is there now; a responder may have
/// lifted some meanwhile) and their records from the ledger, and writes the audit line.
async fn lift(
    session: &Session,
    (audit, place): (&AuditLog<'_>, &LockPlace),
    acl: &Acl,
    remove: &BTreeMap<IpVersion, BTreeSet<String>>,
    reason: &str,
) -> Result<Vec<String>, Failure> {
    let ctx = audit.ctx;
    for (version, gone) in remove {
        let gone = gone.clone();
        edit_addresses(ctx, &acl.sets[version], move |now| {
            Ok(now.difference(&gone).cloned().collect())
        })
        .await
        .map_err(edit_failure)?;
    }
    let lifted: Vec<String> = remove.values().flatten().cloned().collect();
    edit_ledger(ctx, place, |ledger| {
        ledger
            .blocks
            .retain(|b| !(b.web_acl == acl.name && lifted.contains(&b.cidr)));
    })
    .await?;
    audit
        .line(
            session,
            &format!(
                "unblocked {} at web_acl.{} of stack {}",
                lifted.join(", "),
                acl.name,
                ctx.stack
            ),
            reason,
        )
        .await;
    Ok(lifted)
}

pub async fn unblock_ip(session: &Session, args: &UnblockIpArgs) -> Result<Exit, Failure> {
    let wanted = parse_all(&args.cidrs)?;
    let Containment {
        ctx,
        place,
        acls,
        desired,
    } = containment(session, &args.target, true).await?;
    let audit = AuditLog::new(&ctx, &desired, "unblock-ip");
    let acl = &acls[0];
    let held = current(&ctx, acl).await?;
    let remove = blocks::plan_unblock(&wanted, &held, &acl.declared).map_err(refused)?;
    let mut preview = format!("Unblock at web ACL {} of stack {}:\n", acl.name, ctx.stack);
    for cidr in remove.values().flatten() {
        let _ = writeln!(preview, "  - {cidr}");
    }
    eprint!("{preview}");
    confirm(session, "Lift these blocks now?", args.auto_approve)?;
    let lifted = lift(session, (&audit, &place), acl, &remove, &args.reason).await?;
    let at = rfc3339(now());
    if args.target.json {
        print(&format!(
            "{}\n",
            json!({"verb": "unblock-ip", "stack": ctx.stack, "web_acl": acl.name, "unblocked": lifted, "at": at})
        ))?;
    } else {
        print(&format!(
            "Unblocked {} address{} at web ACL {}.\n",
            lifted.len(),
            if lifted.len() == 1 { "" } else { "es" },
            acl.name
        ))?;
    }
    Ok(Exit::Success)
}

/// A block as listed: the ledger's record, or none for an address someone put in the
/// set another way.
#[derive(serde::Serialize)]
struct Listed {
    cidr: String,
    web_acl: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    record: Option<BlockRecord>,
}

pub async fn list_blocks(session: &Session, args: &ListBlocksArgs) -> Result<Exit, Failure> {
    let Containment {
        ctx, place, acls, ..
    } = containment(session, &args.target, false).await?;
    let (ledger, _) = read_ledger(&ctx, &place).await?;
    let mut listed = Vec::new();
    for acl in &acls {
        for cidr in current(&ctx, acl).await?.into_values().flatten() {
            let record = ledger
                .blocks
                .iter()
                .find(|b| b.web_acl == acl.name && b.cidr == cidr)
                .cloned();
            listed.push(Listed {
                cidr,
                web_acl: acl.name.clone(),
                record,
            });
        }
    }
    if args.target.json {
        print(&format!(
            "{}\n",
            json!({"stack": ctx.stack, "blocks": listed})
        ))?;
        return Ok(Exit::Success);
    }
    if listed.is_empty() {
        print(&format!(
            "No incident blocks at stack {}'s web ACLs ({}).\n",
            ctx.stack,
            acls.iter()
                .map(|a| a.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))?;
        return Ok(Exit::Success);
    }
    let mut out = String::new();
    for block in &listed {
        match &block.record {
            Some(r) => {
                let _ = writeln!(
                    out,
                    "{}  web ACL {}  blocked {} by {}  until {}  — {}",
                    block.cidr,
                    block.web_acl,
                    r.blocked_at,
                    r.operator,
                    r.expires.as_deref().unwrap_or("unblocked"),
                    r.reason
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "{}  web ACL {}  (no record in {}: added another way; never expires)",
                    block.cidr,
                    block.web_acl,
                    ledger_location(&ctx, &place)
                );
            }
        }
    }
    print(&out)?;
    Ok(Exit::Success)
}

pub async fn expire_blocks(session: &Session, args: &ExpireBlocksArgs) -> Result<Exit, Failure> {
    let Containment {
        ctx,
        place,
        acls,
        desired,
    } = containment(session, &args.target, false).await?;
    let audit = AuditLog::new(&ctx, &desired, "expire-blocks");
    let (ledger, _) = read_ledger(&ctx, &place).await?;
    let at = rfc3339(now());
    let due: Vec<BlockRecord> = blocks::expired(&ledger, &at).into_iter().cloned().collect();
    let mut lifted = Vec::new();
    let mut plans = Vec::new();
    for acl in &acls {
        let mut remove: BTreeMap<IpVersion, BTreeSet<String>> = BTreeMap::new();
        for record in due.iter().filter(|r| r.web_acl == acl.name) {
            if let Ok(net) = record.cidr.parse::<IpNet>() {
                remove
                    .entry(IpVersion::of(&net))
                    .or_default()
                    .insert(record.cidr.clone());
            }
        }
        if !remove.is_empty() {
            plans.push((acl, remove));
        }
    }
    if plans.is_empty() {
        print(&if args.target.json {
            format!(
                "{}\n",
                json!({"verb": "expire-blocks", "stack": ctx.stack, "expired": []})
            )
        } else {
            format!("No incident block of stack {} has expired.\n", ctx.stack)
        })?;
        return Ok(Exit::Success);
    }
    let mut preview = format!("Lift the expired blocks of stack {}:\n", ctx.stack);
    for record in &due {
        let _ = writeln!(
            preview,
            "  - {} at web ACL {} (expired {})",
            record.cidr,
            record.web_acl,
            record.expires.as_deref().unwrap_or_default()
        );
    }
    eprint!("{preview}");
    confirm(session, "Lift these blocks now?", args.auto_approve)?;
    for (acl, remove) in &plans {
        lift(session, (&audit, &place), acl, remove, "expired").await?;
        lifted.extend(due.iter().filter(|r| r.web_acl == acl.name).cloned());
    }
    if args.target.json {
        print(&format!(
            "{}\n",
            json!({"verb": "expire-blocks", "stack": ctx.stack, "expired": lifted})
        ))?;
    } else {
        print(&format!(
            "Lifted {} expired block{}.\n",
            lifted.len(),
            if lifted.len() == 1 { "" } else { "s" }
        ))?;
    }
    Ok(Exit::Success)
}
