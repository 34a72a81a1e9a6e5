//! The HTTP side: accepts connections with hyper, routes `/_emulator/` to the inspection
//! endpoints and everything else to the API, and writes the answers.
//!
//! An API call goes: decode, count, authenticate, check `Version` and `Format`, consult the
//! fault rules, run the operation under the world's lock, answer. hyper is used directly so
//! that a fault rule can close a connection without any answer: the service then returns an
//! error, and hyper drops the connection instead of writing a response.

use std::sync::{Arc, Mutex, MutexGuard};

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use super::auth::Authenticator;
use super::faults::Faults;
use super::fleet::Fleet;
use super::inspect;
use super::operations;
use super::request::ApiRequest;
use super::response::{ApiError, request_id};
use super::world::World;

/// The API version the emulator speaks.
pub const API_VERSION: &str = "2014-05-26";

/// The largest request body the emulator reads.
const MAX_BODY_BYTES: usize = 1 << 20;

/// Everything the connections share.
#[derive(Debug)]
pub struct Shared {
    world: Mutex<World>,
    faults: Mutex<Faults>,
    authenticator: Authenticator,
}

impl Shared {
    /// Loads a fleet; its emulated clock starts now.
    pub fn new(fleet: Fleet) -> Shared {
        Shared {
            authenticator: Authenticator::new(fleet.credentials.clone()),
            faults: Mutex::new(Faults::default()),
            world: Mutex::new(World::new(fleet)),
        }
    }

    /// The world, locked. Holders never await, so a poisoned lock means a bug elsewhere
    /// already panicked; the state is still served as it is.
    pub fn lock_world(&self) -> MutexGuard<'_, World> {
        self.world
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The fault rules, locked.
    pub fn lock_faults(&self) -> MutexGuard<'_, Faults> {
        self.faults
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Returned to hyper to close a connection without answering.
#[derive(Debug, thiserror::Error)]
#[error("the emulator dropped the connection on purpose (fault rule drop_after_commit)")]
pub struct Dropped;

/// Accepts connections until the task is aborted; aborting it closes every connection too.
pub async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(error) => {
                // Running out of file descriptors fails every accept until connections close;
                // a pause keeps the loop from spinning meanwhile.
                tracing::warn!(%error, "could not accept a connection");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        while connections.try_join_next().is_some() {}
        let shared = Arc::clone(&shared);
        connections.spawn(async move {
            let service = service_fn(move |request| handle(Arc::clone(&shared), request));
            if let Err(error) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(%error, "connection ended");
            }
        });
    }
}

async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Dropped> {
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => collected.to_bytes().to_vec(),
        Err(_) => {
            let error = ApiError::invalid_parameter("the request body is too large or broken");
            return Ok(api_error(&error, &request_id(), "ecs.aliyuncs.com"));
        }
    };
    let path = parts.uri.path();
    if path.starts_with("/_emulator/") {
        let (status, answer) = inspect::handle(&shared, parts.method.as_str(), path, &body);
        return Ok(json_response(status, &answer, None));
    }
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let request = ApiRequest::new(
        parts.method.as_str(),
        path,
        parts.uri.query(),
        headers,
        body,
    );
    api(&shared, request).await
}

/// What one API call comes to.
enum Outcome {
    /// Answer with this body or error.
    Answer(Result<Value, ApiError>),
    /// Close the connection without answering (the change, if any, was made).
    Drop,
}

async fn api(
    shared: &Shared,
    request: Result<ApiRequest, ApiError>,
) -> Result<Response<Full<Bytes>>, Dropped> {
    let request_id = request_id();
    let host = request
        .as_ref()
        .ok()
        .and_then(|request| request.header("host"))
        .map_or_else(|| "ecs.aliyuncs.com".to_owned(), |host| host.to_owned());
    match serve_call(shared, request).await {
        Outcome::Drop => Err(Dropped),
        Outcome::Answer(Ok(mut body)) => {
            body["RequestId"] = Value::String(request_id.clone());
            Ok(json_response(200, &body, Some(&request_id)))
        }
        Outcome::Answer(Err(error)) => {
            tracing::debug!(code = %error.code, "answering an API error");
            Ok(api_error(&error, &request_id, &host))
        }
    }
}

/// Admits the call, applies the fault rules and runs the operation.
async fn serve_call(shared: &Shared, request: Result<ApiRequest, ApiError>) -> Outcome {
    let admitted = request.and_then(|request| {
        let action = admit(shared, &request)?;
        Ok((request, action))
    });
    let (request, action) = match admitted {
        Ok(admitted) => admitted,
        Err(error) => return Outcome::Answer(Err(error)),
    };

    let decision = shared.lock_faults().decide(&action);
    if !decision.latency.is_zero() {
        tokio::time::sleep(decision.latency).await;
    }
    if let Some(error) = decision.error {
        return Outcome::Answer(Err(error));
    }

    let parameters = request.parameters();
    let outcome = {
        let mut world = shared.lock_world();
        let now_ms = world.now_ms();
        operations::call(&mut world, &action, parameters, now_ms)
    };
    tracing::debug!(%action, ok = outcome.is_ok(), "served an API call");
    if decision.drop_after_commit {
        Outcome::Drop
    } else {
        Outcome::Answer(outcome)
    }
}

/// Counts the call, authenticates it and checks the common parameters; returns the action.
fn admit(shared: &Shared, request: &ApiRequest) -> Result<String, ApiError> {
    let action = request.action();
    if let Some(action) = &action {
        shared.lock_world().count_call(action);
    }
    shared
        .authenticator
        .authenticate(request, OffsetDateTime::now_utc())?;
    let action = action
        .filter(|action| !action.is_empty())
        .ok_or_else(|| ApiError::missing_parameter("Action"))?;

    let parameters = request.parameters();
    let version = request
        .header("x-acs-version")
        .or_else(|| parameters.get("Version"))
        .ok_or_else(|| ApiError::missing_parameter("Version"))?;
    if version != API_VERSION {
        return Err(ApiError::new(
            400,
            "InvalidVersion",
            "Specified parameter Version is not valid.",
        ));
    }
    // Answers are always JSON: a request asking for XML is accepted and answered in JSON,
    // because no passform client or test reads XML (docs/limitations.md).
    if let Some(format) = parameters.get("Format")
        && !format.eq_ignore_ascii_case("json")
        && !format.eq_ignore_ascii_case("xml")
    {
        return Err(ApiError::invalid_named_parameter("Format"));
    }
    Ok(action)
}

fn api_error(error: &ApiError, request_id: &str, host: &str) -> Response<Full<Bytes>> {
    json_response(
        error.status,
        &error.body(request_id, host),
        Some(request_id),
    )
}

fn json_response(status: u16, body: &Value, request_id: Option<&str>) -> Response<Full<Bytes>> {
    let mut builder = Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", "application/json;charset=utf-8");
    if let Some(request_id) = request_id {
        builder = builder.header("x-acs-request-id", request_id);
    }
    builder
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}
