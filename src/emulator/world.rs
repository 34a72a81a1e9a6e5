//! The emulator's mutable world: every instance, indexes by id and region, the history of
//! changes and the count of calls per operation.
//!
//! One mutex guards the whole world and every operation runs start to finish under it, so
//! concurrent calls on the same instance are serialized exactly as if they had arrived one
//! after the other. Operations are short and never wait while holding it.

use std::collections::{BTreeMap, HashMap};

use super::clock::{Clock, seconds_to_ms};
use super::fleet::Fleet;
use super::instance::{Change, Instance};
use super::response::ApiError;

/// Instances, indexes, history and call counts.
#[derive(Debug)]
pub struct World {
    /// The emulated clock.
    pub clock: Clock,
    /// Every instance ever loaded, including deleted ones (which the indexes no longer list).
    pub instances: Vec<Instance>,
    by_id: HashMap<String, usize>,
    by_region: HashMap<String, Vec<usize>>,
    history: Vec<Change>,
    calls: BTreeMap<String, u64>,
    /// Emulated milliseconds a start takes.
    pub start_ms: u64,
    /// Emulated milliseconds a stop takes.
    pub stop_ms: u64,
    /// Emulated milliseconds a reboot takes.
    pub reboot_ms: u64,
}

impl World {
    /// Loads a fleet with its clock starting now.
    pub fn new(fleet: Fleet) -> World {
        let clock = Clock::start(fleet.time_scale);
        let start_ms = seconds_to_ms(fleet.timing.start);
        let stop_ms = seconds_to_ms(fleet.timing.stop);
        let mut by_id = HashMap::with_capacity(fleet.instances.len());
        let mut by_region: HashMap<String, Vec<usize>> = HashMap::new();
        let instances: Vec<Instance> = fleet
            .instances
            .into_iter()
            .enumerate()
            .map(|(index, declared)| {
                by_id.insert(declared.id.clone(), index);
                by_region
                    .entry(declared.region.clone())
                    .or_default()
                    .push(index);
                Instance::from_fleet(declared, &clock, start_ms, stop_ms)
            })
            .collect();
        World {
            clock,
            instances,
            by_id,
            by_region,
            history: Vec::new(),
            calls: BTreeMap::new(),
            start_ms,
            stop_ms,
            reboot_ms: seconds_to_ms(fleet.timing.reboot),
        }
    }

    /// Emulated milliseconds since the start.
    pub fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    /// Finds a live instance, settled to `now_ms`. With a region, an instance of another
    /// region is not found, as the real service answers only for the region asked. Without
    /// one (the current SDK sends no `RegionId` to the single-instance operations), any region's
    /// instance is found: every region is served at one address, so the emulator cannot tell
    /// the region from the host as the service does (docs/limitations.md).
    pub fn find(&mut self, id: &str, region: Option<&str>, now_ms: u64) -> Result<usize, ApiError> {
        let index = *self
            .by_id
            .get(id)
            .ok_or_else(ApiError::instance_not_found)?;
        if region.is_some_and(|region| region != self.instances[index].region) {
            return Err(ApiError::instance_not_found());
        }
        self.settle(index, now_ms);
        Ok(index)
    }

    /// Brings one instance's status up to `now_ms`, recording a completed transition.
    pub fn settle(&mut self, index: usize, now_ms: u64) {
        if let Some(change) = self.instances[index].settle(now_ms, &self.clock) {
            self.history.push(change);
        }
    }

    /// Brings every instance's status up to `now_ms`.
    pub fn settle_all(&mut self, now_ms: u64) {
        for index in 0..self.instances.len() {
            self.settle(index, now_ms);
        }
    }

    /// The live instances of a region, in fleet order.
    pub fn region(&self, region: &str) -> &[usize] {
        self.by_region.get(region).map_or(&[], Vec::as_slice)
    }

    /// The index of a live instance, without settling it.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// Every live instance, in fleet order.
    pub fn live(&self) -> Vec<usize> {
        let mut indexes: Vec<usize> = self.by_id.values().copied().collect();
        indexes.sort_unstable();
        indexes
    }

    /// Removes an instance, as if it had been released: it is no longer found or listed.
    pub fn delete(&mut self, index: usize) {
        let instance = &self.instances[index];
        self.by_id.remove(&instance.id);
        if let Some(members) = self.by_region.get_mut(&instance.region) {
            members.retain(|member| *member != index);
        }
    }

    /// Records a change a call made.
    pub fn record(&mut self, change: Change) {
        self.history.push(change);
    }

    /// Counts one call of an operation.
    pub fn count_call(&mut self, action: &str) {
        *self.calls.entry(action.to_owned()).or_default() += 1;
    }

    /// Calls per operation.
    pub fn calls(&self) -> &BTreeMap<String, u64> {
        &self.calls
    }

    /// Every change so far, in emulated-time order, after settling every instance.
    pub fn history(&mut self) -> Vec<Change> {
        let now_ms = self.now_ms();
        self.settle_all(now_ms);
        let mut history = self.history.clone();
        history.sort_by_key(|change| change.at_ms);
        history
    }
}
