//! `secinfra graph BLUEPRINT`: the desired resources and what each needs, as Graphviz
//! DOT or Mermaid. Solid edges must exist first; dashed edges are links (rules, routes,
//! associations) made once both ends exist. No AWS calls.

use std::fmt::Write;

use super::{Exit, Failure, Session, load, print};
use crate::blueprint::Target;
use crate::cli::{GraphArgs, GraphFormat};
use crate::model::{Address, Desired, graph};

pub fn run(session: &Session, args: &GraphArgs) -> Result<Exit, Failure> {
    let loaded = load(session, &args.blueprint)?;
    let validated = loaded.validate(&Target {
        region: session.global.region.clone(),
        account: None,
    })?;
    let text = match args.format {
        GraphFormat::Dot => dot(&validated.desired),
        GraphFormat::Mermaid => mermaid(&validated.desired),
    };
    print(&text)?;
    Ok(Exit::Success)
}

fn edges(desired: &Desired) -> Vec<(Address, Address, bool)> {
    let mut out = Vec::new();
    for (address, deps) in graph::dependencies(&desired.resources) {
        out.extend(deps.into_iter().map(|d| (address.clone(), d, false)));
    }
    for resource in desired.resources.values() {
        out.extend(
            resource
                .props
                .links()
                .into_iter()
                .filter(|t| t != &resource.address)
                .map(|t| (resource.address.clone(), t, true)),
        );
    }
    out
}

pub fn dot(desired: &Desired) -> String {
    let mut out = format!(
        "digraph \"{}\" {{\n  rankdir=LR;\n  node [shape=box];\n",
        desired.stack
    );
    for address in desired.resources.keys() {
        let _ = writeln!(out, "  \"{address}\";");
    }
    for (from, to, link) in edges(desired) {
        let style = if link { " [style=dashed]" } else { "" };
        let _ = writeln!(out, "  \"{from}\" -> \"{to}\"{style};");
    }
    out.push_str("}\n");
    out
}

pub fn mermaid(desired: &Desired) -> String {
    let id = |a: &Address| a.to_string().replace(['.', '-', '~'], "_");
    let mut out = String::from("graph LR\n");
    for address in desired.resources.keys() {
        let _ = writeln!(out, "  {}[\"{address}\"]", id(address));
    }
    for (from, to, link) in edges(desired) {
        let arrow = if link { "-.->" } else { "-->" };
        let _ = writeln!(out, "  {} {arrow} {}", id(&from), id(&to));
    }
    out
}
