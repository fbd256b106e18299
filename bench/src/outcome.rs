//! Benchmark results: what one benchmark measured, as one JSON line in
//! `target/bench/results.jsonl` and as rows of the human table on stdout.
//!
//! Consumes the figures a benchmark produces; produces the JSON line and the table. Guarantees:
//! every figure carries its value, the target from the issue (when it has one), whether it met
//! it, and its ratio to a baseline measured in the same run; a benchmark that could not finish
//! is a result too (with `error` set and no pass), so a failed run still leaves a record.

use std::io::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// "At most" for latencies, memory, requests; "at least" for throughput.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Comparison {
    AtMost,
    AtLeast,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Target {
    pub comparison: Comparison,
    pub value: f64,
}

impl Target {
    pub fn at_most(value: f64) -> Option<Target> {
        Some(Target {
            comparison: Comparison::AtMost,
            value,
        })
    }

    pub fn at_least(value: f64) -> Option<Target> {
        Some(Target {
            comparison: Comparison::AtLeast,
            value,
        })
    }

    pub fn met_by(&self, value: f64) -> bool {
        match self.comparison {
            Comparison::AtMost => value <= self.value,
            Comparison::AtLeast => value >= self.value,
        }
    }

    pub fn describe(&self, unit: &str) -> String {
        let sign = match self.comparison {
            Comparison::AtMost => "≤",
            Comparison::AtLeast => "≥",
        };
        format!("{sign} {}", format_value(self.value, unit))
    }
}

/// What a figure is compared with, measured (or derived from a measurement) in the same run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    pub name: String,
    pub value: f64,
    pub unit: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    pub name: String,
    pub value: f64,
    pub unit: String,
    pub target: Option<Target>,
    pub pass: Option<bool>,
    pub baseline: Option<Baseline>,
    /// `value / baseline.value`.
    pub ratio: Option<f64>,
}

impl Figure {
    pub fn new(name: &str, value: f64, unit: &str, target: Option<Target>) -> Figure {
        let pass = target.as_ref().map(|target| target.met_by(value));
        Figure {
            name: name.into(),
            value,
            unit: unit.into(),
            target,
            pass,
            baseline: None,
            ratio: None,
        }
    }

    pub fn against(mut self, baseline_name: &str, baseline: f64, unit: &str) -> Figure {
        self.ratio = (baseline != 0.0).then(|| self.value / baseline);
        self.baseline = Some(Baseline {
            name: baseline_name.into(),
            value: baseline,
            unit: unit.into(),
        });
        self
    }
}

/// The machine a result was measured on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub memory: String,
    pub kernel: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchResult {
    pub benchmark: String,
    pub profile: String,
    pub started_unix: u64,
    pub duration_s: f64,
    pub command: String,
    pub git_commit: String,
    pub machine: Machine,
    pub figures: Vec<Figure>,
    /// Facts a reader needs to judge the figures (sizes, what the baseline is, limits seen).
    pub notes: Vec<String>,
    pub error: Option<String>,
}

impl BenchResult {
    /// Passed when it finished and every figure with a target met it.
    pub fn passed(&self) -> bool {
        self.error.is_none() && self.figures.iter().all(|figure| figure.pass != Some(false))
    }
}

pub fn append_line(path: &Path, result: &BenchResult) -> anyhow::Result<()> {
    if let Some(directory) = path.parent() {
        std::fs::create_dir_all(directory)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    writeln!(file, "{}", serde_json::to_string(result)?)?;
    Ok(())
}

pub fn read_lines(path: &Path) -> anyhow::Result<Vec<BenchResult>> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| anyhow::anyhow!("cannot read {}: {error}", path.display()))?;
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .enumerate()
        .map(|(index, line)| {
            serde_json::from_str(line)
                .map_err(|error| anyhow::anyhow!("{} line {}: {error}", path.display(), index + 1))
        })
        .collect()
}

/// A value with its unit, at a precision a reader can use.
pub fn format_value(value: f64, unit: &str) -> String {
    let number = if value.abs() >= 1000.0 || value == value.trunc() {
        format!("{value:.0}")
    } else if value.abs() >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.3}")
    };
    if unit.is_empty() {
        number
    } else {
        format!("{number} {unit}")
    }
}

pub fn format_ratio(ratio: Option<f64>) -> String {
    match ratio {
        Some(ratio) if ratio >= 100.0 => format!("{ratio:.0}×"),
        Some(ratio) if ratio >= 0.01 => format!("{ratio:.2}×"),
        Some(ratio) => format!("{ratio:.5}×"),
        None => "—".into(),
    }
}

pub fn pass_text(pass: Option<bool>) -> &'static str {
    match pass {
        Some(true) => "PASS",
        Some(false) => "FAIL",
        None => "info",
    }
}

/// Table rows: benchmark, figure, value, target, pass, baseline, ratio.
pub fn table_rows(results: &[BenchResult]) -> Vec<[String; 7]> {
    let mut rows = Vec::new();
    for result in results {
        if let Some(error) = &result.error {
            rows.push([
                result.benchmark.clone(),
                "(no valid result)".into(),
                error
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .chars()
                    .take(90)
                    .collect(),
                String::new(),
                "FAIL".into(),
                String::new(),
                String::new(),
            ]);
        }
        for figure in &result.figures {
            rows.push([
                result.benchmark.clone(),
                figure.name.clone(),
                format_value(figure.value, &figure.unit),
                figure
                    .target
                    .as_ref()
                    .map(|target| target.describe(&figure.unit))
                    .unwrap_or_default(),
                pass_text(figure.pass).into(),
                figure
                    .baseline
                    .as_ref()
                    .map(|baseline| {
                        format!(
                            "{} = {}",
                            baseline.name,
                            format_value(baseline.value, &baseline.unit)
                        )
                    })
                    .unwrap_or_default(),
                format_ratio(figure.ratio),
            ]);
        }
    }
    rows
}

pub fn print_table(results: &[BenchResult]) {
    let header = [
        "benchmark",
        "figure",
        "value",
        "target",
        "pass",
        "baseline",
        "ratio",
    ]
    .map(String::from);
    let rows = table_rows(results);
    let mut widths = header.clone().map(|cell| cell.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |row: &[String; 7]| {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        println!("{}", cells.join("  ").trim_end());
    };
    line(&header);
    line(&widths.map(|width| "-".repeat(width)));
    for row in &rows {
        line(row);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_compare_in_their_direction() {
        let latency = Figure::new("p50", 120.0, "ms", Target::at_most(100.0));
        assert_eq!(latency.pass, Some(false));
        let throughput = Figure::new("rate", 13.0, "×", Target::at_least(12.0));
        assert_eq!(throughput.pass, Some(true));
        assert_eq!(Figure::new("info", 1.0, "", None).pass, None);
    }

    #[test]
    fn ratio_is_value_over_baseline_and_absent_for_a_zero_baseline() {
        let figure = Figure::new("p50", 50.0, "ms", None).against("floor", 500.0, "ms");
        assert_eq!(figure.ratio, Some(0.1));
        let figure = Figure::new("p50", 50.0, "ms", None).against("none", 0.0, "ms");
        assert_eq!(figure.ratio, None);
    }

    #[test]
    fn a_result_with_an_error_or_a_missed_target_did_not_pass() {
        let mut result = BenchResult {
            benchmark: "b".into(),
            profile: "quick".into(),
            started_unix: 0,
            duration_s: 0.0,
            command: String::new(),
            git_commit: String::new(),
            machine: Machine::default(),
            figures: vec![Figure::new("x", 1.0, "", Target::at_most(2.0))],
            notes: Vec::new(),
            error: None,
        };
        assert!(result.passed());
        result.error = Some("timed out".into());
        assert!(!result.passed());
        result.error = None;
        result
            .figures
            .push(Figure::new("y", 3.0, "", Target::at_most(2.0)));
        assert!(!result.passed());
    }
}
