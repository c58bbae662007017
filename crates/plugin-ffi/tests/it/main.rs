//! Integration tests of the plugin library: the C ABI called directly
//! (abi.rs), the committed header (header.rs), and the Perl plugin's
//! `prove` suite against the real cdylib (perl.rs).

// Test code: a failed setup step is a failed test.
#![allow(clippy::unwrap_used)]
// The tests call the C ABI, which is unsafe by nature.
#![allow(unsafe_code)]

mod abi;
mod bench;
mod header;
mod perl;
