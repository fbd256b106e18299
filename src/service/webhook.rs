//! The webhook side of `sheetsync run`: the MySQL apply behind the signed `POST /webhook`, and
//! the hooks that tie it (and reconcile) to the pipeline — write-backs to the writers, the row
//! clock for last-write-wins, the structure notifier, the echo filter's origin, and one shared
//! Sheets client (one quota for both directions).
//!
//! Runs only while this process holds the lease, so edits are applied by the writer alone.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::ServiceError;
use crate::apply::cells::SheetDisplay;
use crate::apply::clock::RowClock;
use crate::apply::{ApplyOptions, MysqlApply};
use crate::cell::CellOptions;
use crate::config::Config;
use crate::sheets::{ClientOptions, SheetsClient};
use crate::sync::pipeline::Extensions;
use crate::sync::WriteBack;
use crate::webhook::router::serve;
use crate::webhook::WebhookState;

/// Rows whose last binlog commit time is remembered for last-write-wins: the 200,000 most
/// recently changed (~7 MB); an older row's database time counts as unknown (the sheet wins).
const ROW_CLOCK_CAPACITY: usize = crate::apply::clock::DEFAULT_ROW_CLOCK_CAPACITY;
/// Write-backs waiting for the writers.
const WRITE_BACK_CAPACITY: usize = 1_024;

/// The origin this deployment's echo markers carry.
pub fn origin(config: &Config) -> String {
    format!("sheetsync-{}", config.mysql.server_id)
}

/// What writes into the sheet through the pipeline's writers, and into MySQL with the echo
/// marker: shared by the webhook's apply and by reconcile.
#[derive(Clone)]
pub struct Hooks {
    pub pool: mysql_async::Pool,
    pub client: Arc<SheetsClient>,
    pub cells: CellOptions,
    pub origin: String,
    pub write_back: mpsc::Sender<WriteBack>,
    pub row_clock: RowClock,
}

impl Hooks {
    pub fn display(&self) -> SheetDisplay {
        SheetDisplay::from_options(&self.cells)
    }
}

/// Creates the hooks and plugs their other ends into `extensions` (client, echo origin,
/// write-back receiver, row clock).
pub async fn hooks(config: &Config, extensions: &mut Extensions) -> Result<Hooks, ServiceError> {
    let client = Arc::new(
        SheetsClient::new(&config.google, ClientOptions::from_config(&config.sync))
            .await
            .map_err(|error| ServiceError::Webhook(format!("sheets client: {error}")))?,
    );
    let cells = CellOptions::from_config(&config.sync)
        .map_err(|error| ServiceError::Webhook(error.to_string()))?;
    extensions.client = Some(client.clone());
    extensions.echo_origin = Some(origin(config));
    let (write_back, write_back_receiver) = mpsc::channel(WRITE_BACK_CAPACITY);
    extensions.write_back = Some(write_back_receiver);
    let row_clock = RowClock::new(ROW_CLOCK_CAPACITY);
    let clock = row_clock.clone();
    extensions.row_clock = Some(Box::new(move |mapping, key, seconds| {
        clock.record(mapping, key, i64::from(seconds));
    }));
    let clock = row_clock.clone();
    extensions.tab_rewrite = Some(Box::new(move |mapping, finished| match finished {
        None => clock.rewrite_started(mapping),
        Some(at) => clock.rewrite_finished(mapping, at),
    }));
    // Session settings once per connection, statements prepared once per connection.
    let pool = crate::apply::session::pool(config.mysql.url.expose())
        .map_err(|error| ServiceError::Webhook(error.to_string()))?;
    Ok(Hooks {
        pool,
        client,
        cells,
        origin: origin(config),
        write_back,
        row_clock,
    })
}

/// sheetsync's own tables (echo marker, conflicts, deliveries): created when missing, so a first
/// start works with the grants in mysql-conf/grants.sql; nothing runs if they exist.
pub async fn ensure_schema(pool: &mysql_async::Pool) -> Result<(), ServiceError> {
    crate::apply::schema::ensure(pool).await.map_err(|error| {
        ServiceError::Webhook(format!(
            "the `sheetsync` schema (mysql-conf/schema.sql) is missing and cannot be created: {error}"
        ))
    })
}

/// Starts the webhook listener when a secret is configured (without one there is no Sheets →
/// MySQL direction: a warning says so). The listener stops when `stop` fires.
pub async fn start(
    config: &Config,
    extensions: &Extensions,
    hooks: &Hooks,
    stop: CancellationToken,
) -> Result<Option<JoinHandle<()>>, ServiceError> {
    let secret = config
        .webhook_secret()
        .map_err(|error| ServiceError::Webhook(error.to_string()))?;
    let Some(secret) = secret else {
        tracing::warn!("no webhook secret configured (webhook.secret, webhook.secret_file or SHEETSYNC_WEBHOOK_SECRET): sheet edits are not applied to MySQL");
        return Ok(None);
    };
    ensure_schema(&hooks.pool).await?;
    let apply = MysqlApply::new(
        hooks.pool.clone(),
        &config.mappings,
        ApplyOptions {
            origin: hooks.origin.clone(),
            write_back: hooks.write_back.clone(),
            structure: extensions.notifier.clone(),
            row_clock: hooks.row_clock.clone(),
            sheets: Some(hooks.client.clone()),
            cells: hooks.cells.clone(),
        },
    )
    .await
    .map_err(|error| ServiceError::Webhook(format!("applying edits to MySQL: {error}")))?;
    let state = WebhookState::new(secret, &config.mappings, Arc::new(apply))
        .with_previous_secret(config.webhook.previous_secret.clone());
    let listener = tokio::net::TcpListener::bind(config.webhook.listen)
        .await
        .map_err(|error| {
            ServiceError::Webhook(format!(
                "cannot listen on webhook.listen = {}: {error}",
                config.webhook.listen
            ))
        })?;
    let address = listener.local_addr().ok();
    tracing::info!(address = ?address, "webhook listener");
    Ok(Some(tokio::spawn(async move {
        if let Err(error) = serve(listener, state, stop).await {
            tracing::error!(%error, "webhook listener failed");
        }
    })))
}
