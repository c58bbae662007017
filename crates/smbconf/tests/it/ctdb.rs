//! CTDB integration tests (being written).
