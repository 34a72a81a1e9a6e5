//! Measures a full read of a large fleet: 10,000 instances in 4 regions, served by the
//! in-process emulator over loopback HTTP. Prints the number of API calls and the wall time.
//!
//! Run with `cargo run --release --example read_bench`. Optional arguments: the number of
//! instances, the number of regions and the request-rate budget. Without a budget it reads
//! twice: at `--max-rps`'s default of 20 requests per second, where the budget sets the pace,
//! and with no practical limit, which shows the cost of the client and the emulator alone.

use std::time::Instant;

use passform::ecs::credentials::Credentials;
use passform::ecs::{Client, ClientOptions};
use passform::emulator::{Emulator, Fleet};
use passform::secret::SecretString;

const REGIONS: [&str; 8] = [
    "cn-hangzhou",
    "cn-beijing",
    "ap-southeast-1",
    "eu-central-1",
    "cn-shanghai",
    "us-west-1",
    "ap-northeast-1",
    "me-east-1",
];

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut arguments = std::env::args().skip(1);
    let instances: usize = arguments.next().map_or(Ok(10_000), |text| text.parse())?;
    let regions: usize = arguments.next().map_or(Ok(4), |text| text.parse())?;
    let budgets: Vec<f64> = match arguments.next() {
        Some(text) => vec![text.parse()?],
        None => vec![20.0, 1_000_000.0],
    };
    let regions = &REGIONS[..regions.clamp(1, REGIONS.len())];

    let wanted: Vec<(String, String)> = (0..instances)
        .map(|index| {
            let region = regions[index % regions.len()];
            (region.to_owned(), format!("i-bench{index:06}"))
        })
        .collect();
    let mut fleet = String::from("time_scale = 0.01\n");
    for (region, id) in &wanted {
        fleet.push_str(&format!(
            "[[instance]]\nid = \"{id}\"\nregion = \"{region}\"\nstatus = \"Running\"\n\
             os_type = \"linux\"\n"
        ));
    }
    for budget in budgets {
        read_once(&fleet, &wanted, regions.len(), budget).await?;
    }
    Ok(())
}

/// Reads the whole fleet once from a fresh emulator and prints the figures.
async fn read_once(
    fleet: &str,
    wanted: &[(String, String)],
    regions: usize,
    max_requests_per_second: f64,
) -> Result<(), Box<dyn std::error::Error>> {
    let emulator = Emulator::start(Fleet::parse(fleet)?, "127.0.0.1:0".parse()?).await?;
    let credentials = Credentials {
        access_key_id: "testid".to_owned(),
        access_key_secret: SecretString::from("testsecret"),
        security_token: None,
        source: "benchmark".to_owned(),
    };
    let client = Client::new(
        Some(&emulator.url()),
        credentials,
        max_requests_per_second,
        ClientOptions::default(),
    )?;

    let started = Instant::now();
    let view = client.read_fleet(wanted).await?;
    let elapsed = started.elapsed();

    let calls: serde_json::Value = reqwest::get(format!("{}/_emulator/calls", emulator.url()))
        .await?
        .json()
        .await?;
    let describe_calls = calls["calls"]["DescribeInstances"].as_u64().unwrap_or(0);
    println!(
        "read {} of {} instances in {} regions: {} DescribeInstances calls, {:.3} s wall time \
         (budget {} requests/s)",
        view.instances.len(),
        wanted.len(),
        regions,
        describe_calls,
        elapsed.as_secs_f64(),
        max_requests_per_second
    );
    Ok(())
}
