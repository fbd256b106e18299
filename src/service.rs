//! `sheetsync run`: the whole service in one place — admin listener (metrics, probes, status
//! page), the lease that makes one of several processes the writer, the webhook listener, and
//! the MySQL → Sheets pipeline.
//!
//! Consumes the config and a shutdown token; runs until the token fires (SIGTERM, Ctrl-C).
//! With `sync.reconcile_interval_seconds`, the lease holder also reconciles each tab with its
//! table periodically ([`reconcile`], which also runs `sheetsync reconcile`).
//! Guarantees: only the lease holder streams and applies edits (never two writers); losing the
//! lease stops the pipeline at once and competes again; a graceful shutdown flushes, stores the
//! position and releases the lease so a standby takes over without waiting.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::admin::{self, AdminError};
use crate::config::Config;
use crate::lease::{self, LeaseError};
use crate::status::Status;
use crate::sync::pipeline::{self, Extensions, PipelineError, RunOptions};

pub mod reconcile;
mod webhook;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Admin(#[from] AdminError),
    #[error(transparent)]
    Lease(#[from] LeaseError),
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    #[error("webhook listener: {0}")]
    Webhook(String),
    /// `sheetsync reconcile` could not start (Sheets client, `sync.time_zone`).
    #[error("reconcile: {0}")]
    Reconcile(String),
}

impl ServiceError {
    /// The exit code: 2 when the configuration cannot work (a port taken, bad credentials), 1
    /// for a failure while running.
    pub fn exit_code(&self) -> u8 {
        match self {
            ServiceError::Admin(AdminError::Bind { .. })
            | ServiceError::Webhook(_)
            | ServiceError::Reconcile(_) => 2,
            ServiceError::Lease(error) if !error.is_transient() => 2,
            _ => 1,
        }
    }
}

/// Runs the service until `shutdown`.
pub async fn run(
    config: Config,
    options: RunOptions,
    shutdown: CancellationToken,
) -> Result<(), ServiceError> {
    let status = Status::for_config(&config);
    let admin = admin::start(config.metrics.listen, status.clone(), shutdown.clone()).await?;
    tracing::info!(address = %admin.address, "admin listener (metrics, probes, status page)");
    match admin::retention::binlog_expiry(&config.mysql.url).await {
        Ok(expiry) => status.set_binlog_expiry(expiry),
        Err(error) => tracing::warn!(%error, "binlog retention unknown"),
    }
    let lease_name = lease::lease_name(&config);
    let result = loop {
        let guard = match lease::acquire(&config.mysql.url, &lease_name, &shutdown, &status).await {
            Ok(guard) => guard,
            Err(LeaseError::Cancelled) => break Ok(()),
            Err(error) => break Err(error.into()),
        };
        tracing::info!(lease = %lease_name, "lease held: this process writes");
        let writing = guard.writing();
        let mut extensions = Extensions {
            status: Some(status.clone()),
            ..Extensions::default()
        };
        let hooks = match webhook::hooks(&config, &mut extensions).await {
            Ok(hooks) => hooks,
            Err(error) => {
                guard.release().await;
                break Err(error);
            }
        };
        let webhook = match webhook::start(&config, &extensions, &hooks, writing.clone()).await {
            Ok(webhook) => webhook,
            Err(error) => {
                guard.release().await;
                break Err(error);
            }
        };
        let periodic =
            reconcile::spawn_periodic(&config, hooks.clone(), status.clone(), writing.clone());
        let run_options = RunOptions {
            snapshot: options.snapshot.clone(),
            load_only: options.load_only,
            shutdown_timeout: options.shutdown_timeout,
            heartbeat: options.heartbeat,
        };
        let outcome = pipeline::run(&config, run_options, extensions, writing.clone()).await;
        writing.cancel();
        if let Some(task) = webhook {
            let _ = task.await;
        }
        if let Some(task) = periodic {
            let _ = task.await;
        }
        drop(hooks);
        if shutdown.is_cancelled() || options.load_only {
            guard.release().await;
            break outcome.map_err(ServiceError::from);
        }
        // After the lease is lost the pipeline's error is its own cancellation (a Sheets call
        // or a statement cut short): not a reason to exit, the process competes again.
        let lease_lost = guard.lost().is_cancelled();
        match outcome {
            Err(error) if !lease_lost => {
                guard.release().await;
                break Err(error.into());
            }
            Err(error) => tracing::info!(%error, "pipeline stopped by the lost lease"),
            Ok(()) => {}
        }
        tracing::warn!("lease lost: stopped writing; competing for it again");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    shutdown.cancel();
    let _ = admin.task.await;
    result
}
