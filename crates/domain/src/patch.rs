//! Partial updates (`PATCH`): an absent field keeps its value, `null` clears an optional
//! one, a value replaces it (JSON Merge Patch, RFC 7396, for flat records).

use serde::{Deserialize, Deserializer};

/// `None`: absent, keep; `Some(None)`: `null`, clear; `Some(Some(v))`: set.
pub type Patch<T> = Option<Option<T>>;

/// Reads a present field (even `null`) as `Some`; with `#[serde(default)]` an absent one
/// stays `None`.
pub fn double_option<'de, D, T>(d: D) -> Result<Patch<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Reads a present field that may not be cleared: `null` is refused (the field names
/// itself in the error); with `#[serde(default)]` an absent one stays `None`.
pub fn required<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}
