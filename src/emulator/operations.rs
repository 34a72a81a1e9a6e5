//! The ECS operations the emulator serves, with their documented parameters, preconditions,
//! error codes and response shapes.
//!
//! Each operation runs under the world's lock from its first check to its last change, so a
//! call either happens whole or not at all, and concurrent calls see each other's effects in
//! some order. Parameter errors are found before the instance is looked at, as the service
//! does. Answers are JSON values without `RequestId`, which the server adds.

use std::borrow::Cow;
use std::collections::HashSet;

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::format_description;

use super::instance::{Change, Instance, OsType, Status};
use super::request::Parameters;
use super::response::ApiError;
use super::world::World;
use crate::secret::SecretString;

/// Every operation the emulator serves.
pub const OPERATIONS: &[&str] = &[
    "DescribeInstances",
    "DescribeInstanceStatus",
    "ModifyInstanceAttribute",
    "RebootInstance",
    "RebootInstances",
    "StartInstance",
    "StartInstances",
    "StopInstance",
];

/// The most instance ids one call may name.
const MAX_IDS: usize = 100;

/// Characters other than letters and digits that a password may contain.
const PASSWORD_SPECIALS: &str = "()`~!@#$%^&*-_+=|{}[]:;'<>,.?/";

/// Runs one operation on the world at emulated time `now_ms`.
pub fn call(
    world: &mut World,
    action: &str,
    parameters: &Parameters,
    now_ms: u64,
) -> Result<Value, ApiError> {
    match action {
        "DescribeInstances" => describe_instances(world, parameters, now_ms),
        "DescribeInstanceStatus" => describe_instance_status(world, parameters, now_ms),
        "ModifyInstanceAttribute" => modify_instance_attribute(world, parameters, now_ms),
        "RebootInstance" => restart_one(world, parameters, now_ms, Restart::Reboot),
        "StartInstance" => restart_one(world, parameters, now_ms, Restart::Start),
        "StopInstance" => restart_one(world, parameters, now_ms, Restart::Stop),
        "RebootInstances" => restart_many(world, parameters, now_ms, Restart::Reboot),
        "StartInstances" => restart_many(world, parameters, now_ms, Restart::Start),
        _ => Err(ApiError::new(
            404,
            "InvalidAction.NotFound",
            "Specified api is not found, please check your url and method.",
        )),
    }
}

fn describe_instances(
    world: &mut World,
    parameters: &Parameters,
    now_ms: u64,
) -> Result<Value, ApiError> {
    let region = parameters.required("RegionId")?;
    let filters = Filters::from_parameters(parameters)?;
    let paging = Paging::from_parameters(parameters)?;
    if parameters.boolean("DryRun", false)? {
        return Err(ApiError::dry_run_passed());
    }

    let (total, page, answered) = {
        let matching = filters.matching(world, region, now_ms);
        let page = paging.page(matching.len());
        (matching.len(), page.clone(), matching[page].to_vec())
    };
    let instances: Vec<Value> = answered
        .into_iter()
        .map(|index| {
            world.settle(index, now_ms);
            describe(&world.instances[index])
        })
        .collect();
    Ok(json!({
        "Instances": {"Instance": instances},
        "TotalCount": total,
        "PageNumber": paging.page_number(),
        "PageSize": paging.size,
        "NextToken": paging.next_token(page.end, total),
    }))
}

/// DescribeInstances filters; they combine with AND.
#[derive(Debug)]
struct Filters<'p> {
    ids: Option<Vec<String>>,
    status: Option<Status>,
    name: Option<&'p str>,
    key_pair: Option<&'p str>,
}

impl<'p> Filters<'p> {
    fn from_parameters(parameters: &'p Parameters) -> Result<Filters<'p>, ApiError> {
        let present = |name: &str| parameters.get(name).filter(|value| !value.is_empty());
        Ok(Filters {
            ids: instance_ids_filter(parameters)?,
            status: status_filter(parameters)?,
            name: present("InstanceName"),
            key_pair: present("KeyPairName"),
        })
    }

    /// The matching instances of a region, in fleet order. Only a status filter needs every
    /// candidate settled; otherwise only the page that is answered is.
    fn matching<'w>(&self, world: &'w mut World, region: &str, now_ms: u64) -> Cow<'w, [usize]> {
        if self.name.is_none() && self.key_pair.is_none() && self.status.is_none() {
            return candidates(world, region, self.ids.as_deref());
        }
        let mut matching: Vec<usize> = candidates(world, region, self.ids.as_deref())
            .iter()
            .copied()
            .filter(|index| self.matches_attributes(&world.instances[*index]))
            .collect();
        if let Some(status) = self.status {
            for index in &matching {
                world.settle(*index, now_ms);
            }
            matching.retain(|index| world.instances[*index].status() == status);
        }
        Cow::Owned(matching)
    }

    fn matches_attributes(&self, instance: &Instance) -> bool {
        self.name
            .is_none_or(|pattern| wildcard_matches(pattern, &instance.name))
            && self
                .key_pair
                .is_none_or(|key| instance.key_pair_name.as_deref() == Some(key))
    }
}

fn describe_instance_status(
    world: &mut World,
    parameters: &Parameters,
    now_ms: u64,
) -> Result<Value, ApiError> {
    let region = parameters.required("RegionId")?;
    let ids = parameters.list("InstanceId");
    if ids.len() > MAX_IDS {
        return Err(ApiError::invalid_named_parameter("InstanceId"));
    }
    let size = parameters.number("PageSize", 10, 1..=50)? as usize;
    let page_number = parameters.number("PageNumber", 1, 1..=u64::from(u32::MAX))? as usize;
    let wanted = (!ids.is_empty()).then_some(ids);
    let matching = candidates(world, region, wanted.as_deref()).into_owned();

    let total = matching.len();
    let start = (page_number - 1).saturating_mul(size).min(total);
    let end = start.saturating_add(size).min(total);
    let statuses: Vec<Value> = matching[start..end]
        .iter()
        .map(|index| {
            world.settle(*index, now_ms);
            let instance = &world.instances[*index];
            json!({"InstanceId": instance.id, "Status": instance.status().as_str()})
        })
        .collect();
    Ok(json!({
        "InstanceStatuses": {"InstanceStatus": statuses},
        "TotalCount": total,
        "PageNumber": page_number,
        "PageSize": size,
    }))
}

fn modify_instance_attribute(
    world: &mut World,
    parameters: &Parameters,
    now_ms: u64,
) -> Result<Value, ApiError> {
    let id = parameters.required("InstanceId")?;
    let password = parameters.get("Password");
    if let Some(password) = password {
        check_password_policy(password)?;
    }
    let name = parameters
        .get("InstanceName")
        .filter(|name| !name.is_empty());

    let index = world.find(id, region(parameters), now_ms)?;
    let instance = &mut world.instances[index];
    if password.is_some_and(|password| password.starts_with('/'))
        && instance.os_type == OsType::Windows
    {
        return Err(malformed_password());
    }
    if instance.is_locked_for_security() {
        return Err(ApiError::locked_for_security());
    }
    if instance.status() == Status::Starting {
        return Err(ApiError::incorrect_status());
    }

    if let Some(password) = password {
        instance.pending_password = Some(SecretString::from(password));
    }
    if let Some(name) = name {
        instance.name = name.to_owned();
    }
    let status = instance.status();
    let change = Change {
        at_ms: now_ms,
        instance: instance.id.clone(),
        action: "ModifyInstanceAttribute".to_owned(),
        status_from: status,
        status_to: status,
    };
    world.record(change);
    Ok(json!({}))
}

/// The three ways to move an instance through its lifecycle.
#[derive(Debug, Clone, Copy)]
enum Restart {
    Reboot,
    Start,
    Stop,
}

impl Restart {
    fn single_action(self) -> &'static str {
        match self {
            Restart::Reboot => "RebootInstance",
            Restart::Start => "StartInstance",
            Restart::Stop => "StopInstance",
        }
    }

    fn batch_action(self) -> &'static str {
        match self {
            Restart::Reboot => "RebootInstances",
            Restart::Start => "StartInstances",
            Restart::Stop => "StopInstances",
        }
    }

    /// The status required before, the status at once, the status at the end.
    fn statuses(self) -> (Status, Status, Status) {
        match self {
            Restart::Reboot => (Status::Running, Status::Starting, Status::Running),
            Restart::Start => (Status::Stopped, Status::Starting, Status::Running),
            Restart::Stop => (Status::Running, Status::Stopping, Status::Stopped),
        }
    }

    fn duration_ms(self, world: &World) -> u64 {
        match self {
            Restart::Reboot => world.reboot_ms,
            Restart::Start => world.start_ms,
            Restart::Stop => world.stop_ms,
        }
    }

    /// Checks the parameters only this kind of call takes.
    fn check_options(self, parameters: &Parameters, batch: bool) -> Result<(), ApiError> {
        match (self, batch) {
            (Restart::Reboot, false) => parameters.boolean("ForceStop", false).map(drop),
            (Restart::Reboot, true) => parameters.boolean("ForceReboot", false).map(drop),
            (Restart::Start, _) => parameters.boolean("InitLocalDisk", false).map(drop),
            (Restart::Stop, _) => {
                parameters.boolean("ForceStop", false)?;
                parameters.boolean("ConfirmStop", false)?;
                match parameters.get("StoppedMode") {
                    None | Some("") | Some("StopCharging") | Some("KeepCharging") => Ok(()),
                    Some(_) => Err(ApiError::invalid_named_parameter("StoppedMode")),
                }
            }
        }
    }
}

fn restart_one(
    world: &mut World,
    parameters: &Parameters,
    now_ms: u64,
    restart: Restart,
) -> Result<Value, ApiError> {
    let id = parameters.required("InstanceId")?;
    restart.check_options(parameters, false)?;
    let dry_run = parameters.boolean("DryRun", false)?;

    let index = world.find(id, region(parameters), now_ms)?;
    check_restart(&world.instances[index], restart)?;
    if dry_run {
        return Err(ApiError::dry_run_passed());
    }
    begin(world, index, restart, restart.single_action(), now_ms);
    Ok(json!({}))
}

fn restart_many(
    world: &mut World,
    parameters: &Parameters,
    now_ms: u64,
    restart: Restart,
) -> Result<Value, ApiError> {
    let region = parameters.required("RegionId")?;
    let ids = distinct(parameters.list("InstanceId"));
    if ids.is_empty() {
        return Err(ApiError::missing_parameter("InstanceId.1"));
    }
    if ids.len() > MAX_IDS {
        return Err(ApiError::invalid_named_parameter("InstanceId"));
    }
    restart.check_options(parameters, true)?;
    let success_first = match parameters.get("BatchOptimization") {
        None | Some("") | Some("AllTogether") => false,
        Some("SuccessFirst") => true,
        Some(_) => return Err(ApiError::invalid_named_parameter("BatchOptimization")),
    };
    let dry_run = parameters.boolean("DryRun", false)?;

    let checks: Vec<(String, Result<usize, ApiError>)> = ids
        .into_iter()
        .map(|id| {
            let check = world
                .find(&id, Some(region), now_ms)
                .and_then(|index| check_restart(&world.instances[index], restart).map(|()| index));
            (id, check)
        })
        .collect();
    if !success_first && let Some((_, Err(error))) = checks.iter().find(|(_, check)| check.is_err())
    {
        return Err(error.clone());
    }

    let responses: Vec<Value> = checks
        .into_iter()
        .map(|(id, check)| match check {
            Ok(index) if dry_run => {
                instance_response(&id, "DRYRUN.SUCCESS", "success", world, Some(index), None)
            }
            Ok(index) => {
                let previous = world.instances[index].status();
                begin(world, index, restart, restart.batch_action(), now_ms);
                instance_response(&id, "200", "success", world, Some(index), Some(previous))
            }
            Err(error) => {
                let index = world
                    .index_of(&id)
                    .filter(|index| world.instances[*index].region == region);
                instance_response(&id, &error.code, &error.message, world, index, None)
            }
        })
        .collect();
    Ok(json!({"InstanceResponses": {"InstanceResponse": responses}}))
}

fn instance_response(
    id: &str,
    code: &str,
    message: &str,
    world: &World,
    index: Option<usize>,
    previous: Option<Status>,
) -> Value {
    let current = index.map_or("", |index| world.instances[index].status().as_str());
    json!({
        "InstanceId": id,
        "Code": code,
        "Message": message,
        "PreviousStatus": previous.map_or(current, Status::as_str),
        "CurrentStatus": current,
    })
}

fn check_restart(instance: &Instance, restart: Restart) -> Result<(), ApiError> {
    if instance.is_locked_for_security() {
        return Err(ApiError::locked_for_security());
    }
    let (required, _, _) = restart.statuses();
    if instance.status() != required {
        return Err(ApiError::incorrect_status());
    }
    Ok(())
}

fn begin(world: &mut World, index: usize, restart: Restart, action: &str, now_ms: u64) {
    let (_, through, to) = restart.statuses();
    let duration = restart.duration_ms(world);
    let change = world.instances[index].begin(action, through, to, now_ms, duration);
    world.record(change);
}

fn region(parameters: &Parameters) -> Option<&str> {
    parameters
        .get("RegionId")
        .filter(|region| !region.is_empty())
}

fn distinct(ids: Vec<String>) -> Vec<String> {
    let mut seen = HashSet::new();
    ids.into_iter()
        .filter(|id| seen.insert(id.clone()))
        .collect()
}

/// The live instances of a region, restricted to the wanted ids when there is a filter.
fn candidates<'w>(world: &'w World, region: &str, wanted: Option<&[String]>) -> Cow<'w, [usize]> {
    match wanted {
        None => Cow::Borrowed(world.region(region)),
        Some(ids) => {
            let mut indexes: Vec<usize> = ids
                .iter()
                .filter_map(|id| world.index_of(id))
                .filter(|index| world.instances[*index].region == region)
                .collect();
            indexes.sort_unstable();
            indexes.dedup();
            Cow::Owned(indexes)
        }
    }
}

fn instance_ids_filter(parameters: &Parameters) -> Result<Option<Vec<String>>, ApiError> {
    let Some(text) = parameters
        .get("InstanceIds")
        .filter(|text| !text.is_empty())
    else {
        return Ok(None);
    };
    let ids: Vec<String> =
        serde_json::from_str(text).map_err(|_| ApiError::invalid_named_parameter("InstanceIds"))?;
    if ids.len() > MAX_IDS {
        return Err(ApiError::invalid_named_parameter("InstanceIds"));
    }
    Ok(Some(ids))
}

fn status_filter(parameters: &Parameters) -> Result<Option<Status>, ApiError> {
    match parameters.get("Status").filter(|text| !text.is_empty()) {
        None => Ok(None),
        Some(text) => text.parse().map(Some).map_err(|()| {
            ApiError::new(
                404,
                "InvalidStatus.NotFound",
                "The specified Status is not valid.",
            )
        }),
    }
}

/// Matches `*` as any run of characters, everything else literally.
fn wildcard_matches(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(position) => rest = &rest[position + part.len()..],
            None => return false,
        }
    }
    true
}

/// DescribeInstances paging: `NextToken`/`MaxResults` when either is given, else
/// `PageNumber`/`PageSize`.
#[derive(Debug)]
struct Paging {
    offset: usize,
    size: usize,
    by_token: bool,
}

impl Paging {
    fn from_parameters(parameters: &Parameters) -> Result<Paging, ApiError> {
        let token = parameters
            .get("NextToken")
            .filter(|token| !token.is_empty());
        let max_results = parameters
            .get("MaxResults")
            .filter(|value| !value.is_empty());
        if token.is_some() || max_results.is_some() {
            let size = parameters
                .number("MaxResults", 10, 0..=u64::from(u32::MAX))?
                .clamp(10, 100) as usize;
            let offset = token.map(decode_token).transpose()?.unwrap_or(0);
            return Ok(Paging {
                offset,
                size,
                by_token: true,
            });
        }
        let size = parameters.number("PageSize", 10, 1..=100)? as usize;
        let number = parameters.number("PageNumber", 1, 1..=u64::from(u32::MAX))? as usize;
        Ok(Paging {
            offset: (number - 1).saturating_mul(size),
            size,
            by_token: false,
        })
    }

    fn page(&self, total: usize) -> std::ops::Range<usize> {
        let start = self.offset.min(total);
        start..start.saturating_add(self.size).min(total)
    }

    fn page_number(&self) -> usize {
        if self.by_token {
            1
        } else {
            self.offset / self.size + 1
        }
    }

    fn next_token(&self, end: usize, total: usize) -> String {
        if end < total {
            format!("emulator-{end:x}")
        } else {
            String::new()
        }
    }
}

fn decode_token(token: &str) -> Result<usize, ApiError> {
    token
        .strip_prefix("emulator-")
        .and_then(|hex| usize::from_str_radix(hex, 16).ok())
        .ok_or_else(|| ApiError::invalid_named_parameter("NextToken"))
}

fn describe(instance: &Instance) -> Value {
    let os_name = match instance.os_type {
        OsType::Linux => "Alibaba Cloud Linux 3.2104 LTS 64 bit",
        OsType::Windows => "Windows Server 2022 Datacenter 64-bit",
    };
    let locks: Vec<Value> = instance
        .lock_reasons
        .iter()
        .map(|reason| json!({"LockReason": reason, "LockMsg": ""}))
        .collect();
    let status = instance.status();
    json!({
        "InstanceId": instance.id,
        "InstanceName": instance.name,
        "HostName": instance.name,
        "Status": status.as_str(),
        "OSType": instance.os_type.as_str(),
        "OSName": os_name,
        "KeyPairName": instance.key_pair_name.as_deref().unwrap_or(""),
        "RegionId": instance.region,
        "ZoneId": format!("{}-a", instance.region),
        "InstanceType": "ecs.g7.large",
        "ImageId": "m-emulator",
        "StartTime": instance.start_time.map(api_time).unwrap_or_default(),
        "CreationTime": api_time(instance.creation_time),
        "StoppedMode": if status == Status::Stopped { "KeepCharging" } else { "Not-applicable" },
        "OperationLocks": {"LockReason": locks},
        "Tags": {"Tag": []},
    })
}

/// Times as DescribeInstances writes them: `yyyy-MM-ddTHH:mmZ`, to the minute.
pub fn api_time(at: OffsetDateTime) -> String {
    at.format(format_description!("[year]-[month]-[day]T[hour]:[minute]Z"))
        .unwrap_or_default()
}

fn malformed_password() -> ApiError {
    ApiError::new(
        400,
        "InvalidPassword.Malformed",
        "The specified parameter \"Password\" is not valid.",
    )
}

/// 8 to 30 characters from letters, digits and the documented specials, of at least three of
/// the four kinds.
fn check_password_policy(password: &str) -> Result<(), ApiError> {
    let length = password.chars().count();
    if !(8..=30).contains(&length) {
        return Err(malformed_password());
    }
    let mut kinds = [false; 4];
    for character in password.chars() {
        let kind = if character.is_ascii_uppercase() {
            0
        } else if character.is_ascii_lowercase() {
            1
        } else if character.is_ascii_digit() {
            2
        } else if PASSWORD_SPECIALS.contains(character) {
            3
        } else {
            return Err(malformed_password());
        };
        kinds[kind] = true;
    }
    if kinds.iter().filter(|present| **present).count() < 3 {
        return Err(malformed_password());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_policy_needs_three_kinds_and_known_characters() {
        assert!(check_password_policy("Abcdefg1").is_ok());
        assert!(check_password_policy("abc#efg1").is_ok());
        assert!(check_password_policy("abcdefg1").is_err());
        assert!(check_password_policy("Ab1!").is_err());
        assert!(check_password_policy("Abcdefg1 space").is_err());
        assert!(check_password_policy("Abcdefg1\u{e9}").is_err());
        assert!(check_password_policy(&"Ab1!".repeat(8)).is_err());
    }

    #[test]
    fn wildcards_match_any_run_of_characters() {
        assert!(wildcard_matches("web-*", "web-1"));
        assert!(wildcard_matches("*-1", "web-1"));
        assert!(wildcard_matches("w*b*1", "web-1"));
        assert!(!wildcard_matches("db-*", "web-1"));
        assert!(wildcard_matches("web-1", "web-1"));
        assert!(!wildcard_matches("a*a", "a"));
    }
}
