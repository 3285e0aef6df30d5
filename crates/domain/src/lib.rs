//! Pure logic of PPE Depot. No I/O, no clock reads, no unseeded randomness:
//! everything here is deterministic and testable in microseconds.

pub mod text_enum;

pub mod access;
pub mod allocation;
pub mod audit;
pub mod catalogue;
pub mod commands;
pub mod consumption;
pub mod delivery;
pub mod fleet;
pub mod forecast;
pub mod gtin;
pub mod import;
pub mod integrity;
pub mod ledger;
pub mod patch;
pub mod replenishment;
pub mod requests;
pub mod routing;
pub mod scenario;
pub mod site;
pub mod stock;
pub mod supply;
pub mod text;
pub mod timestamp;
pub mod validation;
