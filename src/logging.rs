//! Log output: human-readable text or one JSON object per line (`logging.format`), on standard
//! error, filtered by `RUST_LOG` (default `info`).
//!
//! Consumes the configured [`LogFormat`]; produces the process-wide `tracing` subscriber.
//! Guarantees: nothing is written to standard output (it belongs to command results such as
//! `sheetsync check`'s report); secrets cannot appear because the config's secret types print
//! `[redacted]` in both `Debug` and `Display` (a test logs a whole config and greps for them).

pub use crate::config::LogFormat;

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

/// The filter when `RUST_LOG` is unset or unparsable.
const DEFAULT_FILTER: &str = "info";

/// Install the process-wide subscriber. A second call changes nothing (the first one wins),
/// so tests and embedding programs may call it freely.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| DEFAULT_FILTER.into());
    let _ = tracing::subscriber::set_global_default(subscriber(format, filter, std::io::stderr));
}

/// The subscriber [`init`] installs, writing to `writer` (tests capture it).
pub fn subscriber<W>(
    format: LogFormat,
    filter: EnvFilter,
    writer: W,
) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match format {
        LogFormat::Text => Box::new(builder.finish()),
        LogFormat::Json => Box::new(
            builder
                .json()
                .flatten_event(true)
                .with_current_span(false)
                .finish(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::config::Config;

    /// Captured log output.
    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl Write for Capture {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("lock").extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'writer> MakeWriter<'writer> for Capture {
        type Writer = Capture;
        fn make_writer(&'writer self) -> Self::Writer {
            self.clone()
        }
    }

    const CONFIG: &str = r#"
[mysql]
url = "mysql://sheetsync:db-password-4711@127.0.0.1:3306"
server_id = 7001
[webhook]
secret = "webhook-secret-0815"
[logging]
format = "json"
"#;

    fn logged(format: LogFormat, log: impl FnOnce()) -> String {
        let capture = Capture::default();
        let subscriber = subscriber(format, EnvFilter::new("debug"), capture.clone());
        tracing::subscriber::with_default(subscriber, log);
        let bytes = capture.0.lock().expect("lock").clone();
        String::from_utf8(bytes).expect("utf-8")
    }

    #[test]
    fn a_config_logged_at_debug_in_json_holds_no_secret() {
        let config = Config::from_toml(CONFIG).expect("valid");
        assert_eq!(config.logging.format, LogFormat::Json);
        let output = logged(LogFormat::Json, || {
            tracing::debug!(?config, url = %config.mysql.url, "configuration loaded");
        });
        let line = output.lines().next().expect("one line");
        let event: serde_json::Value = serde_json::from_str(line).expect("a JSON object per line");
        assert_eq!(event["level"], "DEBUG");
        assert_eq!(event["message"], "configuration loaded");
        assert!(event["config"]
            .as_str()
            .expect("config field")
            .contains("[redacted]"));
        assert!(
            output.contains("mysql://sheetsync:***@127.0.0.1:3306"),
            "{output}"
        );
        for secret in ["db-password-4711", "webhook-secret-0815"] {
            assert!(!output.contains(secret), "{secret} leaked: {output}");
        }
    }

    #[test]
    fn text_format_is_not_json_and_redacts_too() {
        let config = Config::from_toml(CONFIG).expect("valid");
        let output = logged(LogFormat::Text, || tracing::info!(?config, "loaded"));
        assert!(output.contains("loaded") && !output.trim_start().starts_with('{'));
        assert!(!output.contains("db-password-4711") && !output.contains("webhook-secret-0815"));
    }

    #[test]
    fn the_filter_applies() {
        let capture = Capture::default();
        let subscriber = subscriber(LogFormat::Json, EnvFilter::new("warn"), capture.clone());
        tracing::subscriber::with_default(subscriber, || tracing::info!("hidden"));
        assert!(capture.0.lock().expect("lock").is_empty());
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment::Jail closures return figment::Error, large by design.
    fn the_format_defaults_to_text_and_comes_from_the_environment() {
        let minimal = "[mysql]\nurl = \"mysql://u:p@h:1\"\nserver_id = 1\n";
        assert_eq!(
            Config::from_toml(minimal).expect("valid").logging.format,
            LogFormat::Text
        );
        figment::Jail::expect_with(|jail| {
            jail.create_file("sheetsync.toml", minimal)?;
            jail.set_env("SHEETSYNC_LOGGING_FORMAT", "json");
            let config = Config::load(std::path::Path::new("sheetsync.toml")).expect("valid");
            assert_eq!(config.logging.format, LogFormat::Json);
            Ok(())
        });
        let error = Config::from_toml(&format!("{minimal}[logging]\nformat = \"xml\"\n"))
            .expect_err("unknown format");
        assert!(error.to_string().contains("logging.format"), "{error}");
    }
}
