//! Tests of the provision crate: plans (snapshots), the executor's journal
//! and rollback (fault injection at every step, property-tested), the
//! native Samba edits (against recorded tool runs) and tool-output parsers.

// Helpers outside #[test] functions panic on failure too.
#![allow(clippy::unwrap_used)]

mod exec;
mod lxc;
mod pct;
mod plan;
mod samba;
