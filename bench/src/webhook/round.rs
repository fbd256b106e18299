//! One level of the `webhook` benchmark: both sides measured several times, alternating
//! (baseline, webhook, baseline, webhook, …), each time on rows of its own after a warm-up and
//! with MariaDB idle; each side's round of median rate stands for the level. A single round
//! of each moved by up to a third between runs on this shared two-CPU machine (InnoDB's
//! background work after the previous round, neighbours on the host); the median of several
//! is what a repeat of the run reproduces.

use anyhow::Context as _;

use super::http::connect;
use super::load::{
    direct_updates, on_client_thread, send_all, server_counters, settle, signed_messages,
    CpuSeconds, Run,
};
use super::WARM_UP;

/// Rounds per level (odd, so the median is a measured round).
pub const ROUNDS: usize = 5;

/// One side's measured round.
pub struct Measurement {
    pub run: Run,
    pub cpu: CpuSeconds,
    /// Server command counters per message (the webhook's rounds only).
    pub per_message: Vec<String>,
}

/// Where and how much one level sends.
pub struct Setup {
    pub concurrency: usize,
    pub messages: usize,
    pub webhook_url: String,
    pub database_url: String,
    pub mariadbd: u32,
}

/// Both sides' median rounds at one level; `first_row(round)` gives each round's rows.
pub async fn measure_level(
    setup: &Setup,
    first_row: impl Fn(usize) -> usize,
) -> anyhow::Result<(Measurement, Measurement)> {
    let mut baseline = Vec::with_capacity(ROUNDS);
    let mut webhook = Vec::with_capacity(ROUNDS);
    for round in 0..ROUNDS {
        let first = first_row(round);
        baseline.push(baseline_round(setup, first).await?);
        webhook.push(webhook_round(setup, first).await?);
    }
    Ok((median(baseline)?, median(webhook)?))
}

fn median(mut rounds: Vec<Measurement>) -> anyhow::Result<Measurement> {
    rounds.sort_by(|left, right| left.run.rate().total_cmp(&right.run.rate()));
    let middle = rounds.len() / 2;
    rounds.into_iter().nth(middle).context("no round measured")
}

/// `UPDATE direct SET v = ? WHERE id = ?` on rows `first..`, from a client thread of its own.
async fn baseline_round(setup: &Setup, first: usize) -> anyhow::Result<Measurement> {
    let (database_url, concurrency, messages, mariadbd) = (
        setup.database_url.clone(),
        setup.concurrency,
        setup.messages,
        setup.mariadbd,
    );
    on_client_thread(move || async move {
        let pool = mysql_async::Pool::new(database_url.as_str());
        direct_updates(&pool, first, WARM_UP, concurrency).await?;
        settle(mariadbd).await;
        let before = CpuSeconds::of(mariadbd);
        let run = direct_updates(&pool, first + WARM_UP, messages, concurrency).await?;
        let cpu = CpuSeconds::of(mariadbd).since(&before);
        let _ = pool.disconnect().await;
        Ok(Measurement {
            run,
            cpu,
            per_message: Vec::new(),
        })
    })
    .await
}

/// Signed edit messages for rows `first..` over HTTP, from a client thread of its own.
async fn webhook_round(setup: &Setup, first: usize) -> anyhow::Result<Measurement> {
    let warm_up = signed_messages(first, WARM_UP);
    let bodies = signed_messages(first + WARM_UP, setup.messages);
    let (url, database_url, concurrency, messages, mariadbd) = (
        setup.webhook_url.clone(),
        setup.database_url.clone(),
        setup.concurrency,
        setup.messages,
        setup.mariadbd,
    );
    on_client_thread(move || async move {
        let connections = connect(&url, concurrency).await?;
        let (_, connections) = send_all(connections, &url, warm_up).await?;
        settle(mariadbd).await;
        let counters_before = server_counters(&database_url).await?;
        let before = CpuSeconds::of(mariadbd);
        let (run, _) = send_all(connections, &url, bodies).await?;
        let cpu = CpuSeconds::of(mariadbd).since(&before);
        let counters_after = server_counters(&database_url).await?;
        let per_message = counters_after
            .iter()
            .map(|(name, after)| {
                let before = counters_before.get(name).copied().unwrap_or_default();
                let count = after.saturating_sub(before) as f64 / messages as f64;
                format!("{name} {count:.2}")
            })
            .collect();
        Ok(Measurement {
            run,
            cpu,
            per_message,
        })
    })
    .await
}
