//! `SheetsClient`: the Sheets v4 calls sheetsync makes, each counted against the service
//! account's read or write budget before it is sent and retried by [`super::send`].
//!
//! Reads use `UNFORMATTED_VALUE` + `SERIAL_NUMBER`: numbers (and dates, as serial numbers)
//! come back as numbers, booleans as booleans, text as text, whatever the cell's format or the
//! spreadsheet's locale.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, Url};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::auth::{install_crypto_provider, tls_config, TokenSource};
use super::error::SheetsError;
use super::model::{DataFilter, Request};
use super::quota::{AccountQuota, QuotaSettings};
use super::responses::{
    BatchGetValuesResponse, BatchUpdateRequestBody, BatchUpdateResponse, MatchedDeveloperMetadata,
    SearchDeveloperMetadataResponse, Spreadsheet, ValueRange,
};
use super::retry::RetryPolicy;
use super::send::{Call, RequestKind};
use crate::config::GoogleConfig;

/// The `fields` mask sheetsync reads a spreadsheet's layout with.
pub const LAYOUT_FIELDS: &str = "spreadsheetId,properties(title,locale,timeZone),sheets.properties(sheetId,title,index,sheetType,gridProperties(rowCount,columnCount,frozenRowCount))";

/// How the client behaves; the defaults are production values.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub quota: QuotaSettings,
    pub retry: RetryPolicy,
    /// TCP + TLS connect.
    pub connect_timeout: Duration,
    /// A whole request. Google stops processing after 180 s; a little more lets its own
    /// timeout error arrive instead of ours.
    pub request_timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            quota: QuotaSettings::default(),
            retry: RetryPolicy::default(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(190),
        }
    }
}

impl ClientOptions {
    /// Production defaults with the quotas of `[sync]`.
    pub fn from_config(sync: &crate::config::SyncConfig) -> Self {
        Self {
            quota: QuotaSettings::from_config(sync),
            ..Self::default()
        }
    }
}

/// A Sheets API client for one service account. Cheap to clone; clones share the HTTP
/// connection pool, the token cache, the quota budgets and the counters.
#[derive(Debug, Clone)]
pub struct SheetsClient {
    pub(super) http: reqwest::Client,
    pub(super) tokens: TokenSource,
    /// `…/v4/spreadsheets`, under `google.api_base`.
    pub(super) spreadsheets_url: Url,
    pub(super) quota: AccountQuota,
    pub(super) retry: RetryPolicy,
    pub(super) counters: Arc<Counters>,
}

/// What the client has done, for metrics and tests.
#[derive(Debug, Default)]
pub struct Counters {
    /// Requests sent (each attempt counts).
    pub requests: AtomicU64,
    /// Attempts that were followed by a retry.
    pub retries: AtomicU64,
}

impl SheetsClient {
    /// Read the key file named in `google.credentials_file` and build the client. No request
    /// is sent yet; the first call fetches a token.
    pub async fn new(
        google: &GoogleConfig,
        options: ClientOptions,
    ) -> Result<SheetsClient, SheetsError> {
        install_crypto_provider();
        let key_file = google
            .credentials_file
            .as_deref()
            .ok_or_else(|| SheetsError::Config("google.credentials_file is not set".to_string()))?;
        let spreadsheets_url = spreadsheets_url(&google.api_base)?;
        let tls = tls_config()?;
        let tokens =
            TokenSource::from_key_file(key_file, tls.clone(), options.request_timeout).await?;
        let mut api_tls = tls;
        api_tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(api_tls)
            .connect_timeout(options.connect_timeout)
            .timeout(options.request_timeout)
            .user_agent(concat!("sheetsync/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| SheetsError::Config(format!("http client: {error}")))?;
        Ok(SheetsClient {
            http,
            tokens,
            spreadsheets_url,
            quota: AccountQuota::new(options.quota),
            retry: options.retry,
            counters: Arc::new(Counters::default()),
        })
    }

    /// The service account the calls run as.
    pub fn client_email(&self) -> &str {
        self.tokens.client_email()
    }

    /// The read and write budgets (the coalescer asks `writes.try_acquire()`).
    pub fn quota(&self) -> &AccountQuota {
        &self.quota
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Retries made so far by all calls of this client (and its clones).
    pub fn retries_total(&self) -> u64 {
        self.counters.retries.load(Ordering::Relaxed)
    }

    /// Fetch an access token now (for `check` and `/readyz`: "Sheets token ok").
    pub async fn check_token(&self) -> Result<(), SheetsError> {
        self.tokens.token().await.map(|_| ())
    }

    /// `spreadsheets.get` with a `fields` mask ([`LAYOUT_FIELDS`] when `None`).
    pub async fn get_spreadsheet(
        &self,
        spreadsheet_id: &str,
        fields: Option<&str>,
        cancel: &CancellationToken,
    ) -> Result<Spreadsheet, SheetsError> {
        let mut url = self.spreadsheet_url(spreadsheet_id, None);
        url.query_pairs_mut()
            .append_pair("fields", fields.unwrap_or(LAYOUT_FIELDS));
        let call = Call::new(RequestKind::Read, Method::GET, url, None);
        self.send_json(&call, cancel).await
    }

    /// `values.get` of one A1 range (see [`super::a1`]), unformatted, dates as serial numbers.
    pub async fn get_values(
        &self,
        spreadsheet_id: &str,
        range: &str,
        cancel: &CancellationToken,
    ) -> Result<ValueRange, SheetsError> {
        let mut url = self.spreadsheet_url(spreadsheet_id, None);
        push_segments(&mut url, &["values", range]);
        add_render_options(&mut url);
        let call = Call::new(RequestKind::Read, Method::GET, url, None);
        self.send_json(&call, cancel).await
    }

    /// `values.batchGet`: one read for several ranges; answers in the order asked.
    pub async fn batch_get_values(
        &self,
        spreadsheet_id: &str,
        ranges: &[String],
        cancel: &CancellationToken,
    ) -> Result<Vec<ValueRange>, SheetsError> {
        let mut url = self.spreadsheet_url(spreadsheet_id, Some("values:batchGet"));
        for range in ranges {
            url.query_pairs_mut().append_pair("ranges", range);
        }
        add_render_options(&mut url);
        let call = Call::new(RequestKind::Read, Method::GET, url, None);
        let response: BatchGetValuesResponse = self.send_json(&call, cancel).await?;
        Ok(response.value_ranges)
    }

    /// `spreadsheets.batchUpdate`: the requests run in order and Google applies all or none.
    /// The replies are 1:1 with `requests`.
    ///
    /// Retried on transient failures, so a batch whose first attempt got a 503 *after* Google
    /// applied it is applied twice, and a resend lands where the rows are *then*. Only for
    /// batches that stay right whatever happened to the sheet in between (a cell by address the
    /// caller owns, a property). sheetsync's flushes and loads place rows by position, which
    /// people can move between two attempts: they send once ([`SheetsClient::batch_update_once`])
    /// and plan again after a failure.
    pub async fn batch_update(
        &self,
        spreadsheet_id: &str,
        requests: &[Request],
        cancel: &CancellationToken,
    ) -> Result<BatchUpdateResponse, SheetsError> {
        let url = self.spreadsheet_url(spreadsheet_id, Some(":batchUpdate"));
        let body = BatchUpdateRequestBody {
            requests: requests.to_vec(),
        };
        let call = Call::new(RequestKind::Write, Method::POST, url, Some(encode(&body)?));
        self.send_json(&call, cancel).await
    }

    /// `spreadsheets.batchUpdate`, one attempt (after waiting for a write token): the caller
    /// decides what a failure means. The writer uses this because a batch with row deletes is
    /// not idempotent: after an answer that may hide an applied write (5xx, transport), it reads
    /// the checkpoint back to learn whether the batch landed before sending it again.
    pub async fn batch_update_once(
        &self,
        spreadsheet_id: &str,
        requests: &[Request],
        cancel: &CancellationToken,
    ) -> Result<BatchUpdateResponse, SheetsError> {
        let url = self.spreadsheet_url(spreadsheet_id, Some(":batchUpdate"));
        let body = BatchUpdateRequestBody {
            requests: requests.to_vec(),
        };
        let call = Call::new(RequestKind::Write, Method::POST, url, Some(encode(&body)?));
        let body = self.attempt(&call, cancel).await?;
        serde_json::from_slice(&body).map_err(|error| {
            SheetsError::Decode(format!("batchUpdate of {spreadsheet_id}: {error}"))
        })
    }

    /// The retry policy calls of this client follow (for callers that retry themselves).
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// `developerMetadata:search` for every entry with `metadata_key` (counts as a read).
    pub async fn search_developer_metadata(
        &self,
        spreadsheet_id: &str,
        metadata_key: &str,
        cancel: &CancellationToken,
    ) -> Result<Vec<MatchedDeveloperMetadata>, SheetsError> {
        let url = self.spreadsheet_url(spreadsheet_id, Some("developerMetadata:search"));
        let body = json!({ "dataFilters": [DataFilter::metadata_key(metadata_key)] });
        let call = Call::new(RequestKind::Read, Method::POST, url, Some(encode(&body)?));
        let response: SearchDeveloperMetadataResponse = self.send_json(&call, cancel).await?;
        Ok(response.matched_developer_metadata)
    }

    /// `spreadsheets.create` with tabs titled `sheet_titles` (tests and the demo). Not
    /// idempotent: a retried create after a lost answer makes a second spreadsheet.
    pub async fn create_spreadsheet(
        &self,
        title: &str,
        sheet_titles: &[&str],
        cancel: &CancellationToken,
    ) -> Result<Spreadsheet, SheetsError> {
        let sheets: Vec<_> = sheet_titles
            .iter()
            .map(|title| json!({ "properties": { "title": title } }))
            .collect();
        let body = json!({ "properties": { "title": title }, "sheets": sheets });
        let call = Call::new(
            RequestKind::Write,
            Method::POST,
            self.spreadsheets_url.clone(),
            Some(encode(&body)?),
        );
        self.send_json(&call, cancel).await
    }

    /// `…/v4/spreadsheets/{id}` or `…/{id}{suffix}` (`:batchUpdate`) or `…/{id}/{suffix}`.
    fn spreadsheet_url(&self, spreadsheet_id: &str, suffix: Option<&str>) -> Url {
        let mut url = self.spreadsheets_url.clone();
        match suffix {
            Some(verb) if verb.starts_with(':') => {
                let segment = format!("{spreadsheet_id}{verb}");
                push_segments(&mut url, &[segment.as_str()]);
            }
            Some(path) => push_segments(&mut url, &[spreadsheet_id, path]),
            None => push_segments(&mut url, &[spreadsheet_id]),
        }
        url
    }
}

/// `api_base` + `/v4/spreadsheets`, checked once so no call can fail on a bad base URL.
fn spreadsheets_url(api_base: &str) -> Result<Url, SheetsError> {
    let mut url = Url::parse(api_base)
        .map_err(|error| SheetsError::Config(format!("google.api_base {api_base:?}: {error}")))?;
    if url.cannot_be_a_base() || !matches!(url.scheme(), "http" | "https") {
        return Err(SheetsError::Config(format!(
            "google.api_base {api_base:?}: not an http(s) base URL"
        )));
    }
    url.set_query(None);
    url.set_fragment(None);
    push_segments(&mut url, &["v4", "spreadsheets"]);
    Ok(url)
}

/// Append percent-encoded path segments (a range such as `'My Tab'!A:C` is one segment).
fn push_segments(url: &mut Url, segments: &[&str]) {
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
}

fn add_render_options(url: &mut Url) {
    url.query_pairs_mut()
        .append_pair("majorDimension", "ROWS")
        .append_pair("valueRenderOption", "UNFORMATTED_VALUE")
        .append_pair("dateTimeRenderOption", "SERIAL_NUMBER");
}

fn encode<T: serde::Serialize>(body: &T) -> Result<Vec<u8>, SheetsError> {
    serde_json::to_vec(body).map_err(|error| SheetsError::Config(format!("encode body: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        let url = spreadsheets_url("https://sheets.googleapis.com").expect("url");
        assert_eq!(
            url.as_str(),
            "https://sheets.googleapis.com/v4/spreadsheets"
        );
        let url = spreadsheets_url("http://127.0.0.1:4000/").expect("url");
        assert_eq!(url.as_str(), "http://127.0.0.1:4000/v4/spreadsheets");
        let url = spreadsheets_url("http://proxy/sheets/").expect("url");
        assert_eq!(url.as_str(), "http://proxy/sheets/v4/spreadsheets");
        assert!(spreadsheets_url("not a url").is_err());
        assert!(spreadsheets_url("mailto:someone@example.com").is_err());
    }

    #[test]
    fn ranges_are_one_encoded_segment() {
        let mut url = spreadsheets_url("http://h").expect("url");
        push_segments(&mut url, &["id", "values", "'My Tab/x'!A:C"]);
        assert_eq!(
            url.as_str(),
            "http://h/v4/spreadsheets/id/values/'My%20Tab%2Fx'!A:C"
        );
    }
}
