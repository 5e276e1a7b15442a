//! A real browser for the dashboard's tests (issue 12): Debian's Chromium, headless, driven
//! over W3C WebDriver by Debian's `chromedriver`, which `scripts/test` installs when
//! missing and names in `JIBAN_TEST_WEBDRIVER`.
//!
//! The client is the few WebDriver commands the tests use, as JSON over HTTP with the
//! suite's own `ureq` (no TLS: the driver listens on the loopback), rather than a crate
//! that brings an async runtime and a TLS stack for a connection that needs neither.

use std::io::Write as _;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

const WEBDRIVER_VAR: &str = "JIBAN_TEST_WEBDRIVER";
/// The W3C key of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A chromedriver process and one headless Chromium session in it; both end on drop.
pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    agent: ureq::Agent,
}

/// An element of the page.
#[derive(Clone, Debug)]
pub struct Element(String);

impl Browser {
    /// A browser from `JIBAN_TEST_WEBDRIVER` (the chromedriver to run). When it is unset
    /// or empty this says SKIPPED on stderr and returns `None`, so the test passes without
    /// running, except under `CI`, where it panics: CI must run the browser tests.
    pub fn from_env() -> Option<Browser> {
        let Some(driver) = std::env::var(WEBDRIVER_VAR)
            .ok()
            .filter(|v| !v.trim().is_empty())
        else {
            if std::env::var_os("CI").is_some() {
                panic!("{WEBDRIVER_VAR} is unset under CI: the browser tests must run there");
            }
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: {WEBDRIVER_VAR} is unset, so this browser test did not run \
                 (scripts/test installs chromium and chromium-driver and sets it)"
            );
            return None;
        };
        Some(Browser::start(&driver))
    }

    /// Starts `driver` on a free port and opens a headless session of 1280×800.
    pub fn start(driver: &str) -> Browser {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{WEBDRIVER_VAR}={driver} does not start: {e}"));
        let agent = ureq::Agent::new_with_config(
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(60)))
                .build(),
        );
        let base = format!("http://127.0.0.1:{port}");
        let mut browser = Browser {
            driver: child,
            base,
            session: String::new(),
            agent,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = browser
                .agent
                .get(format!("{}/status", browser.base))
                .call()
                .ok()
                .and_then(|mut r| r.body_mut().read_json::<Value>().ok())
                .is_some_and(|v| v["value"]["ready"] == true);
            if ready {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{driver} was not ready within 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut args = vec![
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--window-size=1280,800",
            "--lang=zh-CN",
        ];
        if std::env::var_os("JIBAN_TEST_BROWSER_VISIBLE").is_some() {
            args.retain(|a| !a.starts_with("--headless"));
        }
        let mut options = json!({"args": args});
        if let Ok(binary) = std::env::var("JIBAN_TEST_CHROMIUM") {
            options["binary"] = json!(binary);
        } else if std::path::Path::new("/usr/bin/chromium").exists() {
            options["binary"] = json!("/usr/bin/chromium");
        }
        let created = browser.command(
            "POST",
            "/session",
            Some(json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": options,
                "goog:loggingPrefs": {"browser": "ALL"},
            }}})),
        );
        browser.session = created["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {created}"))
            .to_owned();
        browser
    }

    /// One WebDriver command; panics on an error answer, naming it.
    fn command(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.base);
        let request = ureq::http::Request::builder()
            .method(method)
            .uri(&url)
            .header("content-type", "application/json");
        let result = match body {
            Some(body) => self
                .agent
                .run(request.body(body.to_string()).expect("a request")),
            None => self.agent.run(request.body(()).expect("a request")),
        };
        let mut response = result.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status().as_u16();
        let answer: Value = response
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_json()
            .unwrap_or_else(|e| panic!("{method} {path}: {status}, not JSON: {e}"));
        assert!(
            status < 400,
            "{method} {path} answered {status}: {}",
            answer["value"]
        );
        answer["value"].clone()
    }

    fn session_command(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.command(method, &format!("/session/{}{path}", self.session), body)
    }

    pub fn goto(&self, url: &str) {
        self.session_command("POST", "/url", Some(json!({"url": url})));
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns its value.
    pub fn execute(&self, script: &str, args: Value) -> Value {
        self.session_command(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
    }

    /// Waits until `script` returns something truthy (and returns it), up to 20 s.
    #[track_caller]
    pub fn wait_for(&self, what: &str, script: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let v = self.execute(script, json!([]));
            let truthy = match &v {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::String(s) => !s.is_empty(),
                Value::Array(a) => !a.is_empty(),
                _ => true,
            };
            if truthy {
                return v;
            }
            if Instant::now() > deadline {
                let page = self.execute(
                    "return document.body ? document.body.innerText : ''",
                    json!([]),
                );
                panic!("waited 20 s for {what}; the page says:\n{page}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The first element matching `css`, waiting for it up to 20 s.
    #[track_caller]
    pub fn find(&self, css: &str) -> Element {
        self.wait_for(
            &format!("an element {css}"),
            &format!("return document.querySelector({})", json!(css)),
        );
        let v = self.session_command(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        Element(
            v[ELEMENT]
                .as_str()
                .unwrap_or_else(|| panic!("an element reference: {v}"))
                .to_owned(),
        )
    }

    pub fn click(&self, element: &Element) {
        self.session_command(
            "POST",
            &format!("/element/{}/click", element.0),
            Some(json!({})),
        );
    }

    /// Types `text` into an element, as keystrokes.
    pub fn type_into(&self, element: &Element, text: &str) {
        self.session_command(
            "POST",
            &format!("/element/{}/value", element.0),
            Some(json!({"text": text})),
        );
    }

    /// Presses keys on the focused element (WebDriver's key codes, e.g. "\u{E004}" Tab).
    pub fn keys(&self, keys: &str) {
        let mut actions = Vec::new();
        for c in keys.chars() {
            actions.push(json!({"type": "keyDown", "value": c.to_string()}));
            actions.push(json!({"type": "keyUp", "value": c.to_string()}));
        }
        self.session_command(
            "POST",
            "/actions",
            Some(json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]})),
        );
    }

    pub fn text(&self, element: &Element) -> String {
        self.session_command("GET", &format!("/element/{}/text", element.0), None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Sets the window's size (the page at a phone's width, or 1280×800).
    pub fn resize(&self, width: u32, height: u32) {
        self.session_command(
            "POST",
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        );
    }

    /// Saves a screenshot of the viewport as `target/screenshots/<name>.png` (the CI
    /// artifacts) and returns its path.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.session_command("GET", "/screenshot", None);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().expect("a screenshot"))
            .expect("base64");
        let dir = screenshots_dir();
        std::fs::create_dir_all(&dir).expect("target/screenshots");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, bytes).expect("a screenshot written");
        path
    }

    /// The browser's console entries since the last call (level, message), from
    /// chromedriver's log endpoint: script errors and CSP violations land here.
    pub fn console(&self) -> Vec<(String, String)> {
        let entries = self.session_command("POST", "/se/log", Some(json!({"type": "browser"})));
        entries
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                (
                    e["level"].as_str().unwrap_or_default().to_owned(),
                    e["message"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let url = format!("{}/session/{}", self.base, self.session);
            let _ = self.agent.delete(url).call();
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// `target/screenshots/` at the workspace's root (`JIBAN_TEST_SCREENSHOTS` to move it).
pub fn screenshots_dir() -> PathBuf {
    match std::env::var_os("JIBAN_TEST_SCREENSHOTS") {
        Some(dir) => PathBuf::from(dir),
        None => crate::openapi::repo().join("target/screenshots"),
    }
}
