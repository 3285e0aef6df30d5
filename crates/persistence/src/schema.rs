//! Table definitions, hand-written so one file serves SQLite and PostgreSQL alike
//! (only the SQL types both backends share).

diesel::table! {
    items (id) {
        id -> BigInt,
        sku -> Text,
        name -> Text,
        category -> Text,
        base_unit -> Text,
        pack_size -> BigInt,
        gtin -> Nullable<Text>,
        standard -> Nullable<Text>,
        shelf_life_days -> Nullable<Integer>,
        volume_cm3 -> Nullable<Double>,
        weight_g -> Nullable<Double>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sites (id) {
        id -> BigInt,
        code -> Text,
        name -> Text,
        kind -> Text,
        unit_type -> Nullable<Text>,
        district -> Nullable<Text>,
        latitude -> Double,
        longitude -> Double,
        address -> Nullable<Text>,
        opening_hours -> Text,
        priority_tier -> Integer,
        lead_time_days -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    transfers (id) {
        id -> BigInt,
        from_site_id -> BigInt,
        to_site_id -> BigInt,
        status -> Text,
        dispatched_at -> Timestamp,
        dispatched_by -> Text,
        received_at -> Nullable<Timestamp>,
        received_by -> Nullable<Text>,
        dispatched_token_id -> Nullable<BigInt>,
        dispatched_token_name -> Nullable<Text>,
        received_token_id -> Nullable<BigInt>,
        received_token_name -> Nullable<Text>,
    }
}

diesel::table! {
    transfer_lines (transfer_id, line_no) {
        transfer_id -> BigInt,
        line_no -> Integer,
        item_id -> BigInt,
        lot -> Text,
        expires_on -> Nullable<Date>,
        quantity -> BigInt,
    }
}

diesel::table! {
    movements (id) {
        id -> BigInt,
        kind -> Text,
        site_id -> BigInt,
        item_id -> BigInt,
        lot -> Text,
        expires_on -> Nullable<Date>,
        quantity -> BigInt,
        counted -> Nullable<BigInt>,
        reason -> Nullable<Text>,
        transfer_id -> Nullable<BigInt>,
        reported_by -> Text,
        occurred_at -> Timestamp,
        recorded_at -> Timestamp,
        token_id -> Nullable<BigInt>,
        token_name -> Nullable<Text>,
    }
}

diesel::table! {
    balances (site_id, item_id, lot) {
        site_id -> BigInt,
        item_id -> BigInt,
        lot -> Text,
        expires_on -> Nullable<Date>,
        quantity -> BigInt,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (key) {
        key -> Text,
        request_hash -> Text,
        status -> Integer,
        response -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> BigInt,
        name -> Text,
        role -> Text,
        secret_sha256 -> Text,
        created_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    token_sites (token_id, site_id) {
        token_id -> BigInt,
        site_id -> BigInt,
    }
}

diesel::table! {
    forecasts (site_id, item_id) {
        site_id -> BigInt,
        item_id -> BigInt,
        computed_at -> Timestamp,
        data_through_id -> BigInt,
        first_day -> Date,
        band -> Text,
        stockout_probability -> Double,
        dos_q50 -> Double,
        status -> Text,
        detail -> Text,
    }
}

diesel::joinable!(forecasts -> sites (site_id));
diesel::joinable!(forecasts -> items (item_id));
diesel::joinable!(token_sites -> api_tokens (token_id));
diesel::joinable!(token_sites -> sites (site_id));
diesel::joinable!(movements -> sites (site_id));
diesel::joinable!(movements -> items (item_id));
diesel::joinable!(balances -> sites (site_id));
diesel::joinable!(balances -> items (item_id));
diesel::joinable!(transfer_lines -> items (item_id));
diesel::joinable!(transfer_lines -> transfers (transfer_id));

diesel::allow_tables_to_appear_in_same_query!(
    forecasts,
    items,
    sites,
    transfers,
    transfer_lines,
    movements,
    balances,
    idempotency_keys,
    api_tokens,
    token_sites,
);
