//! `deploy/` stays true to the code: every YAML/JSON file parses; the alert rules, dashboard and
//! docs name only metrics `src/metrics.rs` exports (and the dashboard shows all of them); the
//! Kubernetes probes and scrape annotations point at real admin routes; embedded configs parse
//! and equal `mysql-conf/`; and Prometheus' own `promtool` accepts the config, the rules, the
//! rule unit tests and every dashboard query.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize as _;
use serde_norway::Value;
use sheetsync::config::Config;

use crate::admin_support::required_tool;

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(relative: &str) -> String {
    std::fs::read_to_string(repository().join(relative))
        .unwrap_or_else(|error| panic!("read {relative}: {error}"))
}

fn yaml_documents(relative: &str) -> Vec<Value> {
    serde_norway::Deserializer::from_str(&read(relative))
        .map(|document| {
            Value::deserialize(document).unwrap_or_else(|error| panic!("{relative}: {error}"))
        })
        .collect()
}

fn files_under(directory: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(directory).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files.sort();
    files
}

#[test]
fn every_yaml_and_json_file_parses() {
    let mut parsed = BTreeSet::new();
    for path in files_under(&repository().join("deploy")) {
        let relative = path
            .strip_prefix(repository())
            .expect("inside")
            .to_string_lossy()
            .into_owned();
        match path.extension().and_then(|extension| extension.to_str()) {
            Some("yaml" | "yml") => {
                assert!(!yaml_documents(&relative).is_empty(), "{relative} is empty");
            }
            Some("json") => {
                serde_json::from_str::<serde_json::Value>(&read(&relative))
                    .unwrap_or_else(|error| panic!("{relative}: {error}"));
            }
            _ => continue,
        }
        parsed.insert(relative);
    }
    for expected in [
        "deploy/kubernetes.yaml",
        "deploy/compose.yaml",
        "deploy/prometheus.yml",
        "deploy/alerts.yml",
        "deploy/alerts.test.yml",
        "deploy/grafana-dashboard.json",
    ] {
        assert!(parsed.contains(expected), "{expected} missing: {parsed:?}");
    }
}

/// `sheetsync_…` names in `text`, histogram series suffixes folded to the histogram's name.
fn metric_names(text: &str) -> BTreeSet<String> {
    let histograms: BTreeSet<&str> = sheetsync::metrics::ALL
        .iter()
        .filter(|metric| metric.kind == sheetsync::metrics::Kind::Histogram)
        .map(|metric| metric.name)
        .collect();
    let mut names = BTreeSet::new();
    for (start, _) in text.match_indices("sheetsync_") {
        if text[..start]
            .chars()
            .next_back()
            .is_some_and(|before| before.is_ascii_alphanumeric() || before == '_')
        {
            continue;
        }
        let name: String = text[start..]
            .chars()
            .take_while(|character| character.is_ascii_lowercase() || *character == '_')
            .collect();
        if name == "sheetsync_" {
            continue; // the prefix itself, as prose mentions it
        }
        let folded = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| {
                name.strip_suffix(suffix)
                    .filter(|base| histograms.contains(base))
            })
            .map(str::to_string)
            .unwrap_or(name);
        names.insert(folded);
    }
    names
}

#[test]
fn alerts_dashboard_and_docs_use_only_exported_metrics() {
    let exported: BTreeSet<String> = sheetsync::metrics::ALL
        .iter()
        .map(|metric| metric.name.to_string())
        .collect();
    for file in [
        "deploy/alerts.yml",
        "deploy/alerts.test.yml",
        "deploy/grafana-dashboard.json",
        "docs/metrics.md",
    ] {
        let used = metric_names(&read(file));
        let unknown: Vec<_> = used.difference(&exported).collect();
        assert!(
            unknown.is_empty(),
            "{file} uses unknown metrics {unknown:?}"
        );
        if file.ends_with(".json") || file.ends_with(".md") {
            let missing: Vec<_> = exported.difference(&used).collect();
            assert!(missing.is_empty(), "{file} does not show {missing:?}");
        }
    }
    assert!(metric_names("x sheetsync_cells_per_flush_bucket{le=\"1\"}")
        .contains("sheetsync_cells_per_flush"));
    assert!(metric_names("not_sheetsync_x").is_empty());
}

fn kubernetes_object<'a>(documents: &'a [Value], kind: &str, name: &str) -> &'a Value {
    documents
        .iter()
        .find(|document| document["kind"] == kind && document["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} in deploy/kubernetes.yaml"))
}

fn text<'a>(value: &'a Value, what: &str) -> &'a str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("{what} is not a string: {value:?}"))
}

#[test]
fn kubernetes_probes_scraping_and_embedded_files_are_real() {
    let documents = yaml_documents("deploy/kubernetes.yaml");
    let config_map = kubernetes_object(&documents, "ConfigMap", "sheetsync-config");
    let config = Config::from_toml(text(
        &config_map["data"]["sheetsync.toml"],
        "sheetsync.toml",
    ))
    .expect("the ConfigMap's sheetsync.toml is a valid config");
    let admin_port = u64::from(config.metrics.listen.port());
    let webhook_port = u64::from(config.webhook.listen.port());

    let database = kubernetes_object(&documents, "ConfigMap", "mariadb-config");
    assert_eq!(
        text(&database["data"]["sheetsync.cnf"], "sheetsync.cnf"),
        read("mysql-conf/mariadb.cnf")
    );
    assert_eq!(
        text(&database["data"]["grants.sql"], "grants.sql"),
        read("mysql-conf/grants.sql")
    );

    let pod = &kubernetes_object(&documents, "StatefulSet", "sheetsync")["spec"]["template"];
    let annotations = &pod["metadata"]["annotations"];
    assert_eq!(annotations["prometheus.io/scrape"], "true");
    assert_eq!(
        annotations["prometheus.io/port"],
        admin_port.to_string().as_str()
    );
    let scrape_path = text(&annotations["prometheus.io/path"], "scrape path");
    assert!(
        sheetsync::admin::ROUTES.contains(&scrape_path),
        "{scrape_path}"
    );

    let containers = pod["spec"]["containers"].as_sequence().expect("containers");
    let sidecar = containers
        .iter()
        .find(|container| container["name"] == "sheetsync")
        .expect("the sheetsync container");
    let port_named = |name: &str| {
        sidecar["ports"]
            .as_sequence()
            .expect("ports")
            .iter()
            .find(|port| port["name"] == name)
            .and_then(|port| port["containerPort"].as_u64())
            .unwrap_or_else(|| panic!("no port {name}"))
    };
    assert_eq!(port_named("admin"), admin_port);
    assert_eq!(port_named("webhook"), webhook_port);
    for (probe, route) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
        let http = &sidecar[probe]["httpGet"];
        assert_eq!(http["path"], route, "{probe}");
        assert!(sheetsync::admin::ROUTES.contains(&route));
        assert_eq!(http["port"], "admin", "{probe} must ask the admin listener");
    }

    let secret = kubernetes_object(&documents, "Secret", "sheetsync-secrets");
    let mut references = 0;
    for container in containers {
        for variable in container["env"].as_sequence().into_iter().flatten() {
            let reference = &variable["valueFrom"]["secretKeyRef"];
            if let Some(key) = reference["key"].as_str() {
                assert_eq!(reference["name"], "sheetsync-secrets");
                assert!(
                    !secret["stringData"][key].is_null(),
                    "secret key {key} missing"
                );
                references += 1;
            }
        }
    }
    assert!(
        references >= 4,
        "the passwords and secrets come from the Secret"
    );
    assert_eq!(sidecar["securityContext"]["runAsNonRoot"], true);
}

#[test]
fn compose_mounts_existing_files_and_a_valid_config() {
    let compose = &yaml_documents("deploy/compose.yaml")[0];
    let services = compose["services"].as_mapping().expect("services");
    for (name, service) in services {
        for volume in service["volumes"].as_sequence().into_iter().flatten() {
            let volume = text(volume, "volume");
            let host = volume.split(':').next().unwrap_or_default();
            if host.starts_with('.') {
                assert!(
                    repository().join("deploy").join(host).exists(),
                    "service {name:?} mounts missing {host}"
                );
            }
        }
    }
    let build = &compose["services"]["sheetsync"]["build"];
    let context = repository()
        .join("deploy")
        .join(text(&build["context"], "context"));
    assert!(context
        .join(text(&build["dockerfile"], "dockerfile"))
        .is_file());
    Config::from_toml(&read("deploy/sheetsync.toml")).expect("deploy/sheetsync.toml is valid");
}

#[test]
fn the_dockerfile_builds_in_one_stage_and_runs_unprivileged_in_another() {
    let dockerfile = read("deploy/Dockerfile");
    let stages: Vec<&str> = dockerfile.split("\nFROM ").skip(1).collect();
    assert!(stages.len() >= 2, "multi-stage");
    assert!(
        stages[0].contains("cargo build --release --locked --package sheetsync --bin sheetsync")
    );
    let runtime = stages[stages.len() - 1];
    assert!(runtime.contains("COPY --from=builder /out/sheetsync /usr/local/bin/sheetsync"));
    assert!(runtime.contains("ENTRYPOINT [\"/usr/local/bin/sheetsync\"]"));
    let user = runtime
        .lines()
        .find_map(|line| line.strip_prefix("USER "))
        .expect("the runtime stage sets USER");
    assert!(
        !user.starts_with("root") && !user.starts_with("0"),
        "{user}"
    );
    assert!(read("deploy/Dockerfile.dockerignore").contains("target/"));
}

fn promtool(arguments: &[&str]) {
    let Some(promtool) = required_tool("promtool", "prometheus") else {
        return;
    };
    let output = Command::new(promtool)
        .args(arguments)
        .current_dir(repository().join("deploy"))
        .output()
        .expect("run promtool");
    assert!(
        output.status.success(),
        "promtool {arguments:?}:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn promtool_accepts_the_config_the_rules_and_their_tests() {
    promtool(&["check", "config", "prometheus.yml"]);
    promtool(&["check", "rules", "alerts.yml"]);
    promtool(&["test", "rules", "alerts.test.yml"]);
}

#[test]
fn every_dashboard_query_is_valid_promql() {
    let dashboard: serde_json::Value =
        serde_json::from_str(&read("deploy/grafana-dashboard.json")).expect("json");
    let mut rules = String::from("groups:\n  - name: dashboard\n    rules:\n");
    let mut count = 0;
    for panel in dashboard["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().into_iter().flatten() {
            // Grafana's variables, as Grafana would substitute them.
            let expression = target["expr"]
                .as_str()
                .expect("expr")
                .replace("$__rate_interval", "1m")
                .replace("$instance", ".*");
            count += 1;
            rules.push_str(&format!(
                "      - record: dashboard:query_{count}\n        expr: {}\n",
                serde_json::to_string(&expression).expect("quote")
            ));
        }
    }
    assert!(count >= 15, "{count} queries");
    let directory = tempfile::tempdir().expect("temp dir");
    let file = directory.path().join("dashboard-rules.yml");
    std::fs::write(&file, rules).expect("write");
    promtool(&["check", "rules", file.to_str().expect("utf-8 path")]);
}
