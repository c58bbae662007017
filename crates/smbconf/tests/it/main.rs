//! Integration tests of the smbconf crate (one binary, one module per area).

mod canonical;
mod ctdb;
mod document;
mod emit;
mod include;
mod params;
mod real;
