//! `gatewayd check`: everything `run` would refuse — config, users file, roots, policy and
//! catalog files — reported without starting anything. Unknown app ids are warnings.

use std::path::Path;

use crate::config::load_config;
use crate::gateway::Snapshot;

/// Returns the process exit code: 0 valid, 2 invalid.
pub fn run_check(path: Option<&Path>) -> i32 {
    let config = match load_config(path) {
        Ok((config, _)) => config,
        Err(error) => {
            eprintln!("{error}");
            return 2;
        }
    };
    // Building a snapshot loads the users file and extra roots exactly as `run` does; it needs
    // a runtime for the resolver.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(error) => {
            eprintln!("cannot start a runtime: {error}");
            return 2;
        }
    };
    let built = runtime.block_on(async { Snapshot::build(config, 1) });
    match built {
        Ok(snapshot) => {
            for warning in &snapshot.policy_warnings {
                eprintln!("{warning}");
            }
            println!(
                "ok: {}",
                path.map(|p| p.display().to_string())
                    .unwrap_or_else(|| "<embedded defaults>".into())
            );
            println!(
                "policy {} with {} rules; catalog of {} apps",
                snapshot.policy.version(),
                snapshot.policy.rule_ids().count(),
                snapshot.catalog.apps().len()
            );
            0
        }
        Err(error) => {
            eprintln!("{error}");
            2
        }
    }
}
