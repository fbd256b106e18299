//! The convergence harness's switches, read from the environment so one divergence can be
//! isolated and replayed: how long (`SHEETSYNC_CONVERGE_SECONDS`), which faults
//! (`SHEETSYNC_CONVERGE_FAULTS=kill_9,sheets_503,…`, `none`, default all), which workload
//! actions (`SHEETSYNC_CONVERGE_ACTIONS=sql,edit,paste,add,delete,conflict`, default
//! [`DEFAULT_ACTIONS`]) and
//! the random seed (`SHEETSYNC_CONVERGE_SEED`, default random, always printed). A name that is
//! not a fault or an action fails the run: a typo must not silently test less.

use std::time::Duration;

/// Every fault, in the order the schedule cycles through them.
pub const FAULTS: [&str; 8] = [
    "kill_9",
    "mariadb_restart",
    "sheets_429",
    "sheets_503",
    "sheets_503_after_apply",
    "webhook_outage",
    "added_latency",
    "purged_binlog",
];

/// Every workload action: SQL transactions, and the person's cell edits, pastes, added rows,
/// deleted rows and provoked conflicts.
pub const ACTIONS: [&str; 6] = ["sql", "edit", "paste", "add", "delete", "conflict"];

/// The actions a run uses unless told otherwise: all of them, the person adding and deleting
/// rows together. (Until the row guard, `sync/plan/row_guard.rs`, adds and deletes ran in
/// separate runs: together they left keys twice in the tab for minutes.)
pub const DEFAULT_ACTIONS: [&str; 6] = ACTIONS;

/// The short profile's length: a few minutes in all on a 2-core machine, faults included.
const DEFAULT_SECONDS: u64 = 90;

#[derive(Debug, Clone)]
pub struct Profile {
    pub duration: Duration,
    pub seed: u64,
    pub faults: Vec<&'static str>,
    pub actions: Vec<&'static str>,
}

impl Profile {
    /// The profile the environment asks for; `default_actions` when it names none.
    pub fn from_environment(default_actions: &[&'static str]) -> Profile {
        let variable = |name: &str| std::env::var(name).ok().filter(|text| !text.is_empty());
        let seconds = variable("SHEETSYNC_CONVERGE_SECONDS")
            .map(|text| text.parse().expect("SHEETSYNC_CONVERGE_SECONDS: seconds"))
            .unwrap_or(DEFAULT_SECONDS);
        let seed = variable("SHEETSYNC_CONVERGE_SEED")
            .map(|text| text.parse().expect("SHEETSYNC_CONVERGE_SEED: an integer"))
            .unwrap_or_else(|| fastrand::u64(..));
        Profile {
            duration: Duration::from_secs(seconds),
            seed,
            faults: choose(variable("SHEETSYNC_CONVERGE_FAULTS"), &FAULTS, "fault"),
            actions: match variable("SHEETSYNC_CONVERGE_ACTIONS") {
                None => default_actions.to_vec(),
                list => choose(list, &ACTIONS, "action"),
            },
        }
    }

    pub fn acts(&self, action: &str) -> bool {
        self.actions.contains(&action)
    }
}

/// The names in a comma list (all when unset, none for `none`), each checked against `known`.
fn choose(list: Option<String>, known: &[&'static str], what: &str) -> Vec<&'static str> {
    let Some(list) = list else {
        return known.to_vec();
    };
    if list.trim() == "none" {
        return Vec::new();
    }
    list.split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(|name| {
            known
                .iter()
                .copied()
                .find(|candidate| *candidate == name)
                .unwrap_or_else(|| panic!("unknown {what} {name:?}; known: {known:?}"))
        })
        .collect()
}

#[test]
fn a_list_selects_known_names_and_refuses_a_typo() {
    assert_eq!(choose(None, &FAULTS, "fault").len(), FAULTS.len());
    assert!(choose(Some("none".into()), &FAULTS, "fault").is_empty());
    assert_eq!(
        choose(Some("kill_9, purged_binlog".into()), &FAULTS, "fault"),
        vec!["kill_9", "purged_binlog"]
    );
    let typo = std::panic::catch_unwind(|| choose(Some("kill9".into()), &FAULTS, "fault"));
    assert!(typo.is_err());
}
