//! The supervisors' dashboard in a real browser (issue 12): headless Chromium over
//! WebDriver (`jiban_tests::webdriver`), against the real server on each backend, with a
//! county seeded through the API and `jiban alerts run-once`. Without
//! `JIBAN_TEST_WEBDRIVER` each test says SKIPPED, except under `CI`, where it fails.
//!
//! Screenshots of every view go to `target/screenshots/` (CI keeps them as artifacts).

use chrono::{Duration, Utc};
use jiban_tests::alerts::{act, run_once};
use jiban_tests::fixture::{Person, create_department, create_enterprise, create_person};
use jiban_tests::webdriver::Browser;
use jiban_tests::{TestServer, both_backends};
use serde_json::{Value, json};

/// A title that would run if the page wrote it as HTML.
const HOSTILE_TITLE: &str =
    "<script>window.__xss=1</script>厂区停电<img src=x onerror=\"window.__xss=1\">";

struct Seeded {
    supervisor: Person,
    /// An officer of department A, which holds the escalated ticket.
    officer_a: Person,
    /// An officer of department B.
    officer_b: Person,
    enterprise_user: Person,
    department_b: String,
    /// The ticket with the hostile title, escalated (督办) by the scanner.
    escalated: Value,
}

fn seed(server: &TestServer) -> Seeded {
    let admin = server.admin_token();
    let department_a = create_department(server, &admin, "dashboard-a");
    let department_b = create_department(server, &admin, "dashboard-b");
    for (category, name, department) in [
        ("utilities", "水电气热", &department_a),
        ("land", "用地", &department_b),
    ] {
        let r = server.put(
            &format!("/v1/categories/{category}"),
            &admin,
            json!({"name": name, "department_id": department}),
        );
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let enterprise_id = create_enterprise(server, &admin, "苏州精密制造有限公司");
    let enterprise_user = create_person(
        server,
        &admin,
        "enterprise",
        json!({"enterprise_id": enterprise_id}),
    );
    let supervisor = create_person(server, &admin, "supervisor", json!({}));
    let officer_a = create_person(
        server,
        &admin,
        "officer",
        json!({"department_id": department_a}),
    );
    let officer_b = create_person(
        server,
        &admin,
        "officer",
        json!({"department_id": department_b}),
    );
    let file = |category: &str, urgency: &str, title: &str| -> Value {
        let r = server.post(
            "/v1/tickets",
            &enterprise_user.token,
            json!({"kind": "complaint", "category": category, "urgency": urgency,
                   "title": title,
                   "description": "自昨晚22时起厂区停电，三条产线停工，请尽快协调恢复供电。"}),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        r.json()
    };
    let escalated = file("utilities", "emergency", HOSTILE_TITLE);
    // Department A: one ticket handled to the end and rated; department B: one accepted,
    // one waiting, so both have rows in the ranking and B's officer has a queue.
    let done = file("utilities", "general", "园区路灯不亮");
    let done = act(server, &officer_a.token, &done, "accept", json!({}));
    let done = act(
        server,
        &officer_a.token,
        &done,
        "contact",
        json!({"method": "phone", "summary": "电话联系企业确认情况"}),
    );
    let done = act(
        server,
        &officer_a.token,
        &done,
        "resolve",
        json!({"result": "已协调供电公司修复园区路灯。"}),
    );
    act(
        server,
        &enterprise_user.token,
        &done,
        "rate",
        json!({"level": "satisfied"}),
    );
    let accepted = file("land", "general", "厂房用地手续办理");
    act(server, &officer_b.token, &accepted, "accept", json!({}));
    file("land", "complex", "扩建用地指标咨询");
    // The scanner, three hours on: the emergency ticket's accept deadline (15 minutes) is
    // escalated two hours after it passed.
    run_once(server.database(), Utc::now() + Duration::hours(3), None);
    Seeded {
        supervisor,
        officer_a,
        officer_b,
        enterprise_user,
        department_b,
        escalated,
    }
}

fn backend(server: &TestServer) -> &'static str {
    match server.backend() {
        jiban_tests::Backend::Sqlite => "sqlite",
        jiban_tests::Backend::Postgres => "postgres",
    }
}

/// Opens the dashboard afresh (which forgets any session: tokens live in the page's
/// memory) and logs in.
fn login(browser: &Browser, server: &TestServer, path: &str, person: &Person) {
    browser.goto(&format!("{}{path}", server.base_url()));
    let username = browser.find("#username");
    browser.wait_for(
        "the login form",
        "return !document.getElementById('login').hidden",
    );
    browser.type_into(&username, &person.username);
    browser.type_into(&browser.find("#password"), &person.password);
    browser.click(&browser.find("#login-submit"));
}

/// Waits until the view `name` has drawn its data.
fn ready(browser: &Browser, name: &str) {
    browser.wait_for(
        &format!("the view {name}"),
        &format!("return document.getElementById('view').dataset.ready === {name:?}"),
    );
}

/// No console error: no script error, no CSP violation, no failed request.
fn no_console_errors(browser: &Browser, when: &str) {
    let severe: Vec<_> = browser
        .console()
        .into_iter()
        .filter(|(level, _)| level == "SEVERE")
        .collect();
    assert!(severe.is_empty(), "console errors {when}: {severe:?}");
}

/// The current month in +08:00 as the stats API's `from` and `to`.
fn this_month() -> (String, String) {
    use chrono::Datelike as _;
    let now = (Utc::now() + Duration::hours(8)).date_naive();
    let from = now.with_day(1).unwrap();
    let to = from
        .checked_add_months(chrono::Months::new(1))
        .expect("next month");
    (from.to_string(), to.to_string())
}

fn percent(rate: &Value) -> String {
    rate.as_f64()
        .map_or("—".to_owned(), |r| format!("{:.1}%", r * 100.0))
}

// Without a browser too: the page and its files carry a strict CSP, and the address
// typed with a trailing slash leads to the page rather than to a 404.
both_backends!(the_page_is_served_with_a_strict_policy, |server| {
    for path in [
        "/dashboard",
        "/dashboard/assets/app.js",
        "/dashboard/tickets/x",
    ] {
        let r = server.raw("GET", path, &[], None);
        assert_eq!(r.status, 200, "{path}");
        let csp = r.header("content-security-policy").unwrap_or_default();
        assert!(csp.contains("script-src 'self';"), "{path}: {csp}");
        assert!(!csp.contains("unsafe"), "{path}: {csp}");
    }
    let r = server.raw("GET", "/dashboard/", &[], None);
    assert_eq!(r.status, 308, "/dashboard/");
    assert_eq!(r.header("location"), Some("/dashboard"));
    // Unknown views and files stay 404s.
    for path in ["/dashboard/nope", "/dashboard/assets/nope.js"] {
        assert_eq!(server.raw("GET", path, &[], None).status, 404, "{path}");
    }
});

both_backends!(supervisor_officer_and_enterprise_in_a_browser, |server| {
    let Some(browser) = Browser::from_env() else {
        return;
    };
    let db = backend(server);
    let s = seed(server);

    // --- The supervisor: the ranking, as the stats API has it --------------------------
    login(&browser, server, "/dashboard", &s.supervisor);
    ready(&browser, "ranking");
    // Reported, not asserted (issue 12): the page's load from navigation timing, and a
    // login to the drawn ranking from the page's own marks.
    let timing = browser.execute(
        "const n = performance.getEntriesByType('navigation')[0];
         const m = performance.measure('login', 'jiban:login', 'jiban:ready:ranking');
         return {load: n.loadEventEnd - n.startTime, dom: n.domContentLoadedEventEnd - n.startTime,
                 ranking: m.duration};",
        json!([]),
    );
    eprintln!(
        "dashboard ({db}): page loaded in {:.0} ms (DOMContentLoaded {:.0} ms); \
         login to the drawn ranking {:.0} ms, seeded county",
        timing["load"].as_f64().unwrap_or(-1.0),
        timing["dom"].as_f64().unwrap_or(-1.0),
        timing["ranking"].as_f64().unwrap_or(-1.0)
    );
    let (from, to) = this_month();
    let stats = server
        .get(
            &format!("/v1/stats/departments?from={from}&to={to}"),
            &s.supervisor.token,
        )
        .json();
    let rows = browser.execute(
        "return [...document.querySelectorAll('#ranking-table tbody tr')].map(tr =>
           [tr.dataset.department, ...[...tr.cells].map(td => td.textContent)]);",
        json!([]),
    );
    let rows = rows.as_array().expect("rows");
    let items = stats["items"].as_array().expect("items");
    assert_eq!(rows.len(), items.len(), "{rows:?}\n{stats}");
    for (row, item) in rows.iter().zip(items) {
        let department = item["department_id"].as_str().unwrap_or_default();
        let rank = item["rank"]
            .as_u64()
            .map_or("—".to_owned(), |r| r.to_string());
        let name = item["name"].as_str().unwrap_or("待分派");
        assert_eq!(row[0], department, "{row}");
        assert_eq!(row[1], rank.as_str(), "{row}");
        assert_eq!(row[2], name, "{row}");
        assert_eq!(row[3], percent(&item["response_rate"]).as_str(), "{row}");
        assert_eq!(row[4], percent(&item["resolution_rate"]).as_str(), "{row}");
        assert_eq!(
            row[5],
            percent(&item["satisfaction_rate"]).as_str(),
            "{row}"
        );
        assert_eq!(row[7], item["received"].to_string().as_str(), "{row}");
    }
    // Sortable: the 满意率 header sorts best first, then the other way.
    let header = browser.find("#ranking-table th[data-key='satisfaction_rate'] button");
    browser.click(&header);
    let sort = "return document.querySelector(\"#ranking-table th[data-key='satisfaction_rate']\").getAttribute('aria-sort')";
    assert_eq!(browser.execute(sort, json!([])), "descending");
    browser.click(&header);
    assert_eq!(browser.execute(sort, json!([])), "ascending");
    browser.screenshot(&format!("{db}-supervisor-ranking"));
    // The CSV download fetches the stats CSV with the token (a failure would be a console
    // error, checked below).
    browser.click(&browser.find("#rank-csv"));

    // --- 超期与督办: the escalation, acknowledged, leaves the list -------------------------
    browser.click(&browser.find("#nav a[data-view='overdue']"));
    ready(&browser, "overdue");
    let escalated_id = s.escalated["id"].as_str().unwrap();
    let alerts = server
        .get("/v1/alerts?unacknowledged=true", &s.supervisor.token)
        .json();
    let alert_id = alerts["items"][0]["id"]
        .as_str()
        .expect("an escalation")
        .to_owned();
    assert_eq!(alerts["items"][0]["ticket_id"], escalated_id);
    // The hostile title is text: shown as typed, nothing of it ran.
    let title = browser.execute(
        &format!(
            "const tr = document.querySelector('#overdue-table tr[data-ticket=\"{escalated_id}\"]');
             return tr ? tr.cells[1].textContent : null;"
        ),
        json!([]),
    );
    assert_eq!(title, HOSTILE_TITLE);
    assert_eq!(
        browser.execute(
            "return [window.__xss === undefined, document.querySelectorAll('#view script, #view img').length]",
            json!([])
        ),
        json!([true, 0])
    );
    browser.screenshot(&format!("{db}-supervisor-overdue"));
    browser.click(&browser.find(&format!(
        "#alerts-table tr[data-alert='{alert_id}'] button.ack"
    )));
    browser.wait_for(
        "the acknowledged escalation to leave the list",
        &format!("return !document.querySelector(\"#alerts-table tr[data-alert='{alert_id}']\")"),
    );
    let left = server
        .get("/v1/alerts?unacknowledged=true", &s.supervisor.token)
        .json();
    let left = left["items"].as_array().unwrap();
    assert_eq!(left.len(), alerts["items"].as_array().unwrap().len() - 1);
    assert!(
        left.iter().all(|a| a["id"] != alert_id.as_str()),
        "{left:?}"
    );

    // --- The ticket page, opened from the list -------------------------------------------
    browser.click(&browser.find(&format!(
        "#overdue-table tr[data-ticket='{escalated_id}'] a"
    )));
    ready(&browser, "ticket");
    assert_eq!(
        browser.execute("return location.pathname", json!([])),
        format!("/dashboard/tickets/{escalated_id}")
    );
    let heading = browser.text(&browser.find("#ticket-title"));
    assert!(heading.contains(HOSTILE_TITLE), "{heading}");
    let facts = browser.text(&browser.find("#ticket dl"));
    assert!(
        facts.contains("诉求内容") && facts.contains("三条产线停工"),
        "{facts}"
    );
    let timeline = browser.text(&browser.find("#timeline"));
    assert!(
        timeline.contains("提交") && timeline.contains("督办已确认"),
        "{timeline}"
    );
    browser.screenshot(&format!("{db}-ticket"));

    // --- 趋势: the weekly charts ------------------------------------------------------------
    browser.click(&browser.find("#nav a[data-view='trend']"));
    ready(&browser, "trend");
    browser.wait_for(
        "both charts drawn",
        "return window.Chart && Chart.getChart('trend-counts') && Chart.getChart('trend-rates') && true",
    );
    let weeks = browser.execute(
        "return document.querySelectorAll('#trend-table tbody tr').length",
        json!([]),
    );
    assert!((12..=13).contains(&weeks.as_u64().unwrap()), "{weeks}");
    browser.screenshot(&format!("{db}-supervisor-trend"));

    // --- Keyboard: the views are reached with Tab and opened with Enter ------------------
    browser.execute(
        "document.activeElement && document.activeElement.blur()",
        json!([]),
    );
    let mut reached = false;
    for _ in 0..8 {
        browser.keys("\u{E004}");
        let focused = browser.execute("return document.activeElement.textContent", json!([]));
        if focused == "排名" {
            reached = true;
            break;
        }
    }
    assert!(reached, "Tab never reached the 排名 link");
    browser.keys("\u{E007}");
    ready(&browser, "ranking");

    // --- A phone's width: nothing wider than the screen but the tables' own scroll -------
    browser.resize(390, 844);
    for view in ["ranking", "overdue"] {
        browser.click(&browser.find(&format!("#nav a[data-view='{view}']")));
        ready(&browser, view);
        let fits = browser.execute(
            "return document.documentElement.scrollWidth <= window.innerWidth",
            json!([]),
        );
        assert_eq!(fits, true, "{view} is wider than a phone");
        browser.screenshot(&format!("{db}-phone-{view}"));
    }
    browser.resize(1280, 800);
    no_console_errors(&browser, "as the supervisor");

    // A mail's link opens the page afresh: the session is gone (nothing was stored), and
    // after logging in the ticket shows.
    login(
        &browser,
        server,
        &format!("/dashboard/tickets/{escalated_id}"),
        &s.officer_a,
    );
    ready(&browser, "ticket");
    browser.click(&browser.find("#logout"));
    browser.wait_for(
        "the login form after logging out",
        "return !document.getElementById('login').hidden && document.getElementById('view').childElementCount === 0",
    );

    // --- An officer of department B: their department only, and their queue ---------------
    login(&browser, server, "/dashboard", &s.officer_b);
    ready(&browser, "ranking");
    let departments = browser.execute(
        "return [...document.querySelectorAll('#ranking-table tbody tr')].map(tr => tr.dataset.department)",
        json!([]),
    );
    assert_eq!(
        departments,
        json!([s.department_b]),
        "B's officer sees B's row only"
    );
    browser.screenshot(&format!("{db}-officer-ranking"));
    browser.click(&browser.find("#nav a[data-view='queue']"));
    ready(&browser, "queue");
    let queue = browser.execute(
        "return [...document.querySelectorAll('#queue-table tbody tr')].map(tr => tr.cells[1].textContent)",
        json!([]),
    );
    let mut queue: Vec<&str> = queue
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    queue.sort_unstable();
    assert_eq!(queue, ["厂房用地手续办理", "扩建用地指标咨询"]);
    browser.screenshot(&format!("{db}-officer-queue"));
    browser.click(&browser.find("#nav a[data-view='overdue']"));
    ready(&browser, "overdue");
    let listed = browser.execute(
        "return document.querySelectorAll('#overdue-table tbody tr').length",
        json!([]),
    );
    assert_eq!(
        listed, 0,
        "department A's escalated ticket is not B's officer's"
    );
    no_console_errors(&browser, "as an officer");
    browser.click(&browser.find("#logout"));

    // --- An enterprise user is told the page is for officials, and sees nothing else -----
    login(&browser, server, "/dashboard", &s.enterprise_user);
    browser.wait_for(
        "the refusal",
        "return !document.getElementById('refused').hidden",
    );
    let state = browser.execute(
        "return [document.getElementById('nav').hidden, document.getElementById('view').childElementCount]",
        json!([]),
    );
    assert_eq!(state, json!([true, 0]));
    browser.screenshot(&format!("{db}-enterprise"));
    no_console_errors(&browser, "as an enterprise user");
});

/// The page trades its refresh token for a new access token when the API refuses the one
/// it holds, and carries on without asking for the password again (issue 12: tokens kept
/// in memory, refreshed with the refresh token). The refusal is made real: the server is
/// restarted on the same address and database with another signing key, as when a county
/// rotates `JIBAN_JWT_SECRET`; access tokens signed with the old key are then refused,
/// and refresh tokens, kept in the database, still count. The page's own code is what is
/// tested, so one backend is enough; the refresh route is tested on both (auth.rs).
#[test]
fn the_page_refreshes_its_access_token_when_it_is_refused() {
    let Some(browser) = Browser::from_env() else {
        return;
    };
    let db = jiban_tests::TestDatabase::sqlite();
    let first = TestServer::start(&db, jiban_tests::Options::new());
    let county = jiban_tests::fixture::County::new(&first);
    let base = first.base_url().to_owned();
    let address = base.trim_start_matches("http://").to_owned();

    login(&browser, &first, "/dashboard", &county.supervisor);
    ready(&browser, "ranking");
    assert!(
        first
            .terminate(std::time::Duration::from_secs(30))
            .is_some()
    );

    let second = TestServer::start(
        &db,
        jiban_tests::Options::new().set("JIBAN_BIND", &address).set(
            "JIBAN_JWT_SECRET",
            "another-secret-another-secret-another-0123456789",
        ),
    );
    assert_eq!(second.base_url(), base, "the same address as the page's");
    // The access token the page holds is now refused.
    let refused = second.get("/v1/stats/departments", &county.supervisor.token);
    assert_eq!(refused.status, 401, "{}", refused.body);

    // A view drawn in the page (no reload, which would forget the tokens).
    browser.click(&browser.find("a[data-view='trend']"));
    ready(&browser, "trend");
    let login_shown = browser.execute("return !document.getElementById('login').hidden", json!([]));
    assert_eq!(login_shown, json!(false), "no password asked again");
    // The browser reports the refused request itself (its 401); nothing else.
    let severe: Vec<_> = browser
        .console()
        .into_iter()
        .filter(|(level, message)| level == "SEVERE" && !message.contains("401"))
        .collect();
    assert!(
        severe.is_empty(),
        "console errors after the refresh: {severe:?}"
    );
    // The page refreshed once: the server logged one refresh.
    let log = second.log();
    assert!(
        log.contains("/v1/auth/refresh"),
        "the page did not ask /v1/auth/refresh:\n{log}"
    );
}
