//! The daemon's side of the AI gateway's budgets: at start, their counters are rebuilt from
//! ClickHouse's `ai_requests` (one aggregated query per budget, `aigw::budget::rebuild`), so
//! a restart does not hand out a month's budget again; while it runs, what they stand at is
//! kept in `<state>/aigw-budgets.json` for `gatewayd aigw budgets`.
//!
//! Never: hold the start for long (each query has a deadline; a ClickHouse that does not
//! answer leaves the counters at zero, said in a warning), or query per call.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use aigw::budget::{now_secs, rebuild, view, Governor};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long the rebuild may take in all.
const REBUILD_DEADLINE: Duration = Duration::from_secs(15);

/// Seeds `governor`'s budgets with the spend `ai_requests` holds for their current windows.
pub async fn rebuild(governor: &Governor, clickhouse: &config::ClickHouseConfig) {
    let client = report::ClickHouseHttp::reader(clickhouse);
    let now = now_secs();
    let work = async {
        let mut seeded = 0;
        for (rule, sql) in rebuild::queries(governor, now) {
            let answer = client.query(&sql, &[]).await?;
            seeded += rebuild::seed(governor, rule, &answer.rows, now);
        }
        Ok::<_, report::QueryError>(seeded)
    };
    match tokio::time::timeout(REBUILD_DEADLINE, work).await {
        Ok(Ok(seeded)) => {
            tracing::info!(counters = seeded, "aigw: budgets rebuilt from ai_requests")
        }
        Ok(Err(error)) => {
            tracing::warn!(%error, "aigw: budgets could not be rebuilt from ai_requests; they start from zero")
        }
        Err(_) => tracing::warn!(
            "aigw: rebuilding budgets from ai_requests took over 15 s; they start from zero"
        ),
    }
}

/// Keeps `<state>/aigw-budgets.json` up to date every 2 s until shutdown.
pub fn keep_file(
    governor: Arc<Governor>,
    state_dir: &Path,
    tasks: &TaskTracker,
    stop: CancellationToken,
) {
    tasks.spawn(view::keep_file(
        governor,
        state_dir.to_path_buf(),
        Duration::from_secs(2),
        stop,
    ));
}
