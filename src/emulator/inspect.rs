//! The test-only endpoints under `/_emulator/`: what the instances look like inside (passwords
//! included), how often each operation was called, the history of changes, out-of-band changes
//! to an instance, and fault rules.
//!
//! They need no signature: they exist for tests on loopback, never for users. Bodies are JSON;
//! errors are `{"error": "..."}` with status 400 or 404.

use serde_json::{Map, Value, json};

use super::faults::FaultRequest;
use super::instance::{Instance, Status};
use super::operations::api_time;
use super::server::Shared;

/// An inspection answer: HTTP status and JSON body.
pub type Answer = (u16, Value);

/// Routes one inspection request.
pub fn handle(shared: &Shared, method: &str, path: &str, body: &[u8]) -> Answer {
    match (method, path) {
        ("GET", "/_emulator/instances") => instances(shared),
        ("GET", "/_emulator/calls") => calls(shared),
        ("GET", "/_emulator/history") => history(shared),
        ("POST", "/_emulator/faults") => faults(shared, body),
        ("POST", _) if path.starts_with("/_emulator/instances/") => {
            change_instance(shared, &path["/_emulator/instances/".len()..], body)
        }
        _ => failure(404, &format!("no inspection endpoint {method} {path}")),
    }
}

fn failure(status: u16, message: &str) -> Answer {
    (status, json!({"error": message}))
}

fn instances(shared: &Shared) -> Answer {
    let mut world = shared.lock_world();
    let now_ms = world.now_ms();
    let live = world.live();
    let listed: Vec<Value> = live
        .into_iter()
        .map(|index| {
            world.settle(index, now_ms);
            inspect(&world.instances[index])
        })
        .collect();
    (200, json!({"instances": listed}))
}

fn inspect(instance: &Instance) -> Value {
    json!({
        "id": instance.id,
        "region": instance.region,
        "name": instance.name,
        "status": instance.status().as_str(),
        "os_type": instance.os_type.as_str(),
        "key_pair_name": instance.key_pair_name,
        "lock_reasons": instance.lock_reasons,
        "effective_password": instance.effective_password.as_ref().map(|secret| secret.expose_secret()),
        "pending_password": instance.pending_password.as_ref().map(|secret| secret.expose_secret()),
        "start_time": instance.start_time.map(api_time),
        "creation_time": api_time(instance.creation_time),
    })
}

fn calls(shared: &Shared) -> Answer {
    let world = shared.lock_world();
    (200, json!({"calls": world.calls()}))
}

fn history(shared: &Shared) -> Answer {
    let mut world = shared.lock_world();
    let events: Vec<Value> = world
        .history()
        .into_iter()
        .map(|change| {
            json!({
                "at_ms": change.at_ms,
                "instance": change.instance,
                "action": change.action,
                "status_from": change.status_from.as_str(),
                "status_to": change.status_to.as_str(),
            })
        })
        .collect();
    (200, json!({"events": events}))
}

fn faults(shared: &Shared, body: &[u8]) -> Answer {
    let request: FaultRequest = match serde_json::from_slice(body) {
        Ok(request) => request,
        Err(error) => return failure(400, &format!("the fault rule is not valid: {error}")),
    };
    match shared.lock_faults().post(request) {
        Ok(()) => (200, json!({})),
        Err(reason) => failure(400, &reason),
    }
}

fn change_instance(shared: &Shared, id: &str, body: &[u8]) -> Answer {
    let fields: Map<String, Value> = match serde_json::from_slice(body) {
        Ok(fields) => fields,
        Err(error) => return failure(400, &format!("the change is not a JSON object: {error}")),
    };
    let mut world = shared.lock_world();
    let now_ms = world.now_ms();
    let Some(index) = world.index_of(id) else {
        return failure(404, &format!("no instance `{id}`"));
    };
    world.settle(index, now_ms);
    if let Err(reason) = check_change(&fields) {
        return failure(400, &reason);
    }

    if fields.get("deleted") == Some(&Value::Bool(true)) {
        world.delete(index);
        return (200, json!({}));
    }
    if fields.get("recreated") == Some(&Value::Bool(true)) {
        let clock = world.clock.clone();
        let change = world.instances[index].recreate(now_ms, &clock);
        world.record(change);
    }
    let (start_ms, stop_ms) = (world.start_ms, world.stop_ms);
    let instance = &mut world.instances[index];
    if let Some(Value::String(name)) = fields.get("name") {
        instance.name = name.clone();
    }
    if let Some(key_pair) = fields.get("key_pair_name") {
        instance.key_pair_name = key_pair.as_str().map(str::to_owned);
    }
    if let Some(Value::Array(reasons)) = fields.get("lock_reasons") {
        instance.lock_reasons = reasons
            .iter()
            .filter_map(|reason| reason.as_str().map(str::to_owned))
            .collect();
    }
    if let Some(Value::String(status)) = fields.get("status") {
        let status: Status = status.parse().expect("checked above");
        let change = instance.force_status(status, now_ms, start_ms, stop_ms);
        world.record(change);
    }
    let answer = inspect(&world.instances[index]);
    (200, answer)
}

fn check_change(fields: &Map<String, Value>) -> Result<(), String> {
    for (key, value) in fields {
        let fits = match key.as_str() {
            "status" => value
                .as_str()
                .is_some_and(|status| status.parse::<Status>().is_ok()),
            "key_pair_name" => value.is_string() || value.is_null(),
            "name" => value.is_string(),
            "deleted" | "recreated" => value.is_boolean(),
            "lock_reasons" => value
                .as_array()
                .is_some_and(|reasons| reasons.iter().all(Value::is_string)),
            _ => {
                return Err(format!(
                    "unknown field `{key}`; use status, key_pair_name, name, lock_reasons, recreated or deleted"
                ));
            }
        };
        if !fits {
            return Err(format!("field `{key}` has an unusable value {value}"));
        }
    }
    Ok(())
}
