//! The client: every call passform makes to ECS, signed, paced, retried and batched.
//!
//! Every request is a POST to `/` whose parameters (the password and the signature included)
//! travel in the form body, so that no URL ever holds a secret. Reads are retried on any
//! passing fault. Changes are retried only when the service certainly did not act (throttling,
//! `ServiceUnavailable`, a connection that never opened); when an answer is lost after the
//! request may have arrived, a restart is checked by status before it is sent again.
//! ModifyInstanceAttribute sets the same password when repeated, so it is retried like a read.
//! Redirects are never followed, and a plain-http endpoint (always loopback) bypasses any proxy,
//! so that a signed body goes nowhere but the endpoint.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use rand::RngCore;
use reqwest::Url;
use serde::de::DeserializeOwned;
use tokio::task::JoinSet;
use tracing::Instrument;
use zeroize::Zeroizing;

use super::budget::Budget;
use super::credentials::{self, Credentials, Environment};
use super::endpoint::Endpoints;
use super::model::{FleetView, InstanceStatus, LiveInstance, RestartOutcome};
use super::retry::{self, RetryPolicy, Retryable};
use super::wire::{
    self, Acknowledgement, BatchResponse, BatchResult, DescribeInstanceStatusResponse,
    DescribeInstancesResponse, ErrorBody, Page, Request, RestartKind,
};
use super::{EcsError, redact, sign};
use crate::secret::SecretString;
use crate::settings::Settings;

/// The environment variable that chooses the signature version.
pub const SIGNATURE_VERSION_VARIABLE: &str = "PASSFORM_SIGNATURE_VERSION";

/// How many times a restart batch whose answer was lost is checked and sent again.
const RESTART_ROUNDS: u32 = 3;
/// A guard against a service that never stops handing out pages.
const MAX_PAGES: u32 = 10_000;
/// The most requests one client has in flight at once. The request-rate budget decides how
/// often requests go out; this bounds how many wait for answers together, and so how many
/// connections, each with its own buffers, are open at once: a fleet read spawns one task per
/// hundred ids.
pub const MAX_IN_FLIGHT: usize = 16;

/// Which signature the client puts on requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignatureVersion {
    /// RPC signature V2, HMAC-SHA1 (the default: every ECS endpoint accepts it).
    #[default]
    V2,
    /// Signature V3, ACS3-HMAC-SHA256.
    V3,
}

impl FromStr for SignatureVersion {
    type Err = EcsError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.to_ascii_lowercase().as_str() {
            "v2" | "2" => Ok(Self::V2),
            "v3" | "3" => Ok(Self::V3),
            _ => Err(EcsError::InvalidSignatureVersion(text.to_owned())),
        }
    }
}

/// Knobs of the client that have sensible defaults.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// The signature version.
    pub signature_version: SignatureVersion,
    /// How long one request may take, answer included.
    pub request_timeout: Duration,
    /// How long opening a connection may take.
    pub connect_timeout: Duration,
    /// How failed calls are retried.
    pub retry: RetryPolicy,
    /// The page size of DescribeInstances (at most 100).
    pub describe_page_size: u32,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            signature_version: SignatureVersion::default(),
            request_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            describe_page_size: wire::MAX_DESCRIBE_PAGE_SIZE,
        }
    }
}

impl ClientOptions {
    /// The defaults, with the signature version from `PASSFORM_SIGNATURE_VERSION` if set.
    pub fn from_environment() -> Result<Self, EcsError> {
        let mut options = Self::default();
        if let Some(text) = std::env::var(SIGNATURE_VERSION_VARIABLE)
            .ok()
            .filter(|text| !text.is_empty())
        {
            options.signature_version = text.parse()?;
        }
        Ok(options)
    }
}

/// The ECS client; cheap to clone, and clones share one request-rate budget.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    credentials: Credentials,
    endpoints: Endpoints,
    options: ClientOptions,
    budget: Budget,
    /// One permit per request in flight, [`MAX_IN_FLIGHT`] in all.
    in_flight: tokio::sync::Semaphore,
}

impl fmt::Debug for Client {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Client")
            .field("endpoints", &self.inner.endpoints)
            .field("credentials", &self.inner.credentials.source)
            .field("signature_version", &self.inner.options.signature_version)
            .finish()
    }
}

/// Whether a failed call may be sent again without checking what it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Repeat {
    /// Reads, and changes that are the same when repeated.
    Always,
    /// Changes that must not be repeated blindly: stop when the outcome is unknown.
    UnlessOutcomeUnknown,
}

/// A failed attempt, with whether it may be retried.
struct Attempt {
    error: EcsError,
    repeat: Repeat,
}

impl Retryable for Attempt {
    fn retry_cause(&self) -> Option<String> {
        if self.repeat == Repeat::UnlessOutcomeUnknown && self.error.outcome_is_unknown() {
            return None;
        }
        self.error.transient_cause()
    }
}

impl Client {
    /// A client for the settings' endpoint and profile, with credentials from the chain in
    /// [`credentials`] and the signature version from `PASSFORM_SIGNATURE_VERSION`.
    pub async fn from_settings(
        settings: &Settings,
        max_requests_per_second: f64,
    ) -> Result<Client, EcsError> {
        let options = ClientOptions::from_environment()?;
        check_rate(max_requests_per_second)?;
        Endpoints::from_setting(settings.endpoint.as_deref())?;
        let credentials =
            credentials::resolve(settings.profile.as_deref(), &Environment::process()).await?;
        Self::new(
            settings.endpoint.as_deref(),
            credentials,
            max_requests_per_second,
            options,
        )
    }

    /// A client with the given credentials and options. Certificates are checked against the
    /// Mozilla root store built into passform and the system's store (or the authorities that
    /// `SSL_CERT_FILE` and `SSL_CERT_DIR` name instead), so that a private authority, such as
    /// a TLS-inspecting proxy's, can be trusted.
    pub fn new(
        endpoint: Option<&str>,
        credentials: Credentials,
        max_requests_per_second: f64,
        options: ClientOptions,
    ) -> Result<Client, EcsError> {
        check_rate(max_requests_per_second)?;
        let endpoints = Endpoints::from_setting(endpoint)?;
        let mut http = reqwest::Client::builder()
            .timeout(options.request_timeout)
            .connect_timeout(options.connect_timeout)
            .user_agent(concat!("passform/", env!("CARGO_PKG_VERSION")))
            // ECS never redirects. Following a redirect would send the signed body, password
            // included, to wherever the answer points, plain http included.
            .redirect(reqwest::redirect::Policy::none());
        if endpoints.is_plain_http() {
            // A plain-http endpoint is on loopback; a proxy named by HTTP_PROXY would carry
            // its requests, in the clear, off the machine.
            http = http.no_proxy();
        }
        let http = http.build().map_err(EcsError::HttpClient)?;
        tracing::debug!(
            signature_version = ?options.signature_version,
            "ECS client ready"
        );
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                credentials,
                endpoints,
                options,
                budget: Budget::new(max_requests_per_second),
                in_flight: tokio::sync::Semaphore::new(MAX_IN_FLIGHT),
            }),
        })
    }

    /// The request-rate budget every clone of this client shares.
    pub fn budget(&self) -> &Budget {
        &self.inner.budget
    }

    /// Reads every wanted `(region, id)`: one DescribeInstances per region per 100 ids, pages
    /// followed, regions read concurrently. A region where none of the requested ids came back
    /// is reported as suspect rather than its instances as missing.
    pub async fn read_fleet(&self, wanted: &[(String, String)]) -> Result<FleetView, EcsError> {
        let mut by_region: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (region, id) in wanted {
            by_region
                .entry(region.clone())
                .or_default()
                .insert(id.clone());
        }
        let mut reads = JoinSet::new();
        for (region, ids) in by_region {
            let client = self.clone();
            reads.spawn(async move {
                let ids: Vec<String> = ids.into_iter().collect();
                let found = client.describe_instances(&region, &ids).await;
                (region, ids, found)
            });
        }
        let mut view = FleetView::default();
        while let Some(joined) = reads.join_next().await {
            let (region, ids, found) = joined.unwrap_or_else(|error| resume_panic(error));
            add_region(&mut view, &region, &ids, found?);
        }
        Ok(view)
    }

    /// Describes the given instances of one region, 100 ids per call, every page.
    pub async fn describe_instances(
        &self,
        region: &str,
        ids: &[String],
    ) -> Result<Vec<LiveInstance>, EcsError> {
        let mut reads = JoinSet::new();
        for chunk in ids.chunks(wire::MAX_IDS_PER_CALL) {
            let client = self.clone();
            let region = region.to_owned();
            let chunk = chunk.to_vec();
            reads.spawn(async move { client.describe_chunk(&region, &chunk).await });
        }
        let mut instances = Vec::new();
        while let Some(joined) = reads.join_next().await {
            instances.extend(joined.unwrap_or_else(|error| resume_panic(error))?);
        }
        instances.sort_by(|left, right| left.id.cmp(&right.id));
        Ok(instances)
    }

    async fn describe_chunk(
        &self,
        region: &str,
        ids: &[String],
    ) -> Result<Vec<LiveInstance>, EcsError> {
        let page_size = self
            .inner
            .options
            .describe_page_size
            .clamp(1, wire::MAX_DESCRIBE_PAGE_SIZE);
        let mut page = Page::Number(1);
        let mut instances = Vec::new();
        for _ in 0..MAX_PAGES {
            let request = Request::describe_instances(region, ids, &page, page_size);
            let response: DescribeInstancesResponse = self.call(&request, Repeat::Always).await?;
            let next = next_page(&page, page_size, &response);
            for wire in response.instances.instance {
                let live = wire
                    .into_live(region)
                    .map_err(|source| EcsError::UnknownValue {
                        region: region.to_owned(),
                        source,
                    })?;
                instances.push(live);
            }
            match next {
                Some(next) => page = next,
                None => break,
            }
        }
        Ok(instances)
    }

    /// The status of each given instance of one region (DescribeInstanceStatus, 100 ids per
    /// call, 50 per page). Instances the service does not know are absent from the map.
    pub async fn instance_statuses(
        &self,
        region: &str,
        ids: &[String],
    ) -> Result<BTreeMap<String, InstanceStatus>, EcsError> {
        let mut statuses = BTreeMap::new();
        for chunk in ids.chunks(wire::MAX_IDS_PER_CALL) {
            for page_number in 1..=MAX_PAGES {
                let request = Request::describe_instance_status(region, chunk, page_number);
                let response: DescribeInstanceStatusResponse =
                    self.call(&request, Repeat::Always).await?;
                let count = response.instance_statuses.instance_status.len();
                for wire in response.instance_statuses.instance_status {
                    let (id, status) =
                        wire.into_pair().map_err(|source| EcsError::UnknownValue {
                            region: region.to_owned(),
                            source,
                        })?;
                    statuses.insert(id, status);
                }
                let seen = u64::from(page_number * wire::MAX_STATUS_PAGE_SIZE);
                let more = response.total_count.is_some_and(|total| seen < total);
                if count == 0 || !more {
                    break;
                }
            }
        }
        Ok(statuses)
    }

    /// Sets an instance's password (ModifyInstanceAttribute). Safe to repeat: sending the same
    /// password again leaves the same pending password.
    pub async fn reset_password(
        &self,
        region: &str,
        id: &str,
        password: &SecretString,
    ) -> Result<(), EcsError> {
        let request = Request::reset_password(region, id, password);
        let _: Acknowledgement = self.call(&request, Repeat::Always).await?;
        Ok(())
    }

    /// Reboots Running instances (RebootInstances, 100 per call, each on its own).
    pub async fn reboot_instances(
        &self,
        region: &str,
        ids: &[String],
    ) -> Result<Vec<RestartOutcome>, EcsError> {
        self.restart(RestartKind::Reboot, region, ids).await
    }

    /// Starts Stopped instances (StartInstances, 100 per call, each on its own).
    pub async fn start_instances(
        &self,
        region: &str,
        ids: &[String],
    ) -> Result<Vec<RestartOutcome>, EcsError> {
        self.restart(RestartKind::Start, region, ids).await
    }

    async fn restart(
        &self,
        kind: RestartKind,
        region: &str,
        ids: &[String],
    ) -> Result<Vec<RestartOutcome>, EcsError> {
        let mut outcomes = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(wire::MAX_IDS_PER_CALL) {
            outcomes.extend(self.restart_batch(kind, region, chunk).await?);
        }
        Ok(outcomes)
    }

    /// One restart batch. When its answer is lost, the instances are checked first: those
    /// whose status shows the restart happened count as done, and only the others are sent
    /// again. On a batch sent again, `IncorrectInstanceStatus` from an instance whose status
    /// shows the restart happened counts as success too. A reboot that has already finished
    /// by the time of the check looks as if it never happened and is sent again (listed in
    /// docs/limitations.md).
    async fn restart_batch(
        &self,
        kind: RestartKind,
        region: &str,
        ids: &[String],
    ) -> Result<Vec<RestartOutcome>, EcsError> {
        let mut pending = ids.to_vec();
        let mut outcomes = Vec::with_capacity(ids.len());
        let mut round = 1;
        loop {
            let request = Request::restart(kind, region, &pending);
            let error = match self
                .call::<BatchResponse>(&request, Repeat::UnlessOutcomeUnknown)
                .await
            {
                Ok(response) => {
                    let resent = round > 1;
                    outcomes.extend(self.judge(kind, region, &pending, response, resent).await?);
                    return Ok(outcomes);
                }
                Err(error) => error,
            };
            if !error.outcome_is_unknown() || round >= RESTART_ROUNDS {
                return Err(error);
            }
            tracing::debug!(action = kind.action(), region, %error,
                "the answer was lost; checking status before sending the restart again");
            let statuses = self.instance_statuses(region, &pending).await?;
            pending.retain(|id| {
                let happened = statuses
                    .get(id)
                    .is_some_and(|status| kind.evidently_happened(*status));
                if happened {
                    outcomes.push(RestartOutcome {
                        instance_id: id.clone(),
                        result: Ok(()),
                    });
                }
                !happened
            });
            if pending.is_empty() {
                return Ok(outcomes);
            }
            round += 1;
        }
    }

    /// Turns a batch answer into one outcome per sent id. On a batch sent again, an
    /// `IncorrectInstanceStatus` refusal whose instance is already where the restart would put
    /// it counts as success; the status comes from the answer's `CurrentStatus`, or from a
    /// status read when the answer lacks it.
    async fn judge(
        &self,
        kind: RestartKind,
        region: &str,
        sent: &[String],
        response: BatchResponse,
        resent: bool,
    ) -> Result<Vec<RestartOutcome>, EcsError> {
        let results = response.instance_responses.instance_response;
        let mut statuses: BTreeMap<String, InstanceStatus> = results
            .iter()
            .filter_map(|result| {
                let status = result.current_status.parse().ok()?;
                Some((result.instance_id.clone(), status))
            })
            .collect();
        if resent {
            let unknown: Vec<String> = results
                .iter()
                .filter(|result| {
                    is_status_refusal(result) && !statuses.contains_key(&result.instance_id)
                })
                .map(|result| result.instance_id.clone())
                .collect();
            if !unknown.is_empty() {
                statuses.extend(self.instance_statuses(region, &unknown).await?);
            }
        }
        Ok(settle(kind, sent, &results, &statuses, resent))
    }

    /// Sends one operation under the shared budget, retrying what `repeat` allows.
    async fn call<T: DeserializeOwned>(
        &self,
        request: &Request,
        repeat: Repeat,
    ) -> Result<T, EcsError> {
        let budget = &self.inner.budget;
        let span = tracing::debug_span!("ecs", action = request.action, region = %request.region);
        retry::run(&self.inner.options.retry, |attempt| async move {
            let _slot = self.inner.in_flight.acquire().await;
            budget.acquire().await;
            let outcome = self.send::<T>(request, attempt).await;
            match &outcome {
                Ok(_) => budget.succeeded(),
                Err(error) if error.is_throttling() => budget.throttled(),
                Err(_) => {}
            }
            outcome.map_err(|error| Attempt { error, repeat })
        })
        .instrument(span)
        .await
        .map_err(|attempt| attempt.error)
    }

    async fn send<T: DeserializeOwned>(
        &self,
        request: &Request,
        attempt: u32,
    ) -> Result<T, EcsError> {
        let url = self.inner.endpoints.url_for(&request.region)?;
        let transport = |source: reqwest::Error| EcsError::Transport {
            action: request.action,
            region: request.region.clone(),
            endpoint: url.to_string(),
            source: source.without_url(),
        };
        tracing::debug!(attempt, "calling ECS");
        let builder = match self.inner.options.signature_version {
            SignatureVersion::V2 => self.signed_v2(url.clone(), request),
            SignatureVersion::V3 => self.signed_v3(url.clone(), request),
        };
        let response = builder.send().await.map_err(transport)?;
        let status = response.status();
        let body = response.bytes().await.map_err(transport)?;
        tracing::trace!(
            action = request.action,
            status = status.as_u16(),
            body = %redact::service_message(&String::from_utf8_lossy(&body)),
            "ECS answered"
        );
        if status.is_success() {
            return serde_json::from_slice(&body).map_err(|source| EcsError::MalformedResponse {
                action: request.action,
                region: request.region.clone(),
                source,
            });
        }
        let error: ErrorBody = serde_json::from_slice(&body).unwrap_or(ErrorBody {
            code: format!("HTTP{}", status.as_u16()),
            message: status.canonical_reason().unwrap_or_default().to_owned(),
            request_id: String::new(),
        });
        Err(EcsError::Api {
            action: request.action,
            region: request.region.clone(),
            status: status.as_u16(),
            code: error.code,
            message: redact::service_message(&error.message),
            request_id: error.request_id,
        })
    }

    /// A V2 request: every parameter, signature included, in the form body.
    fn signed_v2(&self, url: Url, request: &Request) -> reqwest::RequestBuilder {
        let body = v2_form_body(
            request,
            &self.inner.credentials,
            &new_nonce(),
            &now_timestamp(),
        );
        self.inner
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, FORM)
            .body(body.as_bytes().to_vec())
    }

    /// A V3 request: operation parameters in the form body, signature in `Authorization`.
    fn signed_v3(&self, url: Url, request: &Request) -> reqwest::RequestBuilder {
        let credentials = &self.inner.credentials;
        let mut parameters = operation_parameters(request);
        parameters.sort_by(|left, right| left.0.cmp(right.0));
        let body = form_body(&parameters);
        let payload_hash = sign::sha256_hex(body.as_bytes());
        let host = match url.port() {
            Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_owned(),
        };
        let nonce = new_nonce();
        let date = now_timestamp();
        let mut headers = vec![
            ("host", host.as_str()),
            ("content-type", FORM),
            ("x-acs-action", request.action),
            ("x-acs-version", wire::API_VERSION),
            ("x-acs-date", date.as_str()),
            ("x-acs-signature-nonce", nonce.as_str()),
            ("x-acs-content-sha256", payload_hash.as_str()),
        ];
        if let Some(token) = &credentials.security_token {
            headers.push(("x-acs-security-token", token.expose_secret()));
        }
        let signed = sign::V3Request {
            method: "POST",
            query: &[],
            headers: &headers,
            payload_hash: &payload_hash,
        };
        let authorization = signed.authorization(
            &credentials.access_key_id,
            credentials.access_key_secret.expose_secret(),
        );
        tracing::trace!(
            parameters = %redact::Parameters(&parameters),
            headers = %redact::Headers(&headers),
            "V3 request"
        );
        let mut builder = self.inner.http.post(url);
        for (name, value) in headers.iter().filter(|(name, _)| *name != "host") {
            builder = builder.header(*name, *value);
        }
        builder
            .header(reqwest::header::AUTHORIZATION, authorization)
            .body(body.as_bytes().to_vec())
    }
}

const FORM: &str = "application/x-www-form-urlencoded";

/// The form body of a V2 request: the operation's parameters, the common ones with this
/// nonce and timestamp, and the signature of them all over POST.
fn v2_form_body(
    request: &Request,
    credentials: &Credentials,
    nonce: &str,
    timestamp: &str,
) -> Zeroizing<String> {
    let mut parameters = operation_parameters(request);
    parameters.extend([
        ("Action", request.action),
        ("Version", wire::API_VERSION),
        ("Format", "JSON"),
        ("AccessKeyId", credentials.access_key_id.as_str()),
        ("SignatureMethod", sign::V2_METHOD),
        ("SignatureVersion", sign::V2_VERSION),
        ("SignatureNonce", nonce),
        ("Timestamp", timestamp),
    ]);
    if let Some(token) = &credentials.security_token {
        parameters.push(("SecurityToken", token.expose_secret()));
    }
    let string_to_sign = sign::v2_string_to_sign("POST", &parameters);
    let signature = Zeroizing::new(sign::v2_signature(
        credentials.access_key_secret.expose_secret(),
        &string_to_sign,
    ));
    parameters.push(("Signature", signature.as_str()));
    tracing::trace!(parameters = %redact::Parameters(&parameters), "V2 request");
    form_body(&parameters)
}

fn operation_parameters(request: &Request) -> Vec<(&str, &str)> {
    let mut parameters: Vec<(&str, &str)> = request
        .parameters
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    if let Some(password) = &request.password {
        parameters.push(("Password", password.expose_secret()));
    }
    parameters
}

/// The form body, zeroed when dropped since it may hold the password and the signature.
fn form_body(parameters: &[(&str, &str)]) -> Zeroizing<String> {
    Zeroizing::new(
        parameters
            .iter()
            .map(|(name, value)| {
                format!(
                    "{}={}",
                    sign::percent_encode(name),
                    sign::percent_encode(value)
                )
            })
            .collect::<Vec<_>>()
            .join("&"),
    )
}

fn new_nonce() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn now_timestamp() -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::OffsetDateTime::now_utc()
        .format(&format)
        .expect("a UTC time formats")
}

fn check_rate(max_requests_per_second: f64) -> Result<(), EcsError> {
    if max_requests_per_second.is_finite() && max_requests_per_second > 0.0 {
        Ok(())
    } else {
        Err(EcsError::InvalidRate(max_requests_per_second))
    }
}

/// Adds one region's read to the view; see [`FleetView`] for what "suspect" means.
fn add_region(view: &mut FleetView, region: &str, ids: &[String], found: Vec<LiveInstance>) {
    let requested: BTreeSet<&String> = ids.iter().collect();
    let found: Vec<LiveInstance> = found
        .into_iter()
        .filter(|instance| requested.contains(&instance.id))
        .collect();
    if found.is_empty() && !ids.is_empty() {
        tracing::debug!(
            region,
            requested = ids.len(),
            "no requested instance came back: the region is suspect (permissions?)"
        );
        view.suspect_regions.insert(region.to_owned());
        return;
    }
    let found_ids: BTreeSet<String> = found.iter().map(|instance| instance.id.clone()).collect();
    view.not_found
        .extend(ids.iter().filter(|id| !found_ids.contains(*id)).cloned());
    view.instances.extend(
        found
            .into_iter()
            .map(|instance| (instance.id.clone(), instance)),
    );
}

/// The page after `page`: the one the answer's `NextToken` names, else the next number while
/// `TotalCount` says more remain; `None` after the last page or an empty one.
fn next_page(page: &Page, page_size: u32, response: &DescribeInstancesResponse) -> Option<Page> {
    if let Some(token) = response
        .next_token
        .as_ref()
        .filter(|token| !token.is_empty())
    {
        return Some(Page::Token(token.clone()));
    }
    let Page::Number(number) = page else {
        return None;
    };
    let seen = u64::from(*number) * u64::from(page_size);
    let more = response.total_count.is_some_and(|total| seen < total);
    (more && !response.instances.instance.is_empty()).then(|| Page::Number(number + 1))
}

fn is_status_refusal(result: &BatchResult) -> bool {
    result.code == "IncorrectInstanceStatus"
}

/// One outcome per sent id, in the order sent. See [`Client::judge`] for when a refusal
/// counts as success.
fn settle(
    kind: RestartKind,
    sent: &[String],
    results: &[BatchResult],
    statuses: &BTreeMap<String, InstanceStatus>,
    resent: bool,
) -> Vec<RestartOutcome> {
    sent.iter()
        .map(|id| {
            let result = match results.iter().find(|result| &result.instance_id == id) {
                Some(result) if resent && is_status_refusal(result) => {
                    let happened = statuses
                        .get(id)
                        .is_some_and(|status| kind.evidently_happened(*status));
                    if happened {
                        tracing::debug!(instance = %id, "the restart had already happened");
                        Ok(())
                    } else {
                        result.outcome()
                    }
                }
                Some(result) => result.outcome(),
                None => Err(super::ApiFailure {
                    code: "MissingResult".to_owned(),
                    message: format!("the answer to {} named no result", kind.action()),
                }),
            };
            RestartOutcome {
                instance_id: id.clone(),
                result,
            }
        })
        .collect()
}

fn resume_panic(error: tokio::task::JoinError) -> ! {
    match error.try_into_panic() {
        Ok(payload) => std::panic::resume_unwind(payload),
        Err(error) => panic!("a read task was cancelled: {error}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecs::model::OsType;

    fn instance(id: &str, region: &str) -> LiveInstance {
        LiveInstance {
            id: id.to_owned(),
            region: region.to_owned(),
            name: String::new(),
            status: InstanceStatus::Running,
            os_type: OsType::Linux,
            creation_time: String::new(),
            start_time: None,
            key_pair_name: None,
            locked_for_security: false,
        }
    }

    fn ids(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| name.to_string()).collect()
    }

    #[test]
    fn a_region_that_returns_some_ids_marks_the_rest_not_found() {
        let mut view = FleetView::default();
        add_region(
            &mut view,
            "cn-hangzhou",
            &ids(&["i-1", "i-2"]),
            vec![instance("i-1", "cn-hangzhou")],
        );
        assert!(view.instances.contains_key("i-1"));
        assert_eq!(view.not_found, BTreeSet::from(["i-2".to_owned()]));
        assert!(view.suspect_regions.is_empty());
    }

    #[test]
    fn a_region_that_returns_none_of_the_ids_is_suspect_and_forgets_nothing() {
        let mut view = FleetView::default();
        add_region(&mut view, "cn-beijing", &ids(&["i-1", "i-2"]), Vec::new());
        assert!(view.not_found.is_empty());
        assert_eq!(
            view.suspect_regions,
            BTreeSet::from(["cn-beijing".to_owned()])
        );
    }

    fn page_answer(
        count: usize,
        total: Option<u64>,
        token: Option<&str>,
    ) -> DescribeInstancesResponse {
        let instances: Vec<String> = (0..count)
            .map(|index| {
                format!(r#"{{"InstanceId": "i-{index}", "Status": "Running", "OSType": "linux"}}"#)
            })
            .collect();
        let body = format!(
            r#"{{"Instances": {{"Instance": [{}]}}, "TotalCount": {}, "NextToken": {}}}"#,
            instances.join(","),
            total.map_or("null".to_owned(), |total| total.to_string()),
            token.map_or("null".to_owned(), |token| format!("\"{token}\""))
        );
        serde_json::from_str(&body).unwrap()
    }

    #[test]
    fn a_next_token_leads_to_the_next_page() {
        let answer = page_answer(10, Some(35), Some("t-1"));
        assert_eq!(
            next_page(&Page::Number(1), 10, &answer),
            Some(Page::Token("t-1".to_owned()))
        );
        assert_eq!(
            next_page(
                &Page::Token("t-1".to_owned()),
                10,
                &page_answer(10, None, Some("t-2"))
            ),
            Some(Page::Token("t-2".to_owned()))
        );
    }

    #[test]
    fn without_a_token_the_total_count_decides_whether_pages_remain() {
        assert_eq!(
            next_page(&Page::Number(1), 10, &page_answer(10, Some(35), None)),
            Some(Page::Number(2))
        );
        assert_eq!(
            next_page(&Page::Number(4), 10, &page_answer(5, Some(35), None)),
            None
        );
        assert_eq!(
            next_page(&Page::Number(1), 10, &page_answer(0, Some(35), Some(""))),
            None
        );
        assert_eq!(
            next_page(
                &Page::Token("t".to_owned()),
                10,
                &page_answer(10, Some(35), Some(""))
            ),
            None
        );
    }

    fn refusal(id: &str, current_status: &str) -> BatchResult {
        BatchResult {
            instance_id: id.to_owned(),
            code: "IncorrectInstanceStatus".to_owned(),
            message: "The current status of the resource does not support this operation."
                .to_owned(),
            current_status: current_status.to_owned(),
        }
    }

    fn statuses(pairs: &[(&str, InstanceStatus)]) -> BTreeMap<String, InstanceStatus> {
        pairs
            .iter()
            .map(|(id, status)| (id.to_string(), *status))
            .collect()
    }

    #[test]
    fn a_refused_resend_of_a_reboot_that_already_happened_counts_as_success() {
        let outcomes = settle(
            RestartKind::Reboot,
            &ids(&["i-1"]),
            &[refusal("i-1", "Starting")],
            &statuses(&[("i-1", InstanceStatus::Starting)]),
            true,
        );
        assert_eq!(outcomes[0].result, Ok(()));
    }

    #[test]
    fn a_refused_resend_of_a_start_that_already_happened_counts_as_success() {
        let outcomes = settle(
            RestartKind::Start,
            &ids(&["i-1"]),
            &[refusal("i-1", "Running")],
            &statuses(&[("i-1", InstanceStatus::Running)]),
            true,
        );
        assert_eq!(outcomes[0].result, Ok(()));
    }

    #[test]
    fn a_refusal_on_the_first_send_stays_a_failure() {
        let outcomes = settle(
            RestartKind::Start,
            &ids(&["i-1"]),
            &[refusal("i-1", "Running")],
            &statuses(&[("i-1", InstanceStatus::Running)]),
            false,
        );
        assert_eq!(
            outcomes[0].result.as_ref().unwrap_err().code,
            "IncorrectInstanceStatus"
        );
    }

    #[test]
    fn a_refused_resend_whose_status_shows_no_restart_stays_a_failure() {
        let outcomes = settle(
            RestartKind::Reboot,
            &ids(&["i-1"]),
            &[refusal("i-1", "Stopped")],
            &statuses(&[("i-1", InstanceStatus::Stopped)]),
            true,
        );
        assert!(outcomes[0].result.is_err());
    }

    #[test]
    fn an_instance_missing_from_the_answer_is_a_failure_not_a_success() {
        let outcomes = settle(
            RestartKind::Reboot,
            &ids(&["i-1"]),
            &[],
            &BTreeMap::new(),
            false,
        );
        assert_eq!(
            outcomes[0].result.as_ref().unwrap_err().code,
            "MissingResult"
        );
    }

    fn key(id: &str, secret: &str, token: Option<&str>) -> Credentials {
        Credentials {
            access_key_id: id.to_owned(),
            access_key_secret: SecretString::from(secret),
            security_token: token.map(SecretString::from),
            source: "test".to_owned(),
        }
    }

    /// The value of one parameter of a form body, still percent-encoded.
    fn form_value<'a>(body: &'a str, name: &str) -> Option<&'a str> {
        body.split('&')
            .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
    }

    #[test]
    fn describe_instances_is_signed_as_in_vector_new_1() {
        let ids = ids(&["i-bp1aaaaaaaaaaaaaaaa1", "i-bp1bbbbbbbbbbbbbbbb2"]);
        let request = Request::describe_instances("cn-hangzhou", &ids, &Page::Number(1), 100);
        let body = v2_form_body(
            &request,
            &key("testid", "testsecret", None),
            "0f3c1d2e-4b5a-6978-8a9b-0c1d2e3f4a5b",
            "2024-05-01T12:00:00Z",
        );
        assert_eq!(
            form_value(&body, "Signature"),
            Some("1wIjc9mGgxlxZ6Vb%2BA06tHtBGNA%3D")
        );
    }

    #[test]
    fn a_password_reset_is_signed_as_in_vector_new_2() {
        let password = SecretString::from("Ab1!@#$%^&*()_+-=[]{};:',.<>/?~ \u{e9}");
        let request = Request::reset_password("cn-hangzhou", "i-bp1aaaaaaaaaaaaaaaa1", &password);
        let body = v2_form_body(
            &request,
            &key("testid", "s3cr3t/Key+With=Chars", None),
            "6c1b9f0e-2d3a-4e5f-8a7b-9c0d1e2f3a4b",
            "2024-05-01T12:00:01Z",
        );
        assert_eq!(
            form_value(&body, "Signature"),
            Some("djwGvRy%2FhMTK2Z83ywSdSyuykL8%3D")
        );
        assert_eq!(
            form_value(&body, "Password"),
            Some(
                "Ab1%21%40%23%24%25%5E%26%2A%28%29_%2B-%3D%5B%5D%7B%7D%3B%3A%27%2C.%3C%3E%2F%3F~\
                 %20%C3%A9"
            )
        );
    }

    #[test]
    fn a_security_token_is_sent_and_signed_as_in_vector_new_3() {
        // passform reboots through RebootInstances; the vector's single RebootInstance is
        // built by hand to check where the token goes.
        let request = Request {
            action: "RebootInstance",
            region: "cn-shanghai".to_owned(),
            parameters: vec![
                ("RegionId".to_owned(), "cn-shanghai".to_owned()),
                ("InstanceId".to_owned(), "i-uf6ccccccccccccccccc".to_owned()),
                ("ForceStop".to_owned(), "false".to_owned()),
            ],
            password: None,
        };
        let token = "CAIS8gF1q6Ft5B2yfSjIr5bnLtbOjKtM+/aeaEXYhXI/Zrl8ubXOjzz2IHhMeXRtA+0Xs/o=";
        let body = v2_form_body(
            &request,
            &key("STS.NTestTemporaryKeyId", "stsTestSecret", Some(token)),
            "a1b2c3d4e5f60718293a4b5c6d7e8f90",
            "2024-05-01T12:00:02Z",
        );
        assert_eq!(
            form_value(&body, "SecurityToken"),
            Some(sign::percent_encode(token).as_str())
        );
        // Signed over POST, where the vector was signed over GET: the same parameters give
        // the vector's signature only with the vector's method.
        let parameters: Vec<(String, String)> = body
            .split('&')
            .filter(|pair| !pair.starts_with("Signature="))
            .map(|pair| {
                let (name, value) = pair.split_once('=').unwrap();
                (name.to_owned(), percent_decode(value))
            })
            .collect();
        let borrowed: Vec<(&str, &str)> = parameters
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        assert_eq!(
            sign::v2_signature("stsTestSecret", &sign::v2_string_to_sign("GET", &borrowed)),
            "ld1f0RTrGEoP2hZrxNPW0BtjfZY="
        );
    }

    fn percent_decode(text: &str) -> String {
        let bytes = text.as_bytes();
        let mut decoded = Vec::new();
        let mut index = 0;
        while index < bytes.len() {
            if bytes[index] == b'%' {
                let hex = std::str::from_utf8(&bytes[index + 1..index + 3]).unwrap();
                decoded.push(u8::from_str_radix(hex, 16).unwrap());
                index += 3;
            } else {
                decoded.push(bytes[index]);
                index += 1;
            }
        }
        String::from_utf8(decoded).unwrap()
    }

    #[test]
    fn a_batch_start_is_signed_as_in_vector_new_core() {
        let mut request = Request::restart(
            RestartKind::Start,
            "cn-hangzhou",
            &ids(&["i-bp1aaaaaaaaaaaaaaaa1", "i-bp1bbbbbbbbbbbbbbbb2"]),
        );
        // The core SDK also signs an empty SignatureType; passform sends none, so the vector
        // needs it added to reach the same signature.
        request
            .parameters
            .push(("SignatureType".to_owned(), String::new()));
        let body = v2_form_body(
            &request,
            &key("testid", "testsecret", None),
            "d41d8cd98f00b204e9800998ecf8427e",
            "2024-05-01T12:00:03Z",
        );
        assert_eq!(
            form_value(&body, "Signature"),
            Some("0vwG7Q8%2FcrEEoTqi0tFht8U7fnI%3D")
        );
        assert_eq!(form_value(&body, "SignatureType"), Some(""));
        assert_eq!(form_value(&body, "BatchOptimization"), Some("SuccessFirst"));
    }

    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn every_call_can_run_on_a_spawned_task() {
        let client = Client::new(
            Some("http://127.0.0.1:9"),
            Credentials {
                access_key_id: "id".to_owned(),
                access_key_secret: SecretString::from("secret"),
                security_token: None,
                source: "test".to_owned(),
            },
            1.0,
            ClientOptions::default(),
        )
        .unwrap();
        let ids = ids(&["i-1"]);
        let password = SecretString::from("Passw0rd!");
        assert_send(&client.read_fleet(&[]));
        assert_send(&client.describe_instances("cn-hangzhou", &ids));
        assert_send(&client.instance_statuses("cn-hangzhou", &ids));
        assert_send(&client.reset_password("cn-hangzhou", "i-1", &password));
        assert_send(&client.reboot_instances("cn-hangzhou", &ids));
        assert_send(&client.start_instances("cn-hangzhou", &ids));
    }

    #[test]
    fn signature_versions_parse_from_their_names() {
        assert_eq!(
            "v3".parse::<SignatureVersion>().unwrap(),
            SignatureVersion::V3
        );
        assert_eq!(
            "V2".parse::<SignatureVersion>().unwrap(),
            SignatureVersion::V2
        );
        assert!("v4".parse::<SignatureVersion>().is_err());
    }

    #[test]
    fn a_rate_that_is_not_positive_is_refused() {
        for rate in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(check_rate(rate).is_err());
        }
        assert!(check_rate(0.5).is_ok());
    }

    #[test]
    fn timestamps_have_the_documented_shape() {
        let timestamp = now_timestamp();
        assert_eq!(timestamp.len(), "2024-05-01T12:00:00Z".len());
        assert!(timestamp.ends_with('Z'));
        assert_eq!(&timestamp[10..11], "T");
    }
}
