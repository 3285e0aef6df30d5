-- One stored forecast and supply assessment per unit × item, computed in the background from the
-- ledger, so that reads never fit models. `data_through_id` is the newest movement of the pair
-- the computation saw. The columns reads filter and sort on are plain; `status` (the supply
-- assessment and accuracy, small) and `detail` (daily points, quantiles, backtest errors,
-- data-quality flags) are JSON documents the service owns.
CREATE TABLE forecasts (
    site_id BIGINT NOT NULL REFERENCES sites (id),
    item_id BIGINT NOT NULL REFERENCES items (id),
    computed_at TIMESTAMP NOT NULL,
    data_through_id BIGINT NOT NULL,
    first_day DATE NOT NULL,
    band TEXT NOT NULL,
    stockout_probability DOUBLE PRECISION NOT NULL,
    dos_q50 DOUBLE PRECISION NOT NULL,
    status TEXT NOT NULL,
    detail TEXT NOT NULL,
    PRIMARY KEY (site_id, item_id)
);
