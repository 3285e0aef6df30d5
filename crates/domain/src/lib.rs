//! Pure logic of PPE Depot. No I/O, no clock reads, no unseeded randomness:
//! everything here is deterministic and testable in microseconds.
pub mod routing;
