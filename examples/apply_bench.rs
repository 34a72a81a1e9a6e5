//! Benchmark: apply to 1,000 emulated instances with parallelism 50, and compare the makespan
//! with the ideal, which is the number of rounds (1,000 / 50) times one restart.
//!
//! Everything is real except the cloud: the emulator serves over HTTP on loopback, the ECS
//! client signs every request, and the state file is journaled (with fsync) before and after
//! every step. Run it with `cargo run --release --example apply_bench`; the target is a
//! makespan within 10% of the ideal.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use passform::apply::{self, Desired, Event, Options, StateFile};
use passform::document::RestartPolicy;
use passform::ecs::credentials::Credentials;
use passform::ecs::model::InstanceStatus;
use passform::ecs::{Client, ClientOptions};
use passform::emulator::{Emulator, Fleet};
use passform::plan::{Action, Change, GenerationChange, Plan, Restart};
use passform::state::State;

const INSTANCES: usize = 1_000;
const PARALLELISM: usize = 50;
/// Emulated seconds a reboot takes, and real seconds per emulated second.
const REBOOT_SECONDS: f64 = 40.0;
const TIME_SCALE: f64 = 0.05;
/// Requests per second the client may send: enough that the budget does not bound a round of
/// 50 resets, one reboot call and the status polls.
const MAX_REQUESTS_PER_SECOND: f64 = 2_000.0;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let ids: Vec<String> = (0..INSTANCES).map(|n| format!("i-bench{n:05}")).collect();
    let regions = ["cn-hangzhou", "cn-beijing"];
    let region_of = |index: usize| regions[index % regions.len()];

    let fleet = Fleet::parse(&fleet_toml(&ids, &region_of))?;
    let emulator = Emulator::start(fleet, "127.0.0.1:0".parse()?).await?;
    let credentials = Credentials {
        access_key_id: "testid".to_owned(),
        access_key_secret: "testsecret".into(),
        security_token: None,
        source: "benchmark".to_owned(),
    };
    let client = Client::new(
        Some(&emulator.url()),
        credentials,
        MAX_REQUESTS_PER_SECOND,
        ClientOptions::default(),
    )?;

    let plan = plan(&ids, &region_of);
    let desired: BTreeMap<String, Desired> = ids
        .iter()
        .map(|id| {
            let desired = Desired {
                generation: 1,
                restart: RestartPolicy::Auto,
                password: format!("Bench#{}", &id[2..]).into(),
                fingerprint: format!("fingerprint-{id}"),
            };
            (id.clone(), desired)
        })
        .collect();
    let directory = tempfile::tempdir()?;
    let mut journal = StateFile::new(directory.path().join("passform.state.json"));
    let mut state = State::new();
    let mut events: Vec<Event> = Vec::new();
    let options = Options {
        parallelism: PARALLELISM,
        ..Options::default()
    };

    let started = Instant::now();
    let summary = apply::execute(
        &plan,
        &desired,
        &mut state,
        client,
        &mut journal,
        &mut events,
        &options,
    )
    .await?;
    let makespan = started.elapsed();

    let rounds = INSTANCES.div_ceil(PARALLELISM);
    let restart = Duration::from_secs_f64(REBOOT_SECONDS * TIME_SCALE);
    let ideal = restart * rounds as u32;
    let overhead = makespan.as_secs_f64() / ideal.as_secs_f64() - 1.0;
    println!("instances:        {INSTANCES} in {} regions", regions.len());
    println!("parallelism:      {PARALLELISM}");
    println!("rounds:           {rounds}");
    println!("one restart:      {:.2} s", restart.as_secs_f64());
    println!(
        "ideal makespan:   {:.2} s (rounds x one restart)",
        ideal.as_secs_f64()
    );
    println!("actual makespan:  {:.2} s", makespan.as_secs_f64());
    println!(
        "overhead:         {:+.1}% (target: within 10%)",
        overhead * 100.0
    );
    println!(
        "outcome:          {} in effect, {} failed, {} state writes",
        summary.effective,
        summary.failed.len(),
        state.serial
    );
    if summary.effective != INSTANCES {
        return Err(format!(
            "only {} of {INSTANCES} instances converged",
            summary.effective
        )
        .into());
    }
    Ok(())
}

fn fleet_toml(ids: &[String], region_of: &dyn Fn(usize) -> &'static str) -> String {
    let mut text = format!(
        "time_scale = {TIME_SCALE}\n\n[timing]\nstart = {REBOOT_SECONDS}\nstop = 20\nreboot = \
         {REBOOT_SECONDS}\n"
    );
    for (index, id) in ids.iter().enumerate() {
        text.push_str(&format!(
            "\n[[instance]]\nid = \"{id}\"\nregion = \"{}\"\nstatus = \"Running\"\n\
             os_type = \"linux\"\nname = \"{id}\"\n",
            region_of(index)
        ));
    }
    text
}

fn plan(ids: &[String], region_of: &dyn Fn(usize) -> &'static str) -> Plan {
    let changes = ids
        .iter()
        .enumerate()
        .map(|(index, id)| Change {
            instance: id.clone(),
            region: region_of(index).to_owned(),
            name: None,
            action: Action::Reset,
            generation: GenerationChange {
                from: None,
                to: Some(1),
            },
            restart: Restart::Reboot,
            status: Some(InstanceStatus::Running),
            wave: 1,
            reason: "passform has not set its password yet".to_owned(),
            warnings: Vec::new(),
        })
        .collect();
    Plan {
        changes,
        partial: false,
    }
}
