//! HTTP API of PPE Depot.
