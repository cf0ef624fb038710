//! Structured logs (text or JSON) for the daemon and every crate it runs, and the optional
//! OTLP trace export beside them. Each has its own filter: the log level never decides which
//! spans are exported, and with export off there is no second layer at all.

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use config::{LogConfig, LogFormat, OtlpConfig};

/// Installs the global subscriber and, when `telemetry.otlp` is enabled, starts the exporter
/// (on the current Tokio runtime). Logs go to stderr so that stdout stays for command output.
pub fn init_logging(
    config: &LogConfig,
    otlp: &OtlpConfig,
) -> Result<Option<otlp::ExportHandle>, otlp::StartError> {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&config.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let (export, handle) = match otlp.enabled {
        true => {
            let (layer, handle) = otlp::start(otlp)?;
            (Some(layer.with_filter(otlp::SpanFilter)), Some(handle))
        }
        false => (None, None),
    };
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false);
    let registry = tracing_subscriber::registry().with(export);
    // A second init (tests, reload) keeps the first subscriber.
    let _ = match config.format {
        LogFormat::Text => registry.with(fmt.with_filter(filter)).try_init(),
        LogFormat::Json => registry
            .with(fmt.json().flatten_event(true).with_filter(filter))
            .try_init(),
    };
    Ok(handle)
}
