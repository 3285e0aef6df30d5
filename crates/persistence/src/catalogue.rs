//! Items and sites: rows and their repository functions.

use crate::audit;
use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::ledger::Stamp;
use crate::schema::{items, sites};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use ppe_domain::audit::AuditedEntity;
use ppe_domain::catalogue::{Item, NewItem};
use ppe_domain::site::{NewSite, Site, SiteKind};

pub(crate) fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

/// A text column that only this code writes; a bad value means a corrupted row.
pub(crate) fn parse_text<T: std::str::FromStr<Err = String>>(s: &str) -> Result<T, StoreError> {
    s.parse().map_err(|e: String| {
        StoreError::Database(diesel::result::Error::DeserializationError(e.into()))
    })
}

/// Maps a unique violation to `Duplicate` on `field`, other errors unchanged.
fn duplicate_as(field: &str, value: &str) -> impl FnOnce(diesel::result::Error) -> StoreError {
    let (field, value) = (field.to_owned(), value.to_owned());
    move |e| match e {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            ref info,
        ) => {
            // The GTIN is the other unique column of items.
            let field = if info.message().contains("gtin") {
                "gtin".to_owned()
            } else {
                field
            };
            StoreError::Duplicate { field, value }
        }
        other => StoreError::Database(other),
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = items)]
pub(crate) struct ItemRow {
    id: i64,
    sku: String,
    name: String,
    category: String,
    base_unit: String,
    pack_size: i64,
    gtin: Option<String>,
    standard: Option<String>,
    shelf_life_days: Option<i32>,
    volume_cm3: Option<f64>,
    weight_g: Option<f64>,
    created_at: NaiveDateTime,
    active: bool,
}

impl ItemRow {
    fn into_item(self) -> Result<Item, StoreError> {
        Ok(Item {
            id: self.id,
            sku: self.sku,
            name: self.name,
            category: parse_text(&self.category)?,
            base_unit: parse_text(&self.base_unit)?,
            pack_size: self.pack_size,
            gtin: self.gtin,
            standard: self.standard,
            shelf_life_days: self.shelf_life_days,
            volume_cm3: self.volume_cm3,
            weight_g: self.weight_g,
            active: self.active,
            created_at: utc(self.created_at),
        })
    }
}

/// Stores a validated item.
pub fn create_item(
    conn: &mut DbConnection,
    item: &NewItem,
    now: impl Into<Stamp>,
) -> Result<Item, StoreError> {
    let now = now.into();
    let gtin_or_sku = item.gtin.clone().unwrap_or_else(|| item.sku.clone());
    let stored = diesel::insert_into(items::table)
        .values((
            items::sku.eq(&item.sku),
            items::name.eq(&item.name),
            items::category.eq(item.category.as_str()),
            items::base_unit.eq(item.base_unit.as_str()),
            items::pack_size.eq(item.pack_size),
            items::gtin.eq(&item.gtin),
            items::standard.eq(&item.standard),
            items::shelf_life_days.eq(item.shelf_life_days),
            items::volume_cm3.eq(item.volume_cm3),
            items::weight_g.eq(item.weight_g),
            items::created_at.eq(now.at.naive_utc()),
        ))
        .returning(items::all_columns)
        .get_result::<ItemRow>(conn)
        .map_err(|e| {
            let dup = duplicate_as("sku", &item.sku)(e);
            match dup {
                StoreError::Duplicate { field, .. } if field == "gtin" => StoreError::Duplicate {
                    field,
                    value: gtin_or_sku,
                },
                other => other,
            }
        })?
        .into_item()?;
    audit::record(
        conn,
        AuditedEntity::Item,
        &stored.sku,
        None::<()>,
        &stored,
        &now,
    )?;
    Ok(stored)
}

pub fn list_items(conn: &mut DbConnection) -> Result<Vec<Item>, StoreError> {
    items::table
        .order(items::sku)
        .select(ItemRow::as_select())
        .load::<ItemRow>(conn)?
        .into_iter()
        .map(ItemRow::into_item)
        .collect()
}

pub fn item_by_sku(conn: &mut DbConnection, sku: &str) -> Result<Option<Item>, StoreError> {
    items::table
        .filter(items::sku.eq(sku))
        .select(ItemRow::as_select())
        .first::<ItemRow>(conn)
        .optional()?
        .map(ItemRow::into_item)
        .transpose()
}

/// The id of an item, or NotFound naming `field`.
pub fn item_id(conn: &mut DbConnection, field: &str, sku: &str) -> Result<i64, StoreError> {
    items::table
        .filter(items::sku.eq(sku))
        .select(items::id)
        .first::<i64>(conn)
        .optional()?
        .ok_or_else(|| StoreError::not_found(field, "item", sku))
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = sites)]
pub(crate) struct SiteRow {
    id: i64,
    code: String,
    name: String,
    kind: String,
    unit_type: Option<String>,
    district: Option<String>,
    latitude: f64,
    longitude: f64,
    address: Option<String>,
    opening_hours: String,
    priority_tier: i32,
    lead_time_days: i32,
    created_at: NaiveDateTime,
    active: bool,
}

impl SiteRow {
    fn into_site(self) -> Result<Site, StoreError> {
        Ok(Site {
            id: self.id,
            code: self.code,
            name: self.name,
            kind: parse_text(&self.kind)?,
            unit_type: self.unit_type.as_deref().map(parse_text).transpose()?,
            district: self.district,
            latitude: self.latitude,
            longitude: self.longitude,
            address: self.address,
            opening_hours: serde_json::from_str(&self.opening_hours).map_err(|e| {
                StoreError::Database(diesel::result::Error::DeserializationError(e.into()))
            })?,
            priority_tier: self.priority_tier,
            lead_time_days: self.lead_time_days,
            active: self.active,
            created_at: utc(self.created_at),
        })
    }
}

pub fn create_site(
    conn: &mut DbConnection,
    site: &NewSite,
    now: impl Into<Stamp>,
) -> Result<Site, StoreError> {
    let now = now.into();
    let hours = serde_json::to_string(&site.opening_hours)
        .map_err(|e| StoreError::invalid("opening_hours", e.to_string()))?;
    let stored = diesel::insert_into(sites::table)
        .values((
            sites::code.eq(&site.code),
            sites::name.eq(&site.name),
            sites::kind.eq(site.kind.as_str()),
            sites::unit_type.eq(site.unit_type.map(|u| u.as_str())),
            sites::district.eq(&site.district),
            sites::latitude.eq(site.latitude),
            sites::longitude.eq(site.longitude),
            sites::address.eq(&site.address),
            sites::opening_hours.eq(hours),
            sites::priority_tier.eq(site.priority_tier),
            sites::lead_time_days.eq(site.lead_time_days),
            sites::created_at.eq(now.at.naive_utc()),
        ))
        .returning(sites::all_columns)
        .get_result::<SiteRow>(conn)
        .map_err(duplicate_as("code", &site.code))?
        .into_site()?;
    audit::record(
        conn,
        AuditedEntity::Site,
        &stored.code,
        None::<()>,
        &stored,
        &now,
    )?;
    Ok(stored)
}

pub fn list_sites(conn: &mut DbConnection) -> Result<Vec<Site>, StoreError> {
    sites::table
        .order(sites::code)
        .select(SiteRow::as_select())
        .load::<SiteRow>(conn)?
        .into_iter()
        .map(SiteRow::into_site)
        .collect()
}

pub fn site_by_code(conn: &mut DbConnection, code: &str) -> Result<Option<Site>, StoreError> {
    sites::table
        .filter(sites::code.eq(code))
        .select(SiteRow::as_select())
        .first::<SiteRow>(conn)
        .optional()?
        .map(SiteRow::into_site)
        .transpose()
}

/// Writes a patched item (validated by the caller) and records the change in the audit
/// trail; the SKU and base unit never change.
pub fn update_item(
    conn: &mut DbConnection,
    before: &Item,
    after: &NewItem,
    active: bool,
    now: impl Into<Stamp>,
) -> Result<Item, StoreError> {
    let now = now.into();
    let updated = diesel::update(items::table.find(before.id))
        .set((
            items::name.eq(&after.name),
            items::category.eq(after.category.as_str()),
            items::pack_size.eq(after.pack_size),
            items::gtin.eq(&after.gtin),
            items::standard.eq(&after.standard),
            items::shelf_life_days.eq(after.shelf_life_days),
            items::volume_cm3.eq(after.volume_cm3),
            items::weight_g.eq(after.weight_g),
            items::active.eq(active),
        ))
        .returning(items::all_columns)
        .get_result::<ItemRow>(conn)
        .map_err(duplicate_as(
            "gtin",
            after.gtin.as_deref().unwrap_or_default(),
        ))?
        .into_item()?;
    audit::record(
        conn,
        AuditedEntity::Item,
        &before.sku,
        before,
        &updated,
        &now,
    )?;
    Ok(updated)
}

/// Writes a patched site (validated by the caller) and records the change in the audit
/// trail; the code and kind never change.
pub fn update_site(
    conn: &mut DbConnection,
    before: &Site,
    after: &NewSite,
    active: bool,
    now: impl Into<Stamp>,
) -> Result<Site, StoreError> {
    let now = now.into();
    let hours = serde_json::to_string(&after.opening_hours)
        .map_err(|e| StoreError::invalid("opening_hours", e.to_string()))?;
    let updated = diesel::update(sites::table.find(before.id))
        .set((
            sites::name.eq(&after.name),
            sites::unit_type.eq(after.unit_type.map(|u| u.as_str())),
            sites::district.eq(&after.district),
            sites::latitude.eq(after.latitude),
            sites::longitude.eq(after.longitude),
            sites::address.eq(&after.address),
            sites::opening_hours.eq(hours),
            sites::priority_tier.eq(after.priority_tier),
            sites::lead_time_days.eq(after.lead_time_days),
            sites::active.eq(active),
        ))
        .returning(sites::all_columns)
        .get_result::<SiteRow>(conn)?
        .into_site()?;
    audit::record(
        conn,
        AuditedEntity::Site,
        &before.code,
        before,
        &updated,
        &now,
    )?;
    Ok(updated)
}

/// Ids of sites and items by code and SKU, remembered per database. Sound because
/// neither a code nor a SKU ever changes and rows are never deleted; the only way to
/// cache a wrong id is to read a row whose transaction then rolls back, so every failed
/// write clears the cache (`Db::write`).
#[derive(Debug, Default)]
pub struct IdCache {
    sites: std::sync::RwLock<std::collections::HashMap<String, (i64, SiteKind)>>,
    items: std::sync::RwLock<std::collections::HashMap<String, i64>>,
}

impl IdCache {
    pub fn clear(&self) {
        if let Ok(mut s) = self.sites.write() {
            s.clear();
        }
        if let Ok(mut i) = self.items.write() {
            i.clear();
        }
    }

    /// Id and kind of a site, or NotFound naming `field`.
    pub fn site(
        &self,
        conn: &mut DbConnection,
        field: &str,
        code: &str,
    ) -> Result<(i64, SiteKind), StoreError> {
        if let Some(hit) = self.sites.read().ok().and_then(|m| m.get(code).copied()) {
            return Ok(hit);
        }
        let found = site_ref(conn, field, code)?;
        if let Ok(mut m) = self.sites.write() {
            m.insert(code.to_owned(), found);
        }
        Ok(found)
    }

    /// Id of an item, or NotFound naming `field`.
    pub fn item(&self, conn: &mut DbConnection, field: &str, sku: &str) -> Result<i64, StoreError> {
        if let Some(hit) = self.items.read().ok().and_then(|m| m.get(sku).copied()) {
            return Ok(hit);
        }
        let found = item_id(conn, field, sku)?;
        if let Ok(mut m) = self.items.write() {
            m.insert(sku.to_owned(), found);
        }
        Ok(found)
    }
}

/// Id and kind of a site, or NotFound naming `field`.
pub fn site_ref(
    conn: &mut DbConnection,
    field: &str,
    code: &str,
) -> Result<(i64, SiteKind), StoreError> {
    let (id, kind) = sites::table
        .filter(sites::code.eq(code))
        .select((sites::id, sites::kind))
        .first::<(i64, String)>(conn)
        .optional()?
        .ok_or_else(|| StoreError::not_found(field, "site", code))?;
    Ok((id, parse_text(&kind)?))
}
