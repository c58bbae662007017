//! Integration tests of the backends crate.
//!
//! * `dir`: the directory backend on a temp dir.
//! * `zfs_fixtures`: the pure zfs parsers on output captured from zfs-fuse.
//! * `zfs_plan`: zfs command sequences through the recording runner (insta).
//! * `zfs_real`: end to end against a zfs-fuse pool on a sparse file (skips
//!   with a printed reason when zfs-fuse is missing, fails instead when
//!   `SMBGW_REQUIRE_REAL=1`).
//! * `ceph_fixtures`: the pure ceph/rbd parsers on output captured from Ceph
//!   Pacific 16.2.15.
//! * `ceph_plan`: CephFS and RBD (krbd mapping) command sequences (insta).
//! * `ceph_real`: CephFS (ceph-fuse) and RBD (rbd-fuse + loop + XFS) end to
//!   end against a private single-node cluster the test brings up and tears
//!   down (same skip/fail rule).
//! * `bench`: the benchmarks, ignored unless run by `cargo xtask bench`.

// Test helpers outside #[test] functions panic on failure too.
#![allow(clippy::unwrap_used)]

mod bench;
mod ceph_fixtures;
mod ceph_plan;
mod ceph_real;
mod dir;
mod zfs_fixtures;
mod zfs_plan;
mod zfs_real;
