//! The resource model shared by the blueprint, discovery, the planner and apply.

pub mod address;
pub mod applied;
pub mod field_diff;
pub mod graph;
pub mod identity;
pub mod incident;
pub mod kind;
pub mod kinds;
pub mod props;
pub mod reference;
pub mod resource;
pub mod rule;
pub mod trail_event;

pub use address::Address;
pub use applied::{AppliedIds, AppliedRecord};
pub use field_diff::{Diff, changed};
pub use incident::{BlockLedger, BlockRecord, IpVersion, incident_acl, incident_ip_set};
pub use kind::{Field, Kind, Mode, Shape};
pub use props::*;
pub use reference::Ref;
pub use resource::{
    Desired, Live, LiveResource, Resource, TAG_ADDRESS, TAG_ADOPTED, TAG_DELETION_WINDOW,
    TAG_PROTECT, TAG_RECOVERY_WINDOW, TAG_STACK, Tags,
};
pub use rule::{Direction, Peer, Protocol, SecurityGroupRule};
pub use trail_event::TrailEvent;
