//! Persistence of PPE Depot.
