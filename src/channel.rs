//! A bounded channel that counts bytes as well as messages.
//!
//! Consumes messages with their estimated size in memory; produces them in order on the other
//! side. Guarantees: the messages sent and not yet released weigh at most `byte_budget` (plus
//! the one message larger than the budget, which passes alone), and at most `messages` of them
//! wait in the queue. A message counts until the receiver drops its [`Budgeted`] wrapper (or the
//! [`Release`] taken from it), so a stage can keep a message "in the budget" while working on
//! it.
//!
//! Why: stages exchange whole transactions, whose size ranges from one row to millions. A
//! channel bounded by message count alone holds 64 tiny transactions or 64 huge ones; memory
//! then depends on the workload. With a byte budget the binlog reader waits (the binlog is the
//! queue) once the stages downstream hold their share, however the burst is shaped.

use std::sync::Arc;

use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};

/// The sending half; cheap to clone.
#[derive(Debug)]
pub struct Sender<T> {
    inner: mpsc::Sender<Budgeted<T>>,
    budget: Arc<Semaphore>,
    byte_budget: u32,
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            budget: self.budget.clone(),
            byte_budget: self.byte_budget,
        }
    }
}

/// The receiving half.
#[derive(Debug)]
pub struct Receiver<T> {
    inner: mpsc::Receiver<Budgeted<T>>,
}

/// A received message; its bytes return to the budget when this (or its [`Release`]) drops.
#[derive(Debug)]
pub struct Budgeted<T> {
    message: T,
    release: Release,
}

/// The budget share of a message taken out of its [`Budgeted`] wrapper.
#[derive(Debug)]
pub struct Release {
    /// Held for its drop, which returns the bytes.
    _permit: Option<OwnedSemaphorePermit>,
}

/// The receiver is gone; the message comes back.
#[derive(Debug, PartialEq, Eq)]
pub struct Closed<T>(pub T);

/// A channel of at most `messages` queued messages weighing at most `byte_budget` bytes.
pub fn channel<T>(messages: usize, byte_budget: usize) -> (Sender<T>, Receiver<T>) {
    let byte_budget = u32::try_from(byte_budget.max(1)).unwrap_or(u32::MAX);
    let (inner, receiver) = mpsc::channel(messages.max(1));
    let sender = Sender {
        inner,
        budget: Arc::new(Semaphore::new(byte_budget as usize)),
        byte_budget,
    };
    (sender, Receiver { inner: receiver })
}

impl<T> Sender<T> {
    /// Waits until `bytes` fit in the budget and a queue slot is free, then sends. A message
    /// larger than the whole budget waits for the budget to be whole, then passes alone.
    pub async fn send(&self, message: T, bytes: usize) -> Result<(), Closed<T>> {
        let weight = u32::try_from(bytes)
            .unwrap_or(u32::MAX)
            .min(self.byte_budget);
        let permit = if weight == 0 {
            None
        } else {
            // The semaphore is never closed; if it were, the budget would no longer apply.
            self.budget.clone().acquire_many_owned(weight).await.ok()
        };
        let budgeted = Budgeted {
            message,
            release: Release { _permit: permit },
        };
        self.inner
            .send(budgeted)
            .await
            .map_err(|error| Closed(error.0.message))
    }

    /// Bytes of the budget not held by queued or unreleased messages.
    pub fn available_bytes(&self) -> usize {
        self.budget.available_permits()
    }

    /// True when the receiver is gone.
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }
}

impl<T> Receiver<T> {
    /// The next message, `None` once every sender is gone and the queue is empty.
    pub async fn recv(&mut self) -> Option<Budgeted<T>> {
        self.inner.recv().await
    }

    /// True when no message is waiting.
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }
}

impl<T> Budgeted<T> {
    /// The message, releasing its bytes now.
    pub fn into_inner(self) -> T {
        self.message
    }

    /// The message and its budget share, to release later (when the work on it is done).
    pub fn into_parts(self) -> (T, Release) {
        (self.message, self.release)
    }

    pub fn message(&self) -> &T {
        &self.message
    }
}

impl Release {
    /// A share of nothing (for messages built outside a channel).
    pub fn none() -> Self {
        Release { _permit: None }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_sender_waits_while_the_budget_is_held_and_resumes_when_it_is_released() {
        let (sender, mut receiver) = channel::<u32>(16, 100);
        sender.send(1, 60).await.expect("first");
        assert_eq!(sender.available_bytes(), 40);
        let blocked = tokio::time::timeout(Duration::from_millis(50), sender.send(2, 60)).await;
        assert!(blocked.is_err(), "60 + 60 bytes passed a 100-byte budget");

        let first = receiver.recv().await.expect("message");
        let (value, release) = first.into_parts();
        assert_eq!(value, 1);
        // Received but not released: still counted.
        assert!(
            tokio::time::timeout(Duration::from_millis(50), sender.send(2, 60))
                .await
                .is_err()
        );
        drop(release);
        tokio::time::timeout(Duration::from_secs(1), sender.send(2, 60))
            .await
            .expect("the budget was released")
            .expect("open");
        assert_eq!(receiver.recv().await.map(Budgeted::into_inner), Some(2));
    }

    #[tokio::test]
    async fn a_message_larger_than_the_budget_passes_alone() {
        let (sender, mut receiver) = channel::<&str>(16, 100);
        sender.send("small", 10).await.expect("small");
        let blocked = tokio::time::timeout(Duration::from_millis(50), sender.send("huge", 500));
        assert!(
            blocked.await.is_err(),
            "the huge one must wait for the whole budget"
        );
        assert_eq!(
            receiver.recv().await.map(Budgeted::into_inner),
            Some("small")
        );
        sender.send("huge", 500).await.expect("alone");
        assert_eq!(sender.available_bytes(), 0);
        let huge = receiver.recv().await.expect("huge");
        assert_eq!(*huge.message(), "huge");
        drop(huge);
        assert_eq!(sender.available_bytes(), 100);
    }

    #[tokio::test]
    async fn the_message_count_still_bounds_the_queue() {
        let (sender, mut receiver) = channel::<u8>(2, 1_000);
        sender.send(1, 0).await.expect("one");
        sender.send(2, 0).await.expect("two");
        let blocked = tokio::time::timeout(Duration::from_millis(50), sender.send(3, 0)).await;
        assert!(blocked.is_err(), "a third message fit in a queue of two");
        assert_eq!(receiver.recv().await.map(Budgeted::into_inner), Some(1));
    }

    #[tokio::test]
    async fn sending_to_a_dropped_receiver_returns_the_message() {
        let (sender, receiver) = channel::<String>(2, 100);
        drop(receiver);
        assert!(sender.is_closed());
        assert_eq!(
            sender.send("kept".into(), 10).await,
            Err(Closed("kept".to_string()))
        );
        assert_eq!(
            sender.available_bytes(),
            100,
            "a refused message holds nothing"
        );
    }
}
