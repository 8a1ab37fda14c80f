//! `secinfra respond rotate-secrets` and `rotate-key`: eradication. Secrets rotate with
//! their own function, now, and the command waits (bounded) until each new version is
//! current; a key's material rotates on demand. Every check comes before any change, and
//! no secret value is ever read or shown.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::{Duration, Instant};

use serde_json::json;

use super::super::pipeline::connect_validated;
use super::super::{Exit, Failure, Session, confirm, print};
use super::{AuditLog, refused};
use crate::aws::rotation::{self, SecretState};
use crate::cli::{RotateKeyArgs, RotateSecretsArgs};
use crate::model::{Address, Desired, Kind, Props, SecretProps};

/// How often a rotation's progress is looked at, and said.
const POLL: Duration = Duration::from_secs(5);
const SAY_EVERY: Duration = Duration::from_secs(15);

/// The blueprint's secrets that rotate, by name under `secrets:`.
fn rotating(desired: &Desired) -> BTreeMap<String, (Address, SecretProps)> {
    desired
        .resources
        .values()
        .filter_map(|r| match &r.props {
            Props::Secret(p) if p.rotation_enabled => {
                Some((r.address.name.clone(), (r.address.clone(), p.clone())))
            }
            _ => None,
        })
        .collect()
}

/// A secret ready to rotate: checked in the account.
struct Chosen {
    address: Address,
    name: String,
    state: SecretState,
}

pub async fn rotate_secrets(session: &Session, args: &RotateSecretsArgs) -> Result<Exit, Failure> {
    let (_, ctx, desired) = connect_validated(session, &args.blueprint).await?;
    let candidates = rotating(&desired);
    let mut problems = Vec::new();
    let names: Vec<String> = if args.all {
        candidates.keys().cloned().collect()
    } else {
        args.names.clone()
    };
    if names.is_empty() {
        problems.push(format!(
            "{} declares no secret with rotation",
            args.blueprint.display()
        ));
    }
    let mut chosen = Vec::new();
    for name in &names {
        let Some((address, props)) = candidates.get(name) else {
            let declared = desired
                .resources
                .contains_key(&Address::new(Kind::Secret, name));
            problems.push(if declared {
                format!(
                    "secret.{name} has no rotation in the blueprint (give it `rotation:` and apply)"
                )
            } else {
                format!(
                    "no secret `{name}` in the blueprint (those that rotate: {})",
                    candidates.keys().cloned().collect::<Vec<_>>().join(", ")
                )
            });
            continue;
        };
        match rotation::describe_secret(&ctx, address, &props.name).await? {
            None => problems.push(format!(
                "{address} ({}) is not in the account: run `secinfra apply` first",
                props.name
            )),
            Some(state) if !state.stack_tagged => problems.push(format!(
                "{address} ({}) exists without stack {}'s tag: it is not this stack's to rotate",
                props.name, ctx.stack
            )),
            Some(state) if !state.rotation_enabled => problems.push(format!(
                "{address}: rotation is off in the account (changed outside secinfra?); \
                 `secinfra apply` turns it back on"
            )),
            // A rotation already under way is AWS's to refuse (RotateSecret answers
            // InvalidRequestException): a version left AWSPENDING is not proof of one.
            Some(state) => chosen.push(Chosen {
                address: address.clone(),
                name: props.name.clone(),
                state,
            }),
        }
    }
    if !problems.is_empty() {
        return Err(refused(problems));
    }
    let mut preview = format!(
        "Rotate now, with each secret's own rotation function (stack {}, {} in account {}):\n",
        ctx.stack, ctx.region, ctx.account
    );
    for c in &chosen {
        let _ = writeln!(
            preview,
            "  ~ {} ({}; last rotated {})",
            c.address,
            c.name,
            c.state.last_rotated.as_deref().unwrap_or("never")
        );
    }
    eprint!("{preview}");
    confirm(session, "Rotate these secrets now?", args.auto_approve)?;

    let audit = AuditLog::new(&ctx, &desired, "rotate-secrets");
    // Started one after another, then waited for together.
    let mut outcomes: BTreeMap<Address, Outcome> = BTreeMap::new();
    let mut waiting: Vec<(&Chosen, String)> = Vec::new();
    for c in &chosen {
        match rotation::rotate_secret(&ctx, &c.address, &c.state).await {
            Ok(version) => {
                audit
                    .line(
                        session,
                        &format!("started rotation of {} (new version {version})", c.address),
                        &args.reason,
                    )
                    .await;
                waiting.push((c, version));
            }
            Err(e) => {
                outcomes.insert(c.address.clone(), Outcome::Failed(e.to_string()));
            }
        }
    }
    let started = Instant::now();
    let mut said = Instant::now();
    while !waiting.is_empty() {
        let mut still = Vec::new();
        for (c, version) in waiting {
            match rotation::describe_secret(&ctx, &c.address, &c.name).await {
                Ok(Some(state)) if state.is_current(&version) => {
                    outcomes.insert(c.address.clone(), Outcome::Rotated(version));
                }
                Ok(_) => still.push((c, version)),
                Err(e) => {
                    outcomes.insert(c.address.clone(), Outcome::Failed(e.to_string()));
                }
            }
        }
        waiting = still;
        if waiting.is_empty() {
            break;
        }
        if started.elapsed() >= args.timeout {
            for (c, version) in waiting.drain(..) {
                outcomes.insert(c.address.clone(), Outcome::Pending(version));
            }
            break;
        }
        if said.elapsed() >= SAY_EVERY {
            session.note(&format!(
                "Still rotating {}... [{}s elapsed]",
                waiting
                    .iter()
                    .map(|(c, _)| c.address.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                started.elapsed().as_secs()
            ));
            said = Instant::now();
        }
        tokio::time::sleep(POLL).await;
    }
    report_secrets(&ctx.stack, &outcomes, args)
}

/// How one secret's rotation ended.
enum Outcome {
    /// The new version is current.
    Rotated(String),
    /// Not current when the wait ran out (still running, or its function failed).
    Pending(String),
    Failed(String),
}

fn report_secrets(
    stack: &str,
    outcomes: &BTreeMap<Address, Outcome>,
    args: &RotateSecretsArgs,
) -> Result<Exit, Failure> {
    let all_rotated = outcomes.values().all(|o| matches!(o, Outcome::Rotated(_)));
    if args.json {
        let secrets: Vec<serde_json::Value> = outcomes
            .iter()
            .map(|(address, outcome)| match outcome {
                Outcome::Rotated(v) => {
                    json!({"address": address, "outcome": "rotated", "version": v})
                }
                Outcome::Pending(v) => {
                    json!({"address": address, "outcome": "pending", "version": v})
                }
                Outcome::Failed(e) => json!({"address": address, "outcome": "failed", "error": e}),
            })
            .collect();
        print(&format!(
            "{}\n",
            json!({"verb": "rotate-secrets", "stack": stack, "secrets": secrets})
        ))?;
    } else {
        let mut out = String::new();
        for (address, outcome) in outcomes {
            let _ = match outcome {
                Outcome::Rotated(v) => writeln!(out, "{address}: rotated (version {v} is current)"),
                Outcome::Pending(v) => writeln!(
                    out,
                    "{address}: not finished after {}s (version {v} is still AWSPENDING: \
                     the function is running or failed; see its logs)",
                    args.timeout.as_secs()
                ),
                Outcome::Failed(e) => writeln!(out, "{address}: failed: {e}"),
            };
        }
        print(&out)?;
    }
    Ok(if all_rotated {
        Exit::Success
    } else {
        Exit::Failure
    })
}

pub async fn rotate_key(session: &Session, args: &RotateKeyArgs) -> Result<Exit, Failure> {
    let (_, ctx, desired) = connect_validated(session, &args.blueprint).await?;
    let address = Address::new(Kind::KmsKey, &args.name);
    let Some(Props::KmsKey(props)) = desired.resources.get(&address).map(|r| &r.props) else {
        let keys: Vec<String> = desired
            .resources
            .keys()
            .filter(|a| a.kind == Kind::KmsKey)
            .map(|a| a.name.clone())
            .collect();
        return Err(refused(vec![format!(
            "no key `{}` in the blueprint (its keys: {})",
            args.name,
            keys.join(", ")
        )]));
    };
    // "You can perform on-demand rotation of symmetric encryption KMS keys only"
    // (https://docs.aws.amazon.com/kms/latest/developerguide/rotating-keys-on-demand.html).
    if props.key_spec != "SYMMETRIC_DEFAULT" || props.key_usage != "ENCRYPT_DECRYPT" {
        return Err(refused(vec![format!(
            "{address} is a {} {} key; AWS rotates only symmetric encryption keys on demand",
            props.key_spec, props.key_usage
        )]));
    }
    let Some(alias) = props.aliases.iter().next() else {
        return Err(refused(vec![format!(
            "{address} has no alias to find it by"
        )]));
    };
    let key = match rotation::describe_key(&ctx, &address, alias).await? {
        None => {
            return Err(refused(vec![format!(
                "{address} ({alias}) is not in the account: run `secinfra apply` first"
            )]));
        }
        Some(key) if !key.stack_tagged => {
            return Err(refused(vec![format!(
                "{alias} names a key without stack {}'s tag: it is not this stack's to rotate",
                ctx.stack
            )]));
        }
        Some(key) => key,
    };
    eprintln!(
        "Rotate the material of {address} ({alias}, {}) now; data encrypted before stays \
         readable (KMS keeps every material).",
        key.arn
    );
    confirm(session, "Rotate this key now?", args.auto_approve)?;
    rotation::rotate_key(&ctx, &address, &key.id).await?;
    AuditLog::new(&ctx, &desired, "rotate-key")
        .line(
            session,
            &format!("started on-demand rotation of {address} ({})", key.id),
            &args.reason,
        )
        .await;
    let rotations = rotation::key_rotations(&ctx, &address, &key.id).await?;
    if args.json {
        print(&format!(
            "{}\n",
            json!({"verb": "rotate-key", "stack": ctx.stack, "key": address, "key_id": key.id, "rotations": rotations})
        ))?;
        return Ok(Exit::Success);
    }
    let mut out =
        format!("Started rotating {address}; AWS finishes in the background. Rotations so far:\n");
    if rotations.is_empty() {
        out.push_str("  (none completed yet)\n");
    }
    for r in &rotations {
        let _ = writeln!(out, "  {}  {}", r.date, r.kind);
    }
    print(&out)?;
    Ok(Exit::Success)
}
