//! Measures the emulator: how long a fleet of 100,000 instances takes to load, and how many
//! signed DescribeInstances requests per second it serves for pages of 100 instances, both by
//! page number and by a list of 100 instance ids (the way passform reads a fleet).
//!
//! Run it optimized: `cargo run --release --example emulator_bench [INSTANCES] [SECONDS]`.
//! The load generator shares the machine with the emulator, so the rate is a floor.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use passform::emulator::auth::{percent_encode, v2_signature, v2_string_to_sign};
use passform::emulator::{Emulator, Fleet};
use time::OffsetDateTime;
use time::macros::format_description;

const CONCURRENT_CLIENTS: usize = 8;
const REGION: &str = "cn-hangzhou";

fn fleet_text(instances: usize) -> String {
    let mut text = String::with_capacity(instances * 96);
    text.push_str("time_scale = 0.01\n");
    for index in 0..instances {
        let status = if index % 3 == 0 { "Stopped" } else { "Running" };
        text.push_str(&format!(
            "[[instance]]\nid = \"i-bench{index:07}\"\nregion = \"{REGION}\"\nstatus = \"{status}\"\n"
        ));
    }
    text
}

/// A signed V2 query string for DescribeInstances with the given operation parameters.
fn signed_query(parameters: &[(&str, String)]) -> String {
    let timestamp = OffsetDateTime::now_utc()
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
        ))
        .expect("the timestamp format is valid");
    let nonce = format!("{:032x}", rand::random::<u128>());
    let mut all: Vec<(String, String)> = [
        ("Action", "DescribeInstances"),
        ("Version", "2014-05-26"),
        ("Format", "JSON"),
        ("AccessKeyId", "testid"),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
        ("RegionId", REGION),
        ("SignatureNonce", &nonce),
        ("Timestamp", &timestamp),
    ]
    .iter()
    .map(|(name, value)| (name.to_string(), value.to_string()))
    .chain(
        parameters
            .iter()
            .map(|(name, value)| (name.to_string(), value.clone())),
    )
    .collect();
    let signature = v2_signature("testsecret", &v2_string_to_sign("POST", &all));
    all.push(("Signature".to_owned(), signature));
    all.iter()
        .map(|(name, value)| format!("{}={}", percent_encode(name), percent_encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Sends requests from several clients for `duration`; returns requests per second.
async fn drive(
    url: &str,
    duration: Duration,
    instances: usize,
    parameters: fn(u64, usize) -> Vec<(&'static str, String)>,
) -> f64 {
    let served = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut clients = tokio::task::JoinSet::new();
    for client_number in 0..CONCURRENT_CLIENTS {
        let served = Arc::clone(&served);
        let url = url.to_owned();
        clients.spawn(async move {
            let http = reqwest::Client::new();
            let mut round = client_number as u64;
            while started.elapsed() < duration {
                let query = signed_query(&parameters(round, instances));
                let response = http
                    .post(format!("{url}/?{query}"))
                    .send()
                    .await
                    .expect("the emulator answers");
                assert!(response.status().is_success(), "{}", response.status());
                let body = response.bytes().await.expect("the body arrives");
                assert!(body.len() > 1000, "a page of 100 instances");
                served.fetch_add(1, Ordering::Relaxed);
                round += CONCURRENT_CLIENTS as u64;
            }
        });
    }
    while clients.join_next().await.is_some() {}
    served.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

fn page_by_number(round: u64, instances: usize) -> Vec<(&'static str, String)> {
    let pages = (instances / 100).max(1) as u64;
    vec![
        ("PageSize", "100".to_owned()),
        ("PageNumber", (round % pages + 1).to_string()),
    ]
}

fn page_by_ids(round: u64, instances: usize) -> Vec<(&'static str, String)> {
    let first = (round as usize * 100) % instances.saturating_sub(100).max(1);
    let ids: Vec<String> = (first..first + 100)
        .map(|index| format!("i-bench{index:07}"))
        .collect();
    vec![
        (
            "InstanceIds",
            serde_json::to_string(&ids).expect("ids serialize"),
        ),
        ("PageSize", "100".to_owned()),
    ]
}

#[tokio::main]
async fn main() {
    let mut arguments = std::env::args().skip(1);
    let instances: usize = arguments
        .next()
        .map_or(100_000, |text| text.parse().expect("INSTANCES is a number"));
    let seconds: u64 = arguments
        .next()
        .map_or(5, |text| text.parse().expect("SECONDS is a number"));

    let text = fleet_text(instances);
    let started = Instant::now();
    let fleet = Fleet::parse(&text).expect("the generated fleet is valid");
    let parsed = started.elapsed();
    let emulator = Emulator::start(fleet, "127.0.0.1:0".parse().expect("a loopback address"))
        .await
        .expect("the emulator starts");
    let loaded = started.elapsed();
    println!(
        "load: {instances} instances ({:.1} MB of fleet file) parsed in {:.0} ms, serving after {:.0} ms",
        text.len() as f64 / 1e6,
        parsed.as_secs_f64() * 1000.0,
        loaded.as_secs_f64() * 1000.0
    );

    let duration = Duration::from_secs(seconds);
    let url = emulator.url();
    let by_number = drive(&url, duration, instances, page_by_number).await;
    println!(
        "DescribeInstances, PageSize=100 by PageNumber, {CONCURRENT_CLIENTS} clients: {by_number:.0} requests/second"
    );
    let by_ids = drive(&url, duration, instances, page_by_ids).await;
    println!(
        "DescribeInstances, 100 InstanceIds per call, {CONCURRENT_CLIENTS} clients: {by_ids:.0} requests/second"
    );
}
