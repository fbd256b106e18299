//! Read or write: which per-minute quota a call counts against, and which faults apply to it.

use axum::http::Method;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RequestClass {
    Read,
    Write,
}

/// POST methods that only read, by the end of their path (the custom-method suffix).
const READING_POSTS: [&str; 3] = [":search", ":batchGetByDataFilter", ":getByDataFilter"];

impl RequestClass {
    /// GET (and HEAD) read; `developerMetadata:search`, `values:batchGetByDataFilter` and
    /// `spreadsheets:getByDataFilter` read although they are POSTs; everything else writes.
    pub fn of(method: &Method, path: &str) -> RequestClass {
        if method == Method::GET || method == Method::HEAD {
            return RequestClass::Read;
        }
        if method == Method::POST && READING_POSTS.iter().any(|suffix| path.ends_with(suffix)) {
            return RequestClass::Read;
        }
        RequestClass::Write
    }
}

/// Which calls a fault or a latency applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClassFilter {
    Read,
    Write,
    #[default]
    All,
}

impl ClassFilter {
    pub fn matches(self, class: RequestClass) -> bool {
        match self {
            ClassFilter::All => true,
            ClassFilter::Read => class == RequestClass::Read,
            ClassFilter::Write => class == RequestClass::Write,
        }
    }
}
