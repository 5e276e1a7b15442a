//! `docker-compose.yml` and `Dockerfile`, checked by reading them. No Docker engine runs
//! in CI (DEPENDENCIES.md), so this test is what notices an edit that would leave the
//! deployment without its database, its mail catcher, its second node or its health checks.
//! Anchors and merge keys (`<<:`) are resolved first, as compose does.

use std::collections::BTreeSet;
use std::path::Path;

use serde_norway::{Mapping, Value};

fn repo_file(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The services of `docker-compose.yml`, merge keys applied.
fn services() -> Mapping {
    let mut compose: Value = serde_norway::from_str(&repo_file("docker-compose.yml"))
        .expect("docker-compose.yml is YAML");
    compose
        .apply_merge()
        .expect("the merge keys of docker-compose.yml resolve");
    compose
        .get("services")
        .and_then(Value::as_mapping)
        .cloned()
        .expect("docker-compose.yml has services")
}

fn service<'a>(services: &'a Mapping, name: &str) -> &'a Value {
    services
        .get(name)
        .unwrap_or_else(|| panic!("docker-compose.yml has no service {name:?}"))
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => serde_norway::to_string(other).unwrap(),
    }
}

/// A service's environment, in either of compose's forms (a map, or `NAME=value` lines).
fn environment(service: &Value) -> Vec<(String, String)> {
    match service.get("environment") {
        Some(Value::Mapping(map)) => map.iter().map(|(k, v)| (text(k), text(v))).collect(),
        Some(Value::Sequence(lines)) => lines
            .iter()
            .map(|line| {
                let line = text(line);
                let (k, v) = line.split_once('=').unwrap_or((&line, ""));
                (k.to_owned(), v.to_owned())
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn env_var(service: &Value, name: &str) -> Option<String> {
    environment(service)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// A published port: `(host port, container port)`, from the short syntax
/// (`[ip:]host:container[/proto]`) or the long one (`published`, `target`).
fn published_ports(service: &Value) -> Vec<(String, String)> {
    let Some(ports) = service.get("ports").and_then(Value::as_sequence) else {
        return Vec::new();
    };
    ports
        .iter()
        .filter_map(|port| match port {
            Value::Mapping(_) => Some((
                port.get("published").map(text)?,
                port.get("target").map(text)?,
            )),
            short => {
                let short = text(short);
                let short = short.split('/').next().unwrap_or_default();
                let mut parts = short.rsplitn(3, ':');
                let container = parts.next()?.to_owned();
                let host = parts.next()?.to_owned();
                Some((host, container))
            }
        })
        .collect()
}

/// The health check's command as one string, in whichever form it is written.
fn healthcheck(service: &Value) -> String {
    match service.get("healthcheck").and_then(|h| h.get("test")) {
        Some(Value::Sequence(words)) => words.iter().map(text).collect::<Vec<_>>().join(" "),
        Some(other) => text(other),
        None => String::new(),
    }
}

/// The value a `${NAME:-default}` reference gets when `NAME` is unset.
fn default_of(value: &str) -> &str {
    value
        .strip_prefix("${")
        .and_then(|v| v.strip_suffix('}'))
        .and_then(|v| v.split_once(":-"))
        .map_or(value, |(_, default)| default)
}

/// The services built from this repository's Dockerfile.
fn jiban_nodes(services: &Mapping) -> Vec<(String, &Value)> {
    services
        .iter()
        .filter(|(_, s)| match s.get("build") {
            Some(Value::String(context)) => context == ".",
            Some(build) => {
                build.get("context").map(text).as_deref() == Some(".")
                    && build
                        .get("dockerfile")
                        .map(text)
                        .is_none_or(|f| f == "Dockerfile")
            }
            None => false,
        })
        .map(|(name, s)| (text(name), s))
        .collect()
}

#[test]
fn compose_has_postgres_mailpit_and_two_nodes() {
    let services = services();
    let names: BTreeSet<String> = services.keys().map(text).collect();
    for name in ["postgres", "mailpit", "jiban-1", "jiban-2"] {
        assert!(names.contains(name), "no service {name:?} in {names:?}");
    }

    let postgres = service(&services, "postgres");
    assert!(
        text(&postgres["image"]).starts_with("postgres:"),
        "{:?}",
        postgres["image"]
    );
    assert!(
        healthcheck(postgres).contains("pg_isready"),
        "postgres needs a pg_isready health check: {:?}",
        healthcheck(postgres)
    );

    let mailpit = service(&services, "mailpit");
    assert!(text(&mailpit["image"]).starts_with("axllent/mailpit"));
    let ports = published_ports(mailpit);
    for port in ["1025", "8025"] {
        assert!(
            ports.iter().any(|(_, container)| container == port),
            "mailpit must publish {port}: {ports:?}"
        );
    }
}

#[test]
fn two_nodes_share_the_database_the_secret_and_the_mail_catcher() {
    let services = services();
    let nodes = jiban_nodes(&services);
    let names: Vec<&str> = nodes.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["jiban-1", "jiban-2"],
        "two nodes built from the Dockerfile"
    );

    let mut host_ports = BTreeSet::new();
    for (name, node) in &nodes {
        let ports = published_ports(node);
        let to_8080: Vec<_> = ports.iter().filter(|(_, c)| c == "8080").collect();
        assert_eq!(
            to_8080.len(),
            1,
            "{name} publishes one port to 8080: {ports:?}"
        );
        assert!(
            host_ports.insert(to_8080[0].0.clone()),
            "{name} publishes the same host port as another node: {ports:?}"
        );
        assert!(
            healthcheck(node).contains("/readyz"),
            "{name}'s health check must ask /readyz: {:?}",
            healthcheck(node)
        );
        assert_eq!(
            node.get("depends_on")
                .and_then(|d| d.get("postgres"))
                .and_then(|p| p.get("condition"))
                .map(text)
                .as_deref(),
            Some("service_healthy"),
            "{name} must wait for a healthy postgres"
        );
        assert!(
            node.get("depends_on")
                .and_then(|d| d.get("mailpit"))
                .is_some(),
            "{name} depends on mailpit"
        );
        assert_eq!(
            env_var(node, "JIBAN_SMTP_URL").as_deref(),
            Some("smtp://mailpit:1025"),
            "{name} sends mail to mailpit"
        );
        let database = env_var(node, "JIBAN_DATABASE_URL").unwrap_or_default();
        assert!(
            database.starts_with("postgres://") && database.contains("@postgres:5432/"),
            "{name} uses the postgres service: {database:?}"
        );
        let secret = env_var(node, "JIBAN_JWT_SECRET").unwrap_or_default();
        assert!(
            default_of(&secret).len() >= 32,
            "{name}'s JWT secret (or its default) needs 32+ characters: {secret:?}"
        );
        assert!(
            env_var(node, "JIBAN_ADMIN_PASSWORD").is_some(),
            "{name} sets JIBAN_ADMIN_PASSWORD"
        );
    }

    let (a, b) = (nodes[0].1, nodes[1].1);
    for shared in ["JIBAN_DATABASE_URL", "JIBAN_JWT_SECRET"] {
        assert_eq!(
            env_var(a, shared),
            env_var(b, shared),
            "both nodes need the same {shared}"
        );
    }
}

/// Dockerfile instructions, continuation lines joined, comments dropped.
fn instructions(dockerfile: &str) -> Vec<(String, String)> {
    let mut joined = Vec::new();
    let mut current = String::new();
    for line in dockerfile.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_empty()) {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(part) => {
                current.push_str(part);
                current.push(' ');
            }
            None => {
                current.push_str(trimmed);
                joined.push(std::mem::take(&mut current));
            }
        }
    }
    joined
        .into_iter()
        .filter(|line| !line.is_empty())
        .map(|line| {
            let (word, rest) = line.split_once(char::is_whitespace).unwrap_or((&line, ""));
            (word.to_uppercase(), rest.trim().to_owned())
        })
        .collect()
}

#[test]
fn the_dockerfile_builds_in_one_stage_and_runs_unprivileged_in_another() {
    let dockerfile = instructions(&repo_file("Dockerfile"));
    let args_of = |word: &str| -> Vec<&str> {
        dockerfile
            .iter()
            .filter(|(w, _)| w == word)
            .map(|(_, rest)| rest.as_str())
            .collect()
    };

    let stages = args_of("FROM");
    assert!(stages.len() >= 2, "a multi-stage build: {stages:?}");
    assert!(
        stages[..stages.len() - 1]
            .iter()
            .any(|s| s.to_lowercase().ends_with(" as builder")),
        "a build stage `FROM … AS builder` before the last: {stages:?}"
    );
    assert!(
        args_of("COPY").iter().any(|c| c.contains("--from=builder")),
        "the runtime stage copies the binary from the builder"
    );
    assert!(
        args_of("RUN")
            .iter()
            .any(|r| r.contains("cargo build") && r.contains("--release")),
        "a release build"
    );

    let user = args_of("USER").last().copied().unwrap_or("root");
    let user = user.split(':').next().unwrap_or_default();
    assert!(
        !matches!(user, "root" | "0" | ""),
        "the image runs as a user that is not root: USER {user:?}"
    );
    let healthchecks = args_of("HEALTHCHECK");
    assert!(
        healthchecks.iter().any(|h| h.contains("/readyz")),
        "a HEALTHCHECK on /readyz: {healthchecks:?}"
    );
    assert!(
        args_of("EXPOSE").contains(&"8080"),
        "the image exposes 8080"
    );
}

#[test]
fn dockerfile_instructions_join_continuation_lines() {
    let parsed = instructions("# c\nFROM a AS b\nRUN x \\\n    && y\n\nuser jiban\n");
    assert_eq!(
        parsed,
        [
            ("FROM".to_owned(), "a AS b".to_owned()),
            ("RUN".to_owned(), "x  && y".to_owned()),
            ("USER".to_owned(), "jiban".to_owned()),
        ]
    );
}

#[test]
fn ports_parse_in_short_and_long_syntax() {
    let service: Value = serde_norway::from_str(
        "ports: ['127.0.0.1:8081:8080', '8025:8025/tcp', '9000', {target: 8080, published: 8082}]",
    )
    .unwrap();
    assert_eq!(
        published_ports(&service),
        [
            ("8081".to_owned(), "8080".to_owned()),
            ("8025".to_owned(), "8025".to_owned()),
            ("8082".to_owned(), "8080".to_owned()),
        ]
    );
    assert_eq!(default_of("${X:-abc}"), "abc");
    assert_eq!(default_of("plain"), "plain");
}

/// Issue 11: both nodes keep attachments in the MinIO service (one bucket they share; a
/// node's own folder would not be), which a one-shot service creates before they start.
#[test]
fn both_nodes_store_attachments_in_minio() {
    let services = services();
    let minio = service(&services, "minio");
    assert!(
        text(&minio["image"]).starts_with("minio/minio"),
        "{:?}",
        minio["image"]
    );
    let bucket = service(&services, "minio-bucket");
    let setup = text(&bucket["entrypoint"]);
    assert!(setup.contains("mc mb"), "{setup}");
    let nodes = jiban_nodes(&services);
    let mut urls = BTreeSet::new();
    for (name, node) in &nodes {
        let url = env_var(node, "JIBAN_STORAGE_URL").unwrap_or_default();
        assert!(
            url.starts_with("s3://") && url.contains("endpoint=http://minio:9000"),
            "{name} stores attachments in MinIO: {url:?}"
        );
        assert!(
            setup.contains(&format!(
                "local/{}",
                url["s3://".len()..].split('?').next().unwrap()
            )),
            "{name}'s bucket is the one created: {url} vs {setup}"
        );
        for credential in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
            assert!(
                env_var(node, credential).is_some(),
                "{name} sets {credential}"
            );
        }
        assert_eq!(
            node.get("depends_on")
                .and_then(|d| d.get("minio-bucket"))
                .and_then(|p| p.get("condition"))
                .map(text)
                .as_deref(),
            Some("service_completed_successfully"),
            "{name} waits for the bucket"
        );
        urls.insert(url);
    }
    assert_eq!(urls.len(), 1, "both nodes share one store: {urls:?}");
}
