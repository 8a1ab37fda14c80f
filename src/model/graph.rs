//! The dependency graph of desired resources: what must exist before what.
//!
//! Edges come from references in non-link fields (`Props::requires`) and from kind
//! ordering (`Kind::ordered_after`). Links (rules, routes, associations) are not edges:
//! they are synchronised after both ends exist, which is why security groups that
//! reference each other are legal.

use std::collections::{BTreeMap, BTreeSet};

use petgraph::algo::{tarjan_scc, toposort};
use petgraph::graph::{DiGraph, NodeIndex};

use super::address::Address;
use super::resource::Resource;

/// For each resource, the resources it must be created after.
pub fn dependencies(
    resources: &BTreeMap<Address, Resource>,
) -> BTreeMap<Address, BTreeSet<Address>> {
    resources
        .values()
        .map(|r| {
            let mut deps: BTreeSet<Address> = r
                .props
                .requires()
                .into_iter()
                .filter(|a| resources.contains_key(a))
                .collect();
            for kind in r.address.kind.ordered_after() {
                deps.extend(resources.keys().filter(|a| a.kind == *kind).cloned());
            }
            deps.remove(&r.address);
            (r.address.clone(), deps)
        })
        .collect()
}

/// Addresses in creation order, or the resources of one dependency cycle.
pub fn creation_order(
    deps: &BTreeMap<Address, BTreeSet<Address>>,
) -> Result<Vec<Address>, Vec<Address>> {
    let mut graph = DiGraph::<Address, ()>::new();
    let index: BTreeMap<&Address, NodeIndex> = deps
        .keys()
        .map(|a| (a, graph.add_node(a.clone())))
        .collect();
    for (address, requires) in deps {
        for dep in requires {
            if let Some(&from) = index.get(dep) {
                graph.add_edge(from, index[address], ());
            }
        }
    }
    match toposort(&graph, None) {
        Ok(order) => Ok(order.into_iter().map(|i| graph[i].clone()).collect()),
        Err(_) => {
            let cycle = tarjan_scc(&graph)
                .into_iter()
                .find(|scc| scc.len() > 1)
                .unwrap_or_default();
            let mut cycle: Vec<Address> = cycle.into_iter().map(|i| graph[i].clone()).collect();
            cycle.sort();
            Err(cycle)
        }
    }
}
