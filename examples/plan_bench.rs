//! How fast, and in how much memory, `passform plan` works out a large fleet.
//!
//! Run it with `cargo run --release --example plan_bench`. It serves 10,000 emulated instances
//! in 4 regions from an in-process emulator, writes an identity and a sealed document declaring
//! all of them in a temporary directory, and then runs `passform plan` three times, each in a
//! fresh process of its own: this program started again in "plan" mode, which hands the
//! command line to passform's own command runner, exactly as the `passform` binary does. Each
//! run reports its wall time and its peak resident memory (VmHWM, read from
//! /proc/self/status as the run ends, so the emulator's memory is not counted), and the
//! emulator's call counter gives the API calls of each run, and a last line says whether every
//! run met the targets (under one second, under 30 MiB). A last run goes through the same steps
//! one by one through the library (decrypting and validating the document apart, since they
//! cost very different things), and prints the time each step took and the peak memory after
//! it, to show where the budget goes.
//!
//! Options: `--instances N` (default 10000), `--regions N` (default 4), `--max-rps N` (default
//! 1000; the budget spaces requests evenly, so at passform's default of 20 a plan of 100 calls
//! takes 5 seconds whatever the machine).

use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use age::secrecy::ExposeSecret;
use base64::Engine as _;
use clap::Parser;

const PLAN_MODE: &str = "PASSFORM_BENCH_PLAN";
const STEPS_MODE: &str = "PASSFORM_BENCH_STEPS";
const RUNS: usize = 3;
/// The targets for 10,000 instances: well under a second, under 30 MiB.
const TARGET_MS: u128 = 1000;
const TARGET_KIB: u64 = 30 * 1024;

fn main() -> ExitCode {
    if std::env::var_os(STEPS_MODE).is_some() {
        return steps_in_this_process();
    }
    if std::env::var_os(PLAN_MODE).is_some() {
        return plan_in_this_process();
    }
    let options = Options::parse();
    match benchmark(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("plan_bench failed: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The benchmark's own options.
#[derive(Debug, Parser)]
struct Options {
    /// Instances in the fleet.
    #[arg(long, default_value_t = 10_000)]
    instances: usize,
    /// Regions they are spread over.
    #[arg(long, default_value_t = 4)]
    regions: usize,
    /// The request-rate budget given to plan.
    #[arg(long, default_value_t = 1000.0)]
    max_rps: f64,
}

/// Plan mode: run `passform plan ...` here, then report this process's peak memory.
fn plan_in_this_process() -> ExitCode {
    let arguments = std::env::args().skip(1);
    let cli =
        passform::cli::Cli::parse_from(std::iter::once("passform".to_owned()).chain(arguments));
    let started = Instant::now();
    let code = passform::commands::main(cli);
    let elapsed = started.elapsed();
    eprintln!("bench: plan {} ms", elapsed.as_millis());
    eprintln!("bench: peak {} KiB", peak_memory_kib().unwrap_or(0));
    code
}

/// Steps mode: the steps of `passform plan`, one by one, each timed and followed by the peak
/// memory so far.
fn steps_in_this_process() -> ExitCode {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    match runtime.block_on(steps()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

async fn steps() -> Result<(), String> {
    use passform::plan::{self, Desired, LiveView, render};
    let text = |error: &dyn std::fmt::Display| error.to_string();
    let settings = passform::settings::Settings::resolve(
        &passform::cli::Cli::parse_from(["passform", "plan"]).global,
    );
    let mut clock = Instant::now();
    let mut step = |name: &str| {
        eprintln!(
            "step {name:<34} {:>6} ms, peak so far {:.1} MiB",
            clock.elapsed().as_millis(),
            peak_memory_kib().unwrap_or(0) as f64 / 1024.0
        );
        clock = Instant::now();
    };
    // `document::load` is these two steps and a keyed digest of the plaintext; they are timed
    // apart because they cost very different things, and the digest (one HMAC pass, only
    // needed for `plan --out`) is left out.
    let plaintext = passform::document::decrypt(&settings.document_path, &settings.identities)
        .map_err(|error| text(&error))?;
    step("decrypt the document");
    let document = passform::document::parse(&settings.document_path, &plaintext)
        .map_err(|error| text(&error))?;
    drop(plaintext);
    step("validate the document");
    let state = passform::state::load(&settings.state_path).map_err(|error| text(&error))?;
    let desired = Desired::from_document(&document);
    drop(document);
    step("state, derived fingerprints");
    let client = passform::ecs::Client::from_settings(&settings, max_rps())
        .await
        .map_err(|error| text(&error))?;
    let wanted: Vec<(String, String)> = desired
        .iter()
        .map(|instance| (instance.region.clone(), instance.id.clone()))
        .collect();
    let fleet = client
        .read_fleet(&wanted)
        .await
        .map_err(|error| text(&error))?;
    step("read the live fleet");
    let live = LiveView {
        instances: &fleet.instances,
        suspect_regions: &fleet.suspect_regions,
    };
    let computed = plan::compute(&desired, &state, live, &[]).map_err(|error| text(&error))?;
    drop(desired);
    step("compute the plan");
    drop((fleet, state));
    // plan writes the text straight to stdout; counting the bytes stands in for that here.
    let mut written = ByteCount(0);
    render::write_text(&mut written, &computed, false).map_err(|error| text(&error))?;
    step("render it as text");
    std::hint::black_box(written.0);
    Ok(())
}

/// A text sink that only counts what it is given.
struct ByteCount(usize);

impl std::fmt::Write for ByteCount {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        self.0 += text.len();
        Ok(())
    }
}

fn max_rps() -> f64 {
    std::env::var("PASSFORM_BENCH_MAX_RPS")
        .ok()
        .and_then(|rate| rate.parse().ok())
        .unwrap_or(1000.0)
}

/// VmHWM: the most resident memory this process has had.
fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn benchmark(options: &Options) -> Result<(), String> {
    let runtime = tokio::runtime::Runtime::new().map_err(|error| error.to_string())?;
    let directory = tempfile::tempdir().map_err(|error| error.to_string())?;
    let instances = fleet(options.instances, options.regions);

    let fleet_file = fleet_toml(&instances);
    let fleet = passform::emulator::Fleet::parse(&fleet_file).map_err(|error| error.to_string())?;
    let emulator = runtime
        .block_on(passform::emulator::Emulator::start(
            fleet,
            "127.0.0.1:0".parse().expect("a loopback address"),
        ))
        .map_err(|error| error.to_string())?;
    let url = emulator.url();
    write_document(directory.path(), &instances)?;

    println!(
        "passform plan: {} instances in {} regions, --max-rps {}, {RUNS} runs",
        options.instances, options.regions, options.max_rps
    );
    let mut previous_calls = 0;
    let mut slowest_ms = 0;
    let mut largest_kib = 0;
    for run in 1..=RUNS {
        let figures = run_plan(directory.path(), &url, options.max_rps, PLAN_MODE)?;
        let calls = runtime.block_on(describe_calls(&url))?;
        println!(
            "run {run}: wall {} ms (plan itself {} ms), {} DescribeInstances calls, peak memory \
             {:.1} MiB, {} bytes of plan output",
            figures.wall_ms,
            figures.plan_ms,
            calls - previous_calls,
            figures.peak_kib as f64 / 1024.0,
            figures.output_bytes
        );
        previous_calls = calls;
        slowest_ms = slowest_ms.max(figures.wall_ms);
        largest_kib = largest_kib.max(figures.peak_kib);
    }
    let met = slowest_ms < TARGET_MS && largest_kib < TARGET_KIB;
    println!(
        "target: every run under {TARGET_MS} ms and {} MiB: {} (slowest {slowest_ms} ms, largest \
         {:.1} MiB)",
        TARGET_KIB / 1024,
        if met { "met" } else { "missed" },
        largest_kib as f64 / 1024.0
    );
    let steps = run_plan(directory.path(), &url, options.max_rps, STEPS_MODE)?;
    println!("the same steps, one by one:\n{}", steps.report.trim_end());
    drop(emulator);
    Ok(())
}

struct Figures {
    wall_ms: u128,
    plan_ms: u64,
    peak_kib: u64,
    output_bytes: usize,
    report: String,
}

/// Runs this program again in `mode` against the workspace in `directory`.
fn run_plan(directory: &Path, url: &str, max_rps: f64, mode: &str) -> Result<Figures, String> {
    let started = Instant::now();
    let output = Command::new(std::env::current_exe().map_err(|error| error.to_string())?)
        .args(["plan", "--max-rps", &max_rps.to_string()])
        .current_dir(directory)
        .env(mode, "1")
        .env("PASSFORM_BENCH_MAX_RPS", max_rps.to_string())
        .env("NO_COLOR", "1")
        .env("PASSFORM_FILE", directory.join("passwords.toml.age"))
        .env("PASSFORM_STATE", directory.join("passform.state.json"))
        .env("PASSFORM_IDENTITY", directory.join("identity.txt"))
        .env("PASSFORM_ENDPOINT", url)
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "testid")
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "testsecret")
        .stdin(Stdio::null())
        .output()
        .map_err(|error| error.to_string())?;
    let wall_ms = started.elapsed().as_millis();
    let report = String::from_utf8_lossy(&output.stderr).into_owned();
    if !output.status.success() {
        return Err(format!("plan failed: {report}"));
    }
    if mode == STEPS_MODE {
        return Ok(Figures {
            wall_ms,
            plan_ms: 0,
            peak_kib: 0,
            output_bytes: 0,
            report,
        });
    }
    let figure = |label: &str| {
        report
            .lines()
            .find_map(|line| line.strip_prefix(label))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|number| number.parse::<u64>().ok())
            .ok_or_else(|| format!("plan did not report `{label}`: {report}"))
    };
    Ok(Figures {
        wall_ms,
        plan_ms: figure("bench: plan ")?,
        peak_kib: figure("bench: peak ")?,
        output_bytes: output.stdout.len(),
        report,
    })
}

/// Instance ids and regions, spread evenly.
fn fleet(count: usize, regions: usize) -> Vec<(String, String)> {
    let names = [
        "cn-hangzhou",
        "cn-beijing",
        "cn-shanghai",
        "cn-shenzhen",
        "ap-southeast-1",
    ];
    (0..count)
        .map(|index| {
            let region = names[index % regions.clamp(1, names.len())];
            (format!("i-bench{index:08}"), region.to_owned())
        })
        .collect()
}

fn fleet_toml(instances: &[(String, String)]) -> String {
    let mut text = String::from("time_scale = 0.01\n");
    for (id, region) in instances {
        text.push_str(&format!(
            "\n[[instance]]\nid = \"{id}\"\nregion = \"{region}\"\nstatus = \"Running\"\n\
             os_type = \"linux\"\nname = \"{id}\"\n"
        ));
    }
    text
}

fn write_document(directory: &Path, instances: &[(String, String)]) -> Result<(), String> {
    let identity = age::x25519::Identity::generate();
    let recipient = identity.to_public().to_string();
    std::fs::write(
        directory.join("identity.txt"),
        identity.to_string().expose_secret(),
    )
    .map_err(|error| error.to_string())?;
    let seed = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    let mut text =
        format!("version = 1\nrecipients = [\"{recipient}\"]\n\n[secrets]\nseed = \"{seed}\"\n");
    for (id, region) in instances {
        text.push_str(&format!(
            "\n[[instance]]\nid = \"{id}\"\nregion = \"{region}\"\ngeneration = 1\n"
        ));
    }
    let sealed =
        passform::document::seal(&text, &[recipient]).map_err(|error| error.to_string())?;
    std::fs::write(directory.join("passwords.toml.age"), sealed).map_err(|error| error.to_string())
}

/// The emulator's DescribeInstances counter so far.
async fn describe_calls(url: &str) -> Result<u64, String> {
    let answer: serde_json::Value = reqwest::get(format!("{url}/_emulator/calls"))
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|error| error.to_string())?
        .json()
        .await
        .map_err(|error| error.to_string())?;
    Ok(answer["calls"]["DescribeInstances"].as_u64().unwrap_or(0))
}
