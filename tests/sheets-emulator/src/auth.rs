//! STUB (replaced by the control-plane work): service-account JWT grant and bearer tokens.
use axum::Router;

use crate::{EmulatorConfig, SharedState};

pub struct Auth {}

impl Auth {
    pub fn from_config(
        _config: &EmulatorConfig,
        _base_url: &str,
    ) -> anyhow::Result<(Self, Option<std::path::PathBuf>)> {
        Ok((Auth {}, None))
    }
}

pub fn routes() -> Router<SharedState> {
    Router::new()
}
