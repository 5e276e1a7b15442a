//! The README's walk through the API, run as written (`bash`, `curl`, `jq`) against a test
//! server, on both backends: it runs start to finish and answers instants at +08:00; run a
//! second time, or with a wrong admin password, it stops at the step that failed, printing
//! the problem, instead of carrying `null` into the next step. Without the tools the test
//! says SKIPPED and passes, except under `CI`, where it fails.

use std::process::{Command, Output, Stdio};

use jiban_tests::{ADMIN_PASSWORD, TestServer, both_backends};

const README: &str = include_str!("../../README.md");

/// The shell blocks of the README's walk, with the test server's address and `password`.
fn walk(server: &TestServer, password: &str) -> String {
    let start = README
        .find("## A walk through the API")
        .expect("the README has its walk");
    let end = start
        + README[start..]
            .find("\n## ")
            .expect("a section follows the walk");
    let mut script = String::new();
    for block in README[start..end].split("```sh\n").skip(1) {
        script.push_str(block.split("```").next().unwrap_or_default());
    }
    for (written, meant) in [
        (
            "API=http://127.0.0.1:8080",
            format!("API={}", server.base_url()),
        ),
        (
            "ADMIN_PASSWORD='the password printed at the first start'",
            format!("ADMIN_PASSWORD='{password}'"),
        ),
    ] {
        assert!(script.contains(written), "the walk sets {written}");
        script = script.replace(written, &meant);
    }
    script
}

fn run(script: &str) -> Output {
    Command::new("bash")
        .args(["-c", script])
        .stdin(Stdio::null())
        .output()
        .expect("bash runs")
}

fn tools_present() -> bool {
    let present = ["bash", "curl", "jq"].iter().all(|tool| {
        Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    if !present {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the README's walk: bash, curl and jq are needed"
        );
        eprintln!("SKIPPED: the README's walk needs bash, curl and jq");
    }
    present
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

both_backends!(the_readme_walk_runs_once_and_stops_loudly_after, |server| {
    if !tools_present() {
        return;
    }
    let out = run(&walk(server, "a wrong password"));
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(!out.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("invalid_credentials"), "{stderr}");
    assert_eq!(stdout, "", "nothing ran after the login");

    let out = run(&walk(server, ADMIN_PASSWORD));
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    for expected in [
        "\"accept_due_at\": \"",
        "+08:00\"",
        "\"close_reason\": \"rated\"",
        "\"closed\"\n]",
        "\"code\": \"uscc_taken\"",
    ] {
        assert!(stdout.contains(expected), "{expected} in:\n{stdout}");
    }

    let out = run(&walk(server, ADMIN_PASSWORD));
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(!out.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("department_code_taken"), "{stderr}");
    assert_eq!(stdout, "", "nothing ran after the department");
});
