//! Integration tests of the `ha` crate.
//!
//! * `placement`: proptests of [`ha::place`]: every chosen node qualifies,
//!   the result does not depend on input order, rejected nodes are never
//!   chosen, gateways spread evenly, and it fails exactly when no node
//!   qualifies.
//! * `plans`: `ensure_ha`/`remove_ha` through the recording runner on
//!   Proxmox VE 8 and 9 — fresh add, re-run with everything in place,
//!   drifted configuration, removal — as insta snapshots of the command
//!   transcripts, with every generated command checked against the schema
//!   table.
//! * `schema`: the schema table accepts the documented forms and refuses
//!   what `ha-manager` would refuse.

// Test helpers outside #[test] functions panic on failure too.
#![allow(clippy::unwrap_used)]

mod placement;
mod plans;
mod schema;
