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
        active -> Bool,
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
        active -> Bool,
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
        plan_id -> Nullable<BigInt>,
        plan_stop -> Nullable<Integer>,
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
        received -> Nullable<BigInt>,
        outcome -> Nullable<Text>,
        disposition -> Nullable<Text>,
        note -> Nullable<Text>,
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
        response -> Nullable<Text>,
        movement_ids -> Nullable<Text>,
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

diesel::table! {
    vehicles (id) {
        id -> BigInt,
        code -> Text,
        name -> Text,
        depot_site_id -> BigInt,
        capacity_kg -> Double,
        capacity_litres -> Double,
        capacity_pallets -> Nullable<Integer>,
        shift_start -> Text,
        shift_end -> Text,
        max_driving_minutes -> Nullable<Integer>,
        cost_per_km -> Double,
        cost_per_hour -> Double,
        fixed_cost_per_day -> Double,
        max_trips -> Integer,
        active -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    supply_requests (id) {
        id -> BigInt,
        site_id -> BigInt,
        status -> Text,
        needed_by -> Nullable<Date>,
        urgent -> Bool,
        reason -> Nullable<Text>,
        requested_by -> Text,
        token_id -> Nullable<BigInt>,
        token_name -> Nullable<Text>,
        plan_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    supply_request_lines (request_id, line_no) {
        request_id -> BigInt,
        line_no -> Integer,
        item_id -> BigInt,
        quantity -> BigInt,
    }
}

diesel::table! {
    delivery_plans (id) {
        id -> BigInt,
        depot_site_id -> BigInt,
        plan_date -> Date,
        status -> Text,
        version -> Integer,
        replaces_plan_id -> Nullable<BigInt>,
        document -> Text,
        dispatch_answer -> Nullable<Text>,
        token_id -> Nullable<BigInt>,
        token_name -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    audit_events (id) {
        id -> BigInt,
        entity -> Text,
        entity_key -> Text,
        action -> Text,
        before -> Nullable<Text>,
        after -> Text,
        token_id -> Nullable<BigInt>,
        token_name -> Nullable<Text>,
        recorded_at -> Timestamp,
    }
}

diesel::joinable!(vehicles -> sites (depot_site_id));
diesel::joinable!(supply_requests -> sites (site_id));
diesel::joinable!(supply_request_lines -> supply_requests (request_id));
diesel::joinable!(supply_request_lines -> items (item_id));
diesel::joinable!(delivery_plans -> sites (depot_site_id));
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
    vehicles,
    supply_requests,
    supply_request_lines,
    delivery_plans,
    audit_events,
);
