//! The item catalogue: what a kind of equipment is, and the rules a new item must meet.

use crate::gtin;
use crate::patch::{Patch, double_option, required};
use crate::validation::Violations;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BaseUnit {
    Piece,
    Pair,
    Ml,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Mask,
    Respirator,
    Gloves,
    Gown,
    Apron,
    EyeProtection,
    HandHygiene,
    Disinfectant,
    Other,
}

crate::text_enum!(BaseUnit { Piece = "piece", Pair = "pair", Ml = "ml" });
crate::text_enum!(Category {
    Mask = "mask",
    Respirator = "respirator",
    Gloves = "gloves",
    Gown = "gown",
    Apron = "apron",
    EyeProtection = "eye_protection",
    HandHygiene = "hand_hygiene",
    Disinfectant = "disinfectant",
    Other = "other",
});

/// A catalogue entry as a client submits it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewItem {
    /// Stock-keeping unit, unique in the catalogue, e.g. `FFP2-3M-8822`.
    pub sku: String,
    pub name: String,
    pub category: Category,
    pub base_unit: BaseUnit,
    /// Base units in one pack (a box of 50 masks: 50). Stock is always counted in base units.
    pub pack_size: i64,
    /// GTIN-8/12/13/14; stored normalised to 14 digits.
    #[serde(default)]
    pub gtin: Option<String>,
    /// The standard the item meets, e.g. `EN 149 FFP2`.
    #[serde(default)]
    pub standard: Option<String>,
    #[serde(default)]
    pub shelf_life_days: Option<i32>,
    /// Volume of one base unit in cubic centimetres (vehicle loads).
    #[serde(default)]
    pub volume_cm3: Option<f64>,
    /// Weight of one base unit in grams (vehicle loads).
    #[serde(default)]
    pub weight_g: Option<f64>,
}

/// A catalogue entry as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Item {
    pub id: i64,
    pub sku: String,
    pub name: String,
    pub category: Category,
    pub base_unit: BaseUnit,
    pub pack_size: i64,
    /// Normalised to 14 digits.
    pub gtin: Option<String>,
    pub standard: Option<String>,
    pub shelf_life_days: Option<i32>,
    pub volume_cm3: Option<f64>,
    pub weight_g: Option<f64>,
    /// An inactive item is kept for its history but left out of plans and supply status.
    pub active: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Changes to an item: absent fields stay, `null` clears an optional one. The SKU and the
/// base unit never change: the ledger's quantities are counted in them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ItemPatch {
    #[serde(default, deserialize_with = "required")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "required")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub category: Option<Category>,
    #[serde(default, deserialize_with = "required")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub pack_size: Option<i64>,
    #[serde(default, deserialize_with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub gtin: Patch<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub standard: Patch<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i32>))]
    pub shelf_life_days: Patch<i32>,
    #[serde(default, deserialize_with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<f64>))]
    pub volume_cm3: Patch<f64>,
    #[serde(default, deserialize_with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<f64>))]
    pub weight_g: Patch<f64>,
    #[serde(default, deserialize_with = "required")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub active: Option<bool>,
}

impl ItemPatch {
    /// The item as it would be after the patch (validate it like a new one), and whether
    /// it stays active.
    pub fn apply(self, i: &Item) -> (NewItem, bool) {
        let item = NewItem {
            sku: i.sku.clone(),
            name: self.name.unwrap_or_else(|| i.name.clone()),
            category: self.category.unwrap_or(i.category),
            base_unit: i.base_unit,
            pack_size: self.pack_size.unwrap_or(i.pack_size),
            gtin: self.gtin.unwrap_or_else(|| i.gtin.clone()),
            standard: self.standard.unwrap_or_else(|| i.standard.clone()),
            shelf_life_days: self.shelf_life_days.unwrap_or(i.shelf_life_days),
            volume_cm3: self.volume_cm3.unwrap_or(i.volume_cm3),
            weight_g: self.weight_g.unwrap_or(i.weight_g),
        };
        (item, self.active.unwrap_or(i.active))
    }
}

impl NewItem {
    /// Checks every field and returns the item with trimmed text and a normalised GTIN.
    pub fn validate(mut self) -> Result<NewItem, Violations> {
        let mut v = Violations::default();
        v.code("sku", &mut self.sku, crate::text::SKU_MAX);
        v.text("name", &self.name, 200);
        if !(1..=1_000_000).contains(&self.pack_size) {
            v.add("pack_size", "must be between 1 and 1000000");
        }
        if let Some(g) = &self.gtin {
            match gtin::normalise(g) {
                Ok(n) => self.gtin = Some(n),
                Err(e) => v.add("gtin", e.to_string()),
            }
        }
        if let Some(s) = &self.standard {
            v.text("standard", s, 100);
        }
        if let Some(d) = self.shelf_life_days
            && !(1..=36_500).contains(&d)
        {
            v.add("shelf_life_days", "must be between 1 and 36500");
        }
        for (field, value) in [("volume_cm3", self.volume_cm3), ("weight_g", self.weight_g)] {
            if let Some(x) = value
                && (!x.is_finite() || x <= 0.0 || x > 1e6)
            {
                v.add(field, "must be a positive number of at most 1000000");
            }
        }
        v.finish()?;
        self.sku = self.sku.trim().to_owned();
        self.name = self.name.trim().to_owned();
        self.standard = self.standard.map(|s| s.trim().to_owned());
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item() -> NewItem {
        NewItem {
            sku: "FFP2-01".into(),
            name: " FFP2 respirator ".into(),
            category: Category::Respirator,
            base_unit: BaseUnit::Piece,
            pack_size: 20,
            gtin: Some("4006381333931".into()),
            standard: Some("EN 149 FFP2".into()),
            shelf_life_days: Some(1825),
            volume_cm3: Some(150.0),
            weight_g: Some(12.0),
        }
    }

    #[test]
    fn valid_item_is_trimmed_and_gtin_normalised() {
        let i = item().validate().unwrap();
        assert_eq!(i.name, "FFP2 respirator");
        assert_eq!(i.gtin.as_deref(), Some("04006381333931"));
    }

    #[test]
    fn each_bad_field_is_named() {
        let mut i = item();
        i.pack_size = 0;
        i.gtin = Some("4006381333932".into());
        i.weight_g = Some(-1.0);
        i.name = "  ".into();
        let err = i.validate().unwrap_err();
        let fields: Vec<&str> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "pack_size", "gtin", "weight_g"]);
    }
}
