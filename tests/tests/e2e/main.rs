//! End-to-end scenarios: a real `gatewayd` process, real curl and Chromium, a real TLS origin.
//!
//! Each scenario file reads like a story a user would tell ("I point curl at the proxy and
//! ..."). Artifacts (gateway logs, screenshots) go to a temp dir printed on failure.
// Test code: a failed unwrap is a failed test with its message, which is what we want.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// The tracked-spawner rule (clippy.toml) is the gateway's; this harness is its client.
#![allow(clippy::disallowed_methods)]

mod support;

mod admin_port;
mod agent;
mod ai_keys;
mod aigw;
mod aigw_access;
mod aigw_bedrock;
mod aigw_budgets;
mod aigw_chat;
mod aigw_dashboard;
mod aigw_endpoints;
mod aigw_first_steps;
mod aigw_holes;
mod aigw_images;
mod aigw_keys_api;
mod aigw_knobs;
mod aigw_lifecycle;
mod aigw_local;
mod aigw_prompt_rewrites;
mod aigw_providers;
mod aigw_reload;
mod aigw_replicas;
mod aigw_response_dlp;
mod aigw_response_dlp_streams;
mod aigw_routes;
mod aigw_spend;
mod analyst;
mod auth_attacks;
mod bad_input;
mod browser;
mod catalog_update;
mod cli;
mod cli_fills;
mod cli_first_use;
mod coaching;
mod current_clickhouse;
mod dashboard;
mod deploy_files;
mod discovered;
mod discovered_pages;
mod dlp;
mod dlp_encodings;
mod dlp_walkarounds;
mod egress;
mod error_pages;
mod events;
mod explorer_walls;
mod harness_isolation;
mod interception;
mod key_anomalies;
mod lifecycle;
mod limits;
mod otlp;
mod parked;
mod policy;
mod prompt_paths;
mod prompt_rewrites;
mod provider_keys;
mod proxy_access;
mod quickstart_clickhouse;
mod report;
mod route_action;
mod siem;
mod signed_posture;
mod state_modes;
mod streaming;
mod tenant;
mod tunnel_strangers;
mod upstream_retry;
mod user_devices;
mod workbench;
