//! STUB (replaced by the control-plane work): request log, latency, auth check, quota, faults.
use axum::Router;

use crate::SharedState;

#[derive(Default)]
pub struct Control {}

pub fn wrap(api: Router<SharedState>, _state: SharedState) -> Router<SharedState> {
    api
}

pub fn admin_routes() -> Router<SharedState> {
    Router::new()
}
