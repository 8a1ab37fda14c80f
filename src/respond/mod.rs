//! Incident response as plain data (`secinfra respond`): what a containment verb may do
//! to a web ACL's incident IP sets. The commands carry it out.

pub mod blocks;
pub mod restore;
