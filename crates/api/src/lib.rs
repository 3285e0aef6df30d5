//! HTTP API, CLI and demo data of PPE Depot.

pub mod app;
pub mod auth;
pub mod cli;
pub mod contract;
pub mod dashboard;
pub mod demo;
pub mod export;
pub mod extract;
pub mod forecast_batch;
pub mod forecasting;
pub mod handlers;
pub mod heavy;
pub mod metrics;
pub mod openapi;
pub mod planning;
pub mod problem;
pub mod progress;
pub mod request_context;
pub mod routes;
pub mod sheet;
pub mod solve_vrp;
pub mod state;
pub mod token_cache;
