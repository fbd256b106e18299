//! Injected failures: "fail the next N writes", "fail 30 % of reads", before or after the call
//! is applied. A fault after applying is the nasty one: the write happened, the client sees a 503.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::request_class::{ClassFilter, RequestClass};

/// When a fault strikes relative to the API handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FaultStage {
    /// The call is refused; nothing is applied.
    #[default]
    Before,
    /// The call is applied (if it succeeds), then its response is replaced by the error.
    After,
}

/// What the admin API and Rust tests send to add a fault. Exactly one of `count` and
/// `probability` must be set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// 500 or 503.
    #[serde(default = "default_status")]
    pub status: u16,
    #[serde(default)]
    pub stage: FaultStage,
    /// Which calls it applies to: `read`, `write` or `all`.
    #[serde(default, rename = "class")]
    pub applies_to: ClassFilter,
    /// Fail the next `count` matching calls, then stop.
    #[serde(default)]
    pub count: Option<u32>,
    /// Fail each matching call with this probability (0.0–1.0).
    #[serde(default)]
    pub probability: Option<f64>,
    /// Seed of the probability's random generator, so a run is reproducible.
    #[serde(default)]
    pub seed: u64,
}

fn default_status() -> u16 {
    503
}

impl FaultSpec {
    /// Fail the next `count` writes with `status` at `stage`.
    pub fn next_writes(count: u32, status: u16, stage: FaultStage) -> Self {
        Self {
            status,
            stage,
            applies_to: ClassFilter::Write,
            count: Some(count),
            probability: None,
            seed: 0,
        }
    }

    /// Fail matching calls with `probability`, drawn from a generator seeded with `seed`.
    pub fn random(
        probability: f64,
        seed: u64,
        applies_to: ClassFilter,
        status: u16,
        stage: FaultStage,
    ) -> Self {
        Self {
            status,
            stage,
            applies_to,
            count: None,
            probability: Some(probability),
            seed,
        }
    }

    fn validate(&self) -> Result<(), String> {
        if !matches!(self.status, 500 | 503) {
            return Err(format!("status must be 500 or 503, not {}", self.status));
        }
        match (self.count, self.probability) {
            (Some(_), None) => Ok(()),
            (None, Some(probability)) if (0.0..=1.0).contains(&probability) => Ok(()),
            (None, Some(probability)) => Err(format!(
                "probability must be within 0.0..=1.0, not {probability}"
            )),
            _ => Err("set exactly one of count and probability".to_string()),
        }
    }
}

/// An active fault as listed by the admin API.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fault {
    pub id: u64,
    #[serde(flatten)]
    pub spec: FaultSpec,
    /// How many calls it has failed so far.
    pub fired: u64,
}

struct ActiveFault {
    fault: Fault,
    random: StdRng,
}

#[derive(Default)]
pub struct Faults {
    active: Vec<ActiveFault>,
    next_id: u64,
}

impl Faults {
    pub fn add(&mut self, spec: FaultSpec) -> Result<Fault, String> {
        spec.validate()?;
        self.next_id += 1;
        let fault = Fault {
            id: self.next_id,
            fired: 0,
            spec,
        };
        let random = StdRng::seed_from_u64(fault.spec.seed);
        self.active.push(ActiveFault {
            fault: fault.clone(),
            random,
        });
        Ok(fault)
    }

    pub fn list(&self) -> Vec<Fault> {
        self.active
            .iter()
            .map(|active| active.fault.clone())
            .collect()
    }

    pub fn remove(&mut self, id: u64) -> bool {
        let before = self.active.len();
        self.active.retain(|active| active.fault.id != id);
        self.active.len() != before
    }

    pub fn clear(&mut self) {
        self.active.clear();
    }

    /// The status of the first fault (in the order added) that strikes this call, if any.
    /// A count fault that has used up its count is removed.
    pub fn strike(&mut self, class: RequestClass, stage: FaultStage) -> Option<u16> {
        let mut struck = None;
        for (index, active) in self.active.iter_mut().enumerate() {
            let spec = &active.fault.spec;
            if spec.stage != stage || !spec.applies_to.matches(class) {
                continue;
            }
            let strikes = match (spec.count, spec.probability) {
                (Some(count), _) => u64::from(count) > active.fault.fired,
                (None, Some(probability)) => active.random.gen_bool(probability),
                (None, None) => false,
            };
            if strikes {
                active.fault.fired += 1;
                struck = Some((index, spec.status));
                break;
            }
        }
        let (index, status) = struck?;
        let active = &self.active[index].fault;
        if active
            .spec
            .count
            .is_some_and(|count| u64::from(count) <= active.fired)
        {
            self.active.remove(index);
        }
        Some(status)
    }
}
