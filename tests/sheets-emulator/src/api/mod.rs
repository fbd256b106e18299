//! STUB (replaced by the data-plane work): the Sheets v4 API handlers and the in-memory store.
use axum::Router;

use crate::SharedState;

#[derive(Default)]
pub struct Store {}

pub fn routes() -> Router<SharedState> {
    Router::new()
}
