//! Sending messages the way `apps-script/Delivery.js` does: queue, send in order, keep what
//! must be retried, write returned keys.
//!
//! Consumes message bodies and the webhook target; produces one [`DeliveryReport`] per POST
//! (status and body of the webhook's answer) and the keys written back. Guarantees, as the
//! script: every body is queued first and the queue is sent oldest first under one lock; a
//! network error, 408, 429 or 5xx keeps that delivery and everything behind it for
//! [`Outbox::retry`] (same body and delivery id, re-signed with a fresh timestamp); a 200 or any
//! other answer removes it; a body over 100,000 UTF-16 units is not queued but sent once.
//! One difference: the script's edit-time lock waits 5 s and then leaves the queue to the next
//! trigger; the emulator does the same, so a caller may see its delivery still queued when
//! another person call is sending.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::js_json::Js;
use super::keys::{write_inserted_keys, KeyWritten};
use super::signing::{
    now_milliseconds, signature, timestamp_header, SIGNATURE_HEADER, TIMESTAMP_HEADER,
};
use super::WebhookTarget;
use crate::api::Store;

/// Script properties hold about 500 KB; one delivery may take a fifth.
const MAX_QUEUED_BODY_UNITS: usize = 100_000;
const EDIT_FLUSH_BUDGET: Duration = Duration::from_secs(20);
const RETRY_FLUSH_BUDGET: Duration = Duration::from_secs(240);
const EDIT_LOCK_WAIT: Duration = Duration::from_secs(5);
const RETRY_LOCK_WAIT: Duration = Duration::from_secs(1);
/// How long one POST may take (UrlFetchApp gives up after about a minute).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What became of one POST.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryOutcome {
    /// 200: done; returned keys were written.
    Answered,
    /// Network error, 408, 429 or 5xx: stays queued for [`Outbox::retry`].
    KeptForRetry,
    /// Another answer: the service refused it for good; not retried.
    Refused,
    /// A body too big to queue that did not get a 200: gone, as in the script.
    Lost,
}

/// One POST to the webhook and its answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeliveryReport {
    pub delivery_id: String,
    pub kind: String,
    /// The body exactly as signed and sent.
    pub request_body: String,
    pub timestamp: String,
    pub signature: String,
    /// The webhook's HTTP status; 0 when the request did not complete.
    pub status: u16,
    /// The webhook's answer body (or why the request failed, when `status` is 0).
    pub body: String,
    pub outcome: DeliveryOutcome,
}

impl DeliveryReport {
    /// The answer body as JSON, when it is JSON.
    pub fn answer(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.body).ok()
    }
}

/// Everything a person call caused on the webhook side.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Outcome {
    /// The delivery ids of the messages this call's events produced, in order.
    pub delivery_ids: Vec<String>,
    /// Every POST made during the call, in order (older queued deliveries go first).
    pub deliveries: Vec<DeliveryReport>,
    /// Keys the webhook returned for new rows, written into their key cells.
    pub keys_written: Vec<KeyWritten>,
    /// What the script would have logged: why an event produced no message, a returned key
    /// that was not written because its row changed meanwhile.
    pub log: Vec<String>,
    /// Deliveries waiting for a retry after the call.
    pub queued: usize,
}

impl Outcome {
    pub fn absorb(&mut self, other: Outcome) {
        self.delivery_ids.extend(other.delivery_ids);
        self.deliveries.extend(other.deliveries);
        self.keys_written.extend(other.keys_written);
        self.log.extend(other.log);
        self.queued = other.queued;
    }
}

/// A queued delivery, as `Delivery.js` keeps it in script properties.
#[derive(Debug, Clone, Serialize)]
pub struct Queued {
    #[serde(skip)]
    sequence: u64,
    pub delivery_id: String,
    pub kind: String,
    #[serde(skip)]
    body: String,
}

#[derive(Default)]
struct Queue {
    entries: VecDeque<Queued>,
    next_sequence: u64,
}

/// The queue, the sending lock and the HTTP client.
#[derive(Default)]
pub struct Outbox {
    queue: Mutex<Queue>,
    sending: tokio::sync::Mutex<()>,
    client: OnceLock<Result<reqwest::Client, String>>,
}

struct Answer {
    status: u16,
    text: String,
}

impl Outbox {
    /// `deliver_`: queue the messages, then send the queue if no other call is sending it.
    pub async fn deliver(
        &self,
        store: &Store,
        target: &WebhookTarget,
        messages: Vec<Js>,
        outcome: &mut Outcome,
    ) {
        let mut unqueued = Vec::new();
        for message in messages {
            let delivery_id = text_field(&message, "delivery_id");
            let kind = text_field(&message, "kind");
            outcome.delivery_ids.push(delivery_id.clone());
            let body = message.stringify();
            if body.encode_utf16().count() > MAX_QUEUED_BODY_UNITS {
                unqueued.push((delivery_id, kind, body));
                continue;
            }
            let mut queue = self.lock_queue();
            let sequence = queue.next_sequence;
            queue.next_sequence += 1;
            queue.entries.push_back(Queued {
                sequence,
                delivery_id,
                kind,
                body,
            });
        }
        if let Ok(_sending) = tokio::time::timeout(EDIT_LOCK_WAIT, self.sending.lock()).await {
            self.flush(store, target, EDIT_FLUSH_BUDGET, outcome).await;
        }
        for (delivery_id, kind, body) in unqueued {
            let report = self.post(target, delivery_id, kind, body).await;
            let delivered = report.status == 200;
            let report = DeliveryReport {
                outcome: if delivered {
                    DeliveryOutcome::Answered
                } else {
                    DeliveryOutcome::Lost
                },
                ..report
            };
            if delivered {
                write_keys(store, &report, outcome);
            }
            outcome.deliveries.push(report);
        }
        outcome.queued = self.queued().len();
    }

    /// `retryQueuedDeliveries`: send what is queued, unless another call is sending it.
    pub async fn retry(&self, store: &Store, target: &WebhookTarget) -> Outcome {
        let mut outcome = Outcome::default();
        if let Ok(_sending) = tokio::time::timeout(RETRY_LOCK_WAIT, self.sending.lock()).await {
            self.flush(store, target, RETRY_FLUSH_BUDGET, &mut outcome)
                .await;
        }
        outcome.queued = self.queued().len();
        outcome
    }

    /// Deliveries waiting for a retry, oldest first.
    pub fn queued(&self) -> Vec<Queued> {
        self.lock_queue().entries.iter().cloned().collect()
    }

    /// `flushQueue_`: oldest first; stop at the first delivery that must be retried.
    async fn flush(
        &self,
        store: &Store,
        target: &WebhookTarget,
        budget: Duration,
        outcome: &mut Outcome,
    ) {
        let deadline = Instant::now() + budget;
        let entries = self.queued();
        for entry in entries {
            if Instant::now() >= deadline {
                return;
            }
            let report = self
                .post(target, entry.delivery_id, entry.kind, entry.body)
                .await;
            if is_retryable(report.status) {
                outcome.deliveries.push(DeliveryReport {
                    outcome: DeliveryOutcome::KeptForRetry,
                    ..report
                });
                return;
            }
            let report = if report.status == 200 {
                write_keys(store, &report, outcome);
                DeliveryReport {
                    outcome: DeliveryOutcome::Answered,
                    ..report
                }
            } else {
                DeliveryReport {
                    outcome: DeliveryOutcome::Refused,
                    ..report
                }
            };
            outcome.deliveries.push(report);
            self.lock_queue()
                .entries
                .retain(|queued| queued.sequence != entry.sequence);
        }
    }

    /// `post_`: sign now and POST; status 0 when the request did not complete.
    async fn post(
        &self,
        target: &WebhookTarget,
        delivery_id: String,
        kind: String,
        body: String,
    ) -> DeliveryReport {
        let timestamp = timestamp_header(now_milliseconds());
        let signature = signature(&target.secret, &timestamp, &body);
        let answer = match self.client() {
            Ok(client) => {
                let request = client
                    .post(&target.url)
                    .header("Content-Type", "application/json")
                    .header(TIMESTAMP_HEADER, &timestamp)
                    .header(SIGNATURE_HEADER, &signature)
                    .body(body.clone());
                match request.send().await {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        match response.text().await {
                            Ok(text) => Answer { status, text },
                            Err(error) => Answer {
                                status: 0,
                                text: format!("reading the answer failed: {error}"),
                            },
                        }
                    }
                    Err(error) => Answer {
                        status: 0,
                        text: format!("request to {} failed: {error}", target.url),
                    },
                }
            }
            Err(error) => Answer {
                status: 0,
                text: error,
            },
        };
        DeliveryReport {
            delivery_id,
            kind,
            request_body: body,
            timestamp,
            signature,
            status: answer.status,
            body: answer.text,
            outcome: DeliveryOutcome::Answered,
        }
    }

    fn client(&self) -> Result<&reqwest::Client, String> {
        self.client
            .get_or_init(|| {
                // reqwest is built without a default TLS provider; ring is the tree's one.
                let _ = rustls::crypto::ring::default_provider().install_default();
                reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .timeout(REQUEST_TIMEOUT)
                    .user_agent("Mozilla/5.0 (compatible; Google-Apps-Script; sheets-emulator)")
                    .build()
                    .map_err(|error| format!("cannot build the HTTP client: {error}"))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// A panic elsewhere must not wedge the person for the next test; the queue is a list.
    fn lock_queue(&self) -> MutexGuard<'_, Queue> {
        self.queue
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// `isRetryable_`: the script keeps these for the one-minute retry trigger.
pub fn is_retryable(status: u16) -> bool {
    status == 0 || status == 408 || status == 429 || status >= 500
}

fn write_keys(store: &Store, report: &DeliveryReport, outcome: &mut Outcome) {
    match write_inserted_keys(store, &report.request_body, &report.body) {
        Ok(write_back) => {
            outcome.keys_written.extend(write_back.written);
            outcome.log.extend(write_back.warnings);
        }
        Err(reason) => outcome
            .log
            .push(format!("could not write returned keys: {reason}")),
    }
}

fn text_field(message: &Js, field: &str) -> String {
    match message.get(field) {
        Some(Js::Text(text)) => text.clone(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_statuses_are_the_scripts() {
        let table = [
            (0, true),
            (200, false),
            (302, false),
            (400, false),
            (401, false),
            (408, true),
            (413, false),
            (422, false),
            (429, true),
            (500, true),
            (503, true),
        ];
        for (status, retryable) in table {
            assert_eq!(is_retryable(status), retryable, "{status}");
        }
    }
}
