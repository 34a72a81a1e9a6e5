//! The client reads a fleet against the emulator: batching, paging, regions in parallel,
//! missing instances and suspect regions.

mod client_support;

use client_support::*;
use passform::ecs::model::InstanceStatus;
use passform::ecs::{Client, ClientOptions, MAX_IN_FLIGHT, SignatureVersion};

#[tokio::test]
async fn reads_three_regions_at_once_with_one_call_each() {
    let mut wanted = generated("cn-hangzhou", 3);
    wanted.extend(generated("cn-beijing", 2));
    wanted.extend(generated("eu-central-1", 4));
    let emulator = start_with(&wanted).await;
    let view = client_for(&emulator).read_fleet(&wanted).await.unwrap();
    assert_eq!(view.instances.len(), 9);
    assert!(view.not_found.is_empty());
    assert!(view.suspect_regions.is_empty());
    assert_eq!(
        view.instances["i-eu-central-1-00003"].region,
        "eu-central-1"
    );
    assert_eq!(
        view.instances["i-cn-beijing-00001"].status,
        InstanceStatus::Running
    );
    assert_eq!(calls(&emulator, "DescribeInstances").await, 3);
}

#[tokio::test]
async fn reads_batch_one_hundred_ids_per_call() {
    let wanted = generated("cn-shanghai", 250);
    let emulator = start_with(&wanted).await;
    let view = client_for(&emulator).read_fleet(&wanted).await.unwrap();
    assert_eq!(view.instances.len(), 250);
    assert_eq!(calls(&emulator, "DescribeInstances").await, 3);
}

#[tokio::test]
async fn reads_follow_paging_beyond_the_first_page() {
    let wanted = generated("cn-hangzhou", 35);
    let emulator = start_with(&wanted).await;
    let client = Client::new(
        Some(&emulator.url()),
        test_credentials(),
        1000.0,
        ClientOptions {
            describe_page_size: 10,
            ..quick_options(SignatureVersion::V2)
        },
    )
    .unwrap();
    let view = client.read_fleet(&wanted).await.unwrap();
    assert_eq!(view.instances.len(), 35);
    assert_eq!(calls(&emulator, "DescribeInstances").await, 4);
}

#[tokio::test]
async fn an_unknown_id_among_known_ones_is_reported_not_found() {
    let mut wanted = generated("cn-hangzhou", 2);
    let emulator = start_with(&wanted).await;
    wanted.push(("cn-hangzhou".to_owned(), "i-deleted".to_owned()));
    let view = client_for(&emulator).read_fleet(&wanted).await.unwrap();
    assert_eq!(view.instances.len(), 2);
    assert!(view.not_found.contains("i-deleted"));
    assert!(view.suspect_regions.is_empty());
}

#[tokio::test]
async fn a_region_that_returns_none_of_the_ids_is_suspect_not_deleted() {
    let present = generated("cn-hangzhou", 2);
    let emulator = start_with(&present).await;
    let mut wanted = present.clone();
    wanted.extend(generated("ap-southeast-1", 3));
    let view = client_for(&emulator).read_fleet(&wanted).await.unwrap();
    assert_eq!(view.instances.len(), 2);
    assert!(view.not_found.is_empty());
    assert!(view.suspect_regions.contains("ap-southeast-1"));
}

#[tokio::test]
async fn instance_statuses_follow_pages_of_fifty() {
    let wanted = generated("cn-hangzhou", 120);
    let emulator = start_with(&wanted).await;
    let ids: Vec<String> = wanted.iter().map(|(_, id)| id.clone()).collect();
    let statuses = client_for(&emulator)
        .instance_statuses("cn-hangzhou", &ids)
        .await
        .unwrap();
    assert_eq!(statuses.len(), 120);
    assert!(
        statuses
            .values()
            .all(|status| *status == InstanceStatus::Running)
    );
    // 100 ids in two pages of 50, then 20 ids in one page.
    assert_eq!(calls(&emulator, "DescribeInstanceStatus").await, 3);
}

#[tokio::test]
async fn no_more_than_the_in_flight_bound_of_reads_wait_for_answers_at_once() {
    // Four times the bound of calls, each answered after a fixed delay: sent all at once they
    // would take little more than one delay; held to the bound they take at least four.
    let rounds = 4;
    let wanted = generated("cn-hangzhou", rounds * MAX_IN_FLIGHT * 100);
    let emulator = start_with(&wanted).await;
    let delay = std::time::Duration::from_millis(250);
    add_fault(
        &emulator,
        serde_json::json!({"action": "DescribeInstances", "latency_ms": delay.as_millis()}),
    )
    .await;

    let started = std::time::Instant::now();
    let view = client_for(&emulator).read_fleet(&wanted).await.unwrap();
    let elapsed = started.elapsed();

    assert_eq!(view.instances.len(), wanted.len());
    assert_eq!(
        calls(&emulator, "DescribeInstances").await,
        (rounds * MAX_IN_FLIGHT) as u64
    );
    assert!(
        elapsed >= delay * rounds as u32,
        "{} calls answered in {elapsed:?}: more than {MAX_IN_FLIGHT} were in flight at once",
        rounds * MAX_IN_FLIGHT
    );
}
