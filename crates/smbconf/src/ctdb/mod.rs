//! CTDB configuration files (placeholder, being written).
