//! Lossless, Samba-exact `smb.conf` and CTDB configuration documents.
//!
//! * [`Document`]: every byte of a file, split into logical lines the way
//!   Samba's own lexer splits them; `doc.to_string() == input` for any input.
//!   Editing ([`Document::set`], [`Document::unset`], sections) leaves every
//!   untouched byte as it was.
//! * [`Config`]: the effective configuration Samba builds from a document
//!   (sections merged, synonyms resolved, last value wins, includes expanded
//!   through a [`Loader`]), with Samba's validation as diagnostics.
//! * [`Config::canonical`]: the same text `testparm -s` prints.
//! * [`GatewayConf`]: a typed builder for the smb.conf of a gateway.
//! * [`ctdb`]: `ctdb.conf`, `nodes`, `public_addresses`, tunables.
//!
//! ```
//! use smbconf::{Config, Document};
//!
//! let (mut doc, diags) = Document::parse("[data]\n  path = /srv/data\n  writeable = yes\n");
//! assert!(diags.is_empty());
//! doc.set("data", "comment", "team files").unwrap();
//! assert_eq!(doc.to_string(), "[data]\n  path = /srv/data\n  writeable = yes\n  comment = team files\n");
//! let cfg = Config::from_document(&doc);
//! assert!(cfg.canonical().contains("\tread only = No\n"));
//! ```
//!
//! Limitations: the crate does no I/O; includes are read through the
//! [`Loader`] the caller supplies, and `%`-macros in include paths are not
//! expanded. Input must be UTF-8. The parameter table describes the Samba
//! version it was generated from ([`params::SAMBA_VERSION`]).

mod cook;
pub mod ctdb;
mod diag;
mod document;
mod emit;
mod lexer;
mod load;
pub mod params;

pub use diag::{Diagnostic, Severity, Span};
pub use document::{is_global_name, section_key, Document, EditError, Line, LineKind};
pub use emit::{
    EmitError, Encryption, GatewayConf, GatewayShare, ShareSecurity, Signing, GENCACHE_HASH_SIZE,
};
pub use load::{CanonicalOptions, Config, Loader, NoIncludes, Service};
