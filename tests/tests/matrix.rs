//! The authorization matrix of the ticket routes (issue 8, point 4; DESIGN.md sections 1
//! and 7): one table, route × role → the status each role gets, run cell by cell on both
//! backends. Every cell acts on a ticket in the state the action needs, so the status
//! says who may, not what state allows. A 200 where the table says 404 is a leak.

use jiban_tests::alerts::{AlertCounty, Before};
use jiban_tests::fixture::{create_department, create_enterprise, create_person};
use jiban_tests::openapi::{Operations, operations};
use jiban_tests::{TestServer, both_backends};
use serde_json::{Value, json};

/// The roles of the matrix, in column order.
const ROLES: [&str; 9] = [
    "admin",
    "supervisor",
    "officer",
    "officer_elsewhere",
    "liaison",
    "liaison_elsewhere",
    "enterprise",
    "other_enterprise",
    "anonymous",
];

/// One row: route, the state it needs, its body, and the status per role (ROLES order).
struct Row {
    action: &'static str,
    before: Before,
    body: fn(&World) -> Value,
    expect: [u16; 9],
}

/// The ticket routes `every_role_reads_only_what_it_may` covers.
const READS: [(&str, &str); 4] = [
    ("GET", "/v1/tickets/{id}"),
    ("GET", "/v1/tickets/{id}/events"),
    ("GET", "/v1/tickets"),
    ("POST", "/v1/tickets"),
];

/// A route's row: method, documented path, the concrete path, body, status per role.
type Cell<'a> = (&'a str, &'a str, &'a str, Option<Value>, [u16; 9]);

const OUT: u16 = 404;
const NONE: u16 = 401;

fn rows() -> Vec<Row> {
    use Before::*;
    // admin, supervisor, officer, officer_elsewhere, liaison, liaison_elsewhere,
    // enterprise, other_enterprise, anonymous
    vec![
        Row {
            action: "accept",
            before: Submitted,
            body: |_| json!({}),
            expect: [403, 403, 200, OUT, 200, OUT, 403, OUT, NONE],
        },
        Row {
            action: "dispose",
            before: Submitted,
            body: |_| json!({"disposition": "out_of_scope", "explanation": "该事项不属于本平台受理范围，已告知企业通过司法途径解决。"}),
            expect: [403, 403, 200, OUT, 403, OUT, 403, OUT, NONE],
        },
        Row {
            action: "assign",
            before: InProgress,
            body: |w| json!({"assignee_id": w.colleague}),
            expect: [403, 200, 200, OUT, 403, OUT, 403, OUT, NONE],
        },
        Row {
            action: "transfer",
            before: InProgress,
            body: |w| json!({"department_id": w.elsewhere, "reason": "职能调整"}),
            expect: [403, 200, 200, OUT, 403, OUT, 403, OUT, NONE],
        },
        Row {
            action: "contact",
            before: InProgress,
            body: |_| json!({"method": "phone", "summary": "电话联系企业"}),
            expect: [403, 403, 200, OUT, 200, OUT, 403, OUT, NONE],
        },
        Row {
            action: "comments",
            before: InProgress,
            body: |_| json!({"body": "进展如何？", "internal": false}),
            expect: [403, 200, 200, OUT, 200, OUT, 200, OUT, NONE],
        },
        // 协办 (issue 13): the lead department's officers or a supervisor.
        Row {
            action: "co-handlers",
            before: InProgress,
            body: |w| json!({"department_ids": [w.elsewhere], "request": "请核实停电原因并提出恢复方案"}),
            expect: [403, 200, 200, OUT, 403, OUT, 403, OUT, NONE],
        },
        Row {
            action: "request-info",
            before: InProgress,
            body: |_| json!({"items": ["营业执照"]}),
            expect: [403, 200, 200, OUT, 200, OUT, 403, OUT, NONE],
        },
        Row {
            action: "supply-info",
            before: AwaitingInfo,
            body: |_| json!({"body": "已补充营业执照"}),
            expect: [403, 403, 403, OUT, 200, OUT, 200, OUT, NONE],
        },
        Row {
            action: "extension",
            before: InProgress,
            body: |_| json!({"reason": "需跨部门协调", "amount": 2}),
            expect: [403, 403, 200, OUT, 403, OUT, 403, OUT, NONE],
        },
        Row {
            action: "extension/decision",
            before: ExtensionPending,
            body: |_| json!({"approve": true}),
            expect: [403, 200, 403, OUT, 403, OUT, 403, OUT, NONE],
        },
        // A liaison resolves only what it is assigned (it is not, here).
        Row {
            action: "resolve",
            before: InProgress,
            body: |_| json!({"result": "已协调供电公司恢复厂区供电。"}),
            expect: [403, 403, 200, OUT, 403, OUT, 403, OUT, NONE],
        },
        Row {
            action: "explain",
            before: InProgress,
            body: |_| json!({"explanation": "受现行政策限制，该事项暂无法办理，已向企业详细说明政策依据和后续可行路径，并约定下月回访，届时再次沟通办理进展。", "policy_basis": "《电力供应与使用条例》第二十八条"}),
            expect: [403, 403, 200, OUT, 403, OUT, 403, OUT, NONE],
        },
        Row {
            action: "rate",
            before: Resolved,
            body: |_| json!({"level": "satisfied"}),
            expect: [403, 403, 403, OUT, 403, OUT, 200, OUT, NONE],
        },
        Row {
            action: "appeal",
            before: Rated,
            body: |_| json!({"reason": "评价针对电价政策"}),
            expect: [403, 403, 200, OUT, 403, OUT, 403, OUT, NONE],
        },
        Row {
            action: "appeal/decision",
            before: Appealed,
            body: |_| json!({"uphold": true}),
            expect: [403, 200, 403, OUT, 403, OUT, 403, OUT, NONE],
        },
        Row {
            action: "withdraw",
            before: InProgress,
            body: |_| json!({"reason": "已自行解决"}),
            expect: [403, 403, 403, OUT, 403, OUT, 200, OUT, NONE],
        },
    ]
}

/// Who is who: tokens per role, and the ids the bodies name.
struct World {
    c: AlertCounty,
    tokens: Vec<Option<String>>,
    colleague: String,
    /// Someone whose password is known, to log in as.
    known: jiban_tests::fixture::Person,
    elsewhere: String,
    liaison: String,
}

impl World {
    fn new(server: &TestServer) -> World {
        let c = AlertCounty::new(server);
        let elsewhere = create_department(
            server,
            &c.admin,
            &format!("x{}", jiban_tests::fixture::unique()),
        );
        let officer_elsewhere = create_person(
            server,
            &c.admin,
            "officer",
            json!({"department_id": elsewhere}),
        );
        let liaison = create_person(server, &c.admin, "liaison", json!({}));
        let liaison_elsewhere = create_person(server, &c.admin, "liaison", json!({}));
        let other = create_enterprise(server, &c.admin, "另一家企业");
        let other_user = create_person(
            server,
            &c.admin,
            "enterprise",
            json!({"enterprise_id": other}),
        );
        for (enterprise, who) in [(&c.enterprise_id, &liaison), (&other, &liaison_elsewhere)] {
            let r = server.put(
                &format!("/v1/enterprises/{enterprise}/liaisons"),
                &c.admin,
                json!({"liaison_ids": [who.id]}),
            );
            assert_eq!(r.status, 200, "{}", r.body);
        }
        let tokens = vec![
            Some(c.admin.clone()),
            Some(c.supervisor.token.clone()),
            Some(c.officer.token.clone()),
            Some(officer_elsewhere.token),
            Some(liaison.token.clone()),
            Some(liaison_elsewhere.token),
            Some(c.enterprise_user.token.clone()),
            Some(other_user.token),
            None,
        ];
        World {
            colleague: c.colleague.id.clone(),
            known: create_person(server, &c.admin, "supervisor", json!({})),
            liaison: liaison.id.clone(),
            c,
            tokens,
            elsewhere,
        }
    }

    /// A ticket brought to `before` (`AlertCounty::ticket_in`).
    fn ticket(&self, server: &TestServer, before: Before) -> Value {
        self.c.ticket_in(server, before)
    }
}

/// A request as `token` may send it: the version it can read (or "1" when it cannot
/// read the ticket), a JSON body.
fn attempt(
    server: &TestServer,
    token: Option<&str>,
    ticket: &Value,
    action: &str,
    body: &Value,
) -> u16 {
    let id = ticket["id"].as_str().unwrap();
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("content-type", "application/json"), ("if-match", "")];
    let version = match &auth {
        Some(_) => {
            let r = server.call("GET", &format!("/v1/tickets/{id}"), token, None);
            if r.status == 200 {
                r.json()["version"].to_string()
            } else {
                "1".to_owned()
            }
        }
        None => "1".to_owned(),
    };
    let tag = format!("\"{version}\"");
    headers[1].1 = &tag;
    if let Some(auth) = &auth {
        headers.push(("authorization", auth));
    }
    server
        .raw(
            "POST",
            &format!("/v1/tickets/{id}/{action}"),
            &headers,
            Some(body.to_string().into_bytes()),
        )
        .status
}

both_backends!(
    every_role_gets_what_the_table_says_on_every_ticket_action,
    |server| {
        let w = World::new(server);
        let mut wrong = Vec::new();
        for row in rows() {
            let body = (row.body)(&w);
            // Refusals change nothing: one ticket serves every refused cell of a row.
            let shared = w.ticket(server, row.before);
            for (i, role) in ROLES.iter().enumerate() {
                let expected = row.expect[i];
                let ticket = if expected == 200 {
                    w.ticket(server, row.before)
                } else {
                    shared.clone()
                };
                let got = attempt(server, w.tokens[i].as_deref(), &ticket, row.action, &body);
                if got != expected {
                    wrong.push(format!(
                        "{} as {role}: {got}, expected {expected}",
                        row.action
                    ));
                }
            }
            // The refused cells left the shared ticket as it was.
            let id = shared["id"].as_str().unwrap();
            let after = server
                .get(&format!("/v1/tickets/{id}"), &w.c.supervisor.token)
                .json();
            assert_eq!(
                after["version"], shared["version"],
                "{}: a refusal wrote",
                row.action
            );
        }
        assert!(
            wrong.is_empty(),
            "{} cells differ:\n{}",
            wrong.len(),
            wrong.join("\n")
        );
    }
);

both_backends!(every_role_reads_only_what_it_may, |server| {
    let w = World::new(server);
    let t = w.ticket(server, Before::InProgress);
    let id = t["id"].as_str().unwrap();
    // admin, supervisor, officer, officer_elsewhere, liaison, liaison_elsewhere,
    // enterprise, other_enterprise, anonymous
    let read = [200, 200, 200, OUT, 200, OUT, 200, OUT, NONE];
    let mut wrong = Vec::new();
    for (i, role) in ROLES.iter().enumerate() {
        let token = w.tokens[i].as_deref();
        for path in [
            format!("/v1/tickets/{id}"),
            format!("/v1/tickets/{id}/events"),
        ] {
            let got = server.call("GET", &path, token, None).status;
            if got != read[i] {
                wrong.push(format!("GET {path} as {role}: {got}, expected {}", read[i]));
            }
        }
        // The list never shows what a single read would not.
        if let Some(token) = token {
            let listed = server.get("/v1/tickets?limit=100", token);
            assert_eq!(listed.status, 200, "{role}: {}", listed.body);
            let shown = listed.json()["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["id"] == id);
            if shown != (read[i] == 200) {
                wrong.push(format!("GET /v1/tickets as {role}: listed {shown}"));
            }
        }
    }
    // Filing for the county's enterprise: its own user, the stationed liaison, officers and
    // supervisors on its behalf; admins file nothing; another enterprise's user and a
    // liaison stationed elsewhere may not.
    let body = |with_enterprise: bool| {
        let mut b = json!({"kind": "complaint", "category": "utilities", "title": "停电",
                           "description": "厂区停电，三条产线停工。"});
        if with_enterprise {
            b["enterprise_id"] = json!(w.c.enterprise_id);
        }
        b
    };
    let file = [403, 201, 201, 201, 201, 403, 201, 403, NONE];
    for (i, role) in ROLES.iter().enumerate() {
        // Everyone names the county's enterprise but its own user, who files for itself.
        let with = *role != "enterprise";
        let got = server
            .call(
                "POST",
                "/v1/tickets",
                w.tokens[i].as_deref(),
                Some(&body(with)),
            )
            .status;
        if got != file[i] {
            wrong.push(format!(
                "POST /v1/tickets as {role}: {got}, expected {}",
                file[i]
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} cells differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
});

both_backends!(
    every_role_gets_what_the_table_says_on_the_other_routes,
    |server| {
        let w = World::new(server);
        let now = chrono::Utc::now().to_rfc3339();
        let visit = json!({"enterprise_id": w.c.enterprise_id, "visited_at": now,
                       "purpose": "六必访", "summary": "与企业负责人面谈，了解用电需求。"});
        let recorded = server.post("/v1/visits", w.tokens[4].as_deref().unwrap(), visit.clone());
        assert_eq!(recorded.status, 201, "{}", recorded.body);
        let visit_path = format!("/v1/visits/{}", recorded.json()["id"].as_str().unwrap());
        let colleague = format!("/v1/users/{}", w.colleague);
        let enterprise = format!("/v1/enterprises/{}", w.c.enterprise_id);
        let ack = format!("/v1/alerts/{}/ack", uuid::Uuid::now_v7());
        let ticket_page = format!("/dashboard/tickets/{}", uuid::Uuid::now_v7());
        let retry = format!("/v1/notifications/{}/retry", uuid::Uuid::now_v7());
        let liaisons = format!("/v1/enterprises/{}/liaisons", w.c.enterprise_id);
        // Webhooks: a public address (no lookup), subscribed to an event this test never
        // causes, so nothing is sent anywhere.
        let webhook = json!({"url": "https://8.8.8.8/jiban-matrix",
                             "events": ["ticket.deadlines_recomputed"], "include_internal": true});
        let made = server.post(
            "/v1/webhooks",
            w.tokens[0].as_deref().unwrap(),
            webhook.clone(),
        );
        assert_eq!(made.status, 201, "{}", made.body);
        let webhook_path = format!("/v1/webhooks/{}", made.json()["id"].as_str().unwrap());
        // Attachments (issue 11): a ticket in progress with one public file.
        let with_file = w.ticket(server, Before::InProgress);
        let with_file = with_file["id"].as_str().unwrap().to_owned();
        let stored = jiban_tests::attachments::upload(
            server,
            &w.c.officer.token,
            &with_file,
            &[jiban_tests::attachments::Part::file(
                "licence.pdf",
                jiban_tests::attachments::pdf("matrix"),
            )],
        );
        assert_eq!(stored.status, 201, "{}", stored.body);
        let file_path = format!(
            "/v1/attachments/{}",
            stored.json()[0]["id"].as_str().unwrap()
        );
        let files_path = format!("/v1/tickets/{with_file}/attachments");
        // 协办 (issue 13): a ticket the other department co-handles; its officers reply.
        let co_handled = w.ticket(server, Before::InProgress);
        let co_handled = jiban_tests::alerts::act(
            server,
            &w.c.officer.token,
            &co_handled,
            "co-handlers",
            json!({"department_ids": [w.elsewhere], "request": "请核实停电原因并提出恢复方案"}),
        );
        let reply_path = format!(
            "/v1/tickets/{}/co-handlers/{}/reply",
            co_handled["id"].as_str().unwrap(),
            w.elsewhere
        );
        // admin, supervisor, officer, officer_elsewhere, liaison, liaison_elsewhere,
        // enterprise, other_enterprise, anonymous
        let table: Vec<Cell> = vec![
            (
                "POST",
                "/v1/tickets/{id}/co-handlers/{department_id}/reply",
                reply_path.as_str(),
                Some(json!({"opinion": "经核实为线路故障，预计今晚恢复供电。"})),
                [403, 403, 403, 200, 403, OUT, 403, OUT, NONE],
            ),
            // The statistics: officials who judge or are judged; an officer sees their
            // own department's.
            (
                "GET",
                "/v1/stats/departments",
                "/v1/stats/departments?from=2026-01-01&to=2026-02-01",
                None,
                [200, 200, 200, 200, 403, 403, 403, 403, NONE],
            ),
            (
                "GET",
                "/v1/stats/officers",
                "/v1/stats/officers?from=2026-01-01&to=2026-02-01",
                None,
                [200, 200, 200, 200, 403, 403, 403, 403, NONE],
            ),
            (
                "GET",
                "/v1/stats/departments.csv",
                "/v1/stats/departments.csv?from=2026-01-01&to=2026-02-01",
                None,
                [200, 200, 200, 200, 403, 403, 403, 403, NONE],
            ),
            (
                "GET",
                "/v1/stats/trend",
                "/v1/stats/trend?from=2026-01-01&to=2026-02-01&bucket=week",
                None,
                [200, 200, 200, 200, 403, 403, 403, 403, NONE],
            ),
            // The export: the county's whole register, for those who supervise it.
            (
                "GET",
                "/v1/tickets/changes",
                "/v1/tickets/changes",
                None,
                [200, 200, 403, 403, 403, 403, 403, 403, NONE],
            ),
            (
                "GET",
                "/v1/alerts",
                "/v1/alerts",
                None,
                [200, 200, 200, 200, 200, 200, 403, 403, NONE],
            ),
            (
                "GET",
                "/v1/notifications",
                "/v1/notifications",
                None,
                [200, 403, 403, 403, 403, 403, 403, 403, NONE],
            ),
            (
                "GET",
                "/v1/visits",
                "/v1/visits",
                None,
                [200, 200, 200, 200, 200, 200, 200, 200, NONE],
            ),
            (
                "POST",
                "/v1/visits",
                "/v1/visits",
                Some(visit),
                [403, 403, 403, 403, 201, 403, 403, 403, NONE],
            ),
            (
                "GET",
                "/v1/me",
                "/v1/me",
                None,
                [200, 200, 200, 200, 200, 200, 200, 200, NONE],
            ),
            (
                "GET",
                "/v1/categories",
                "/v1/categories",
                None,
                [200, 200, 200, 200, 200, 200, 200, 200, NONE],
            ),
            (
                "GET",
                "/v1/sla-policies",
                "/v1/sla-policies",
                None,
                [200, 200, 200, 200, 200, 200, 200, 200, NONE],
            ),
            (
                "GET",
                "/v1/calendar/{year}",
                "/v1/calendar/2026",
                None,
                [200, 200, 200, 200, 200, 200, 200, 200, NONE],
            ),
            (
                "POST",
                "/v1/departments",
                "/v1/departments",
                Some(json!({"code": "matrix", "name": "矩阵"})),
                [201, 403, 403, 403, 403, 403, 403, 403, NONE],
            ),
            // docs/API.md, "Roles on the admin routes".
            (
                "GET",
                "/v1/departments",
                "/v1/departments",
                None,
                [200, 200, 200, 200, 200, 200, 403, 403, NONE],
            ),
            // Supervisors and officers read the directory of officials (issue 12).
            (
                "GET",
                "/v1/users",
                "/v1/users",
                None,
                [200, 200, 200, 200, 403, 403, 403, 403, NONE],
            ),
            (
                "GET",
                "/v1/enterprises",
                "/v1/enterprises",
                None,
                [200, 200, 200, 200, 200, 200, 200, 200, NONE],
            ),
            (
                "GET",
                "/v1/enterprises/{id}",
                enterprise.as_str(),
                None,
                [200, 200, 200, 200, 200, 404, 200, 404, NONE],
            ),
            // Any user, for itself: a wrong current password is 422 for everyone.
            (
                "POST",
                "/v1/me/password",
                "/v1/me/password",
                Some(
                    json!({"current_password": "not-the-password-1", "new_password": "a-new-password-1"}),
                ),
                [422, 422, 422, 422, 422, 422, 422, 422, NONE],
            ),
            // Acknowledging: enterprises and admins by role; an alert nobody can see is 404.
            (
                "POST",
                "/v1/alerts/{id}/ack",
                ack.as_str(),
                Some(json!({})),
                [403, 404, 404, 404, 404, 404, 403, 403, NONE],
            ),
            (
                "PUT",
                "/v1/calendar/{year}",
                "/v1/calendar/2030",
                Some(json!({"days": [{"date": "2030-01-01", "kind": "holiday", "name": "元旦"}]})),
                [200, 403, 403, 403, 403, 403, 403, 403, NONE],
            ),
            // Admin writes: nobody else, whatever it may read.
            (
                "POST",
                "/v1/users",
                "/v1/users",
                Some(
                    json!({"username": "matrix.user", "password": "matrix-password-1",
                            "role": "supervisor", "display_name": "矩阵", "email": "m@example.gov.cn"}),
                ),
                [201, 403, 403, 403, 403, 403, 403, 403, NONE],
            ),
            (
                "PATCH",
                "/v1/users/{id}",
                colleague.as_str(),
                Some(json!({"display_name": "同事"})),
                [200, 403, 403, 403, 403, 403, 403, 403, NONE],
            ),
            (
                "POST",
                "/v1/enterprises",
                "/v1/enterprises",
                Some(
                    json!({"name": "矩阵企业", "uscc": jiban_tests::fixture::uscc(990_001),
                            "contact_name": "陈", "contact_phone": "110", "contact_email": "c@example.com"}),
                ),
                [201, 403, 403, 403, 403, 403, 403, 403, NONE],
            ),
            (
                "PUT",
                "/v1/categories/{code}",
                "/v1/categories/other",
                Some(json!({"name": "其他"})),
                [200, 403, 403, 403, 403, 403, 403, 403, NONE],
            ),
            (
                "PUT",
                "/v1/sla-policies/{class}",
                "/v1/sla-policies/complex",
                Some(json!({"accept": {"amount": 1, "unit": "working_days"},
                            "contact": {"amount": 1, "unit": "working_days"},
                            "resolve": {"amount": 15, "unit": "working_days"},
                            "basis": "参照 湖北"})),
                [200, 403, 403, 403, 403, 403, 403, 403, NONE],
            ),
            (
                "POST",
                "/v1/notifications/{id}/retry",
                retry.as_str(),
                Some(json!({})),
                [404, 403, 403, 403, 403, 403, 403, 403, NONE],
            ),
            // Webhooks: admins only.
            (
                "POST",
                "/v1/webhooks",
                "/v1/webhooks",
                Some(webhook),
                [201, 403, 403, 403, 403, 403, 403, 403, NONE],
            ),
            (
                "GET",
                "/v1/webhooks",
                "/v1/webhooks",
                None,
                [200, 403, 403, 403, 403, 403, 403, 403, NONE],
            ),
            (
                "DELETE",
                "/v1/webhooks/{id}",
                webhook_path.as_str(),
                None,
                [204, 403, 403, 403, 403, 403, 403, 403, NONE],
            ),
            // A visit at the county's enterprise, linked to no ticket: its liaison, the
            // enterprise, supervisors and admins read it; officers only through a ticket.
            (
                "GET",
                "/v1/visits/{id}",
                visit_path.as_str(),
                None,
                [200, 200, 404, 404, 200, 404, 200, 404, NONE],
            ),
            (
                "GET",
                "/v1/users/{id}",
                colleague.as_str(),
                None,
                [200, 403, 403, 403, 403, 403, 403, 403, NONE],
            ),
            (
                "PATCH",
                "/v1/enterprises/{id}",
                enterprise.as_str(),
                Some(json!({"contact_name": "陈经理"})),
                [200, 403, 403, 403, 403, 403, 403, 403, NONE],
            ),
            (
                "PUT",
                "/v1/enterprises/{id}/liaisons",
                liaisons.as_str(),
                Some(json!({"liaison_ids": [w.liaison]})),
                [200, 403, 403, 403, 403, 403, 403, 403, NONE],
            ),
            // Attachments: scoped as their ticket.
            (
                "GET",
                "/v1/tickets/{id}/attachments",
                files_path.as_str(),
                None,
                [200, 200, 200, OUT, 200, OUT, 200, OUT, NONE],
            ),
            (
                "GET",
                "/v1/attachments/{id}",
                file_path.as_str(),
                None,
                [200, 200, 200, OUT, 200, OUT, 200, OUT, NONE],
            ),
            // Public routes: the same answer whoever asks, a bearer token or none.
            ("GET", "/healthz", "/healthz", None, [200; 9]),
            ("GET", "/readyz", "/readyz", None, [200; 9]),
            ("GET", "/metrics", "/metrics", None, [200; 9]),
            ("GET", "/openapi.yaml", "/openapi.yaml", None, [200; 9]),
            // The dashboard's page and files hold no data: its script logs in (issue 12).
            ("GET", "/dashboard", "/dashboard", None, [200; 9]),
            ("GET", "/dashboard/", "/dashboard/", None, [308; 9]),
            (
                "GET",
                "/dashboard/{view}",
                "/dashboard/overdue",
                None,
                [200; 9],
            ),
            (
                "GET",
                "/dashboard/tickets/{id}",
                ticket_page.as_str(),
                None,
                [200; 9],
            ),
            (
                "GET",
                "/dashboard/assets/{file}",
                "/dashboard/assets/app.js",
                None,
                [200; 9],
            ),
            (
                "POST",
                "/v1/auth/token",
                "/v1/auth/token",
                Some(json!({"username": w.known.username, "password": w.known.password})),
                [200; 9],
            ),
            (
                "POST",
                "/v1/auth/refresh",
                "/v1/auth/refresh",
                Some(json!({"refresh_token": "not-a-refresh-token"})),
                [401; 9],
            ),
            (
                "POST",
                "/v1/auth/logout",
                "/v1/auth/logout",
                Some(json!({"refresh_token": "not-a-refresh-token"})),
                [204; 9],
            ),
        ];
        let mut covered: Operations = rows()
            .iter()
            .map(|r| {
                (
                    "POST".to_owned(),
                    format!("/v1/tickets/{{id}}/{}", r.action),
                )
            })
            .chain(READS.iter().map(|(m, p)| (m.to_string(), p.to_string())))
            .collect();
        let mut wrong = Vec::new();
        for (method, template, path, body, expect) in table {
            covered.insert((method.to_owned(), template.to_owned()));
            for (i, role) in ROLES.iter().enumerate() {
                let got = server
                    .call(method, path, w.tokens[i].as_deref(), body.as_ref())
                    .status;
                if got != expect[i] {
                    wrong.push(format!(
                        "{method} {path} as {role}: {got}, expected {}",
                        expect[i]
                    ));
                }
            }
        }
        // Uploading (multipart): anyone in scope who may comment.
        let upload_expect = [403, 201, 201, OUT, 201, OUT, 201, OUT, NONE];
        covered.insert(("POST".to_owned(), "/v1/tickets/{id}/attachments".to_owned()));
        for (i, role) in ROLES.iter().enumerate() {
            let (content_type, body) =
                jiban_tests::attachments::multipart(&[jiban_tests::attachments::Part::file(
                    "photo.png",
                    jiban_tests::attachments::png(),
                )]);
            let auth = w.tokens[i].as_deref().map(|t| format!("Bearer {t}"));
            let mut headers = vec![("content-type", content_type.as_str())];
            if let Some(auth) = &auth {
                headers.push(("authorization", auth));
            }
            let got = server.raw("POST", &files_path, &headers, Some(body)).status;
            if got != upload_expect[i] {
                wrong.push(format!(
                    "POST {files_path} as {role}: {got}, expected {}",
                    upload_expect[i]
                ));
            }
        }
        assert!(
            wrong.is_empty(),
            "{} cells differ:\n{}",
            wrong.len(),
            wrong.join("\n")
        );
        // Every documented operation has its row somewhere in this file.
        let missing: Vec<_> = operations().difference(&covered).cloned().collect();
        assert!(
            missing.is_empty(),
            "operations with no row in the matrix: {missing:?}"
        );
    }
);
