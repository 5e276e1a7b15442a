//! The lists' shared contract over HTTP, on both backends (issue 8): keyset pages of
//! `/v1/tickets/{id}/events`, `/v1/users` and `/v1/enterprises` that visit every item
//! once, within each caller's scope; and a 422 naming the parameter for any unknown or
//! malformed query value on every list route.

use std::collections::HashSet;

use jiban_tests::fixture::{County, create_enterprise, create_person};
use jiban_tests::{TestServer, both_backends};
use serde_json::{Value, json};

/// Every page of `path` (which has a `?`) at `limit` per page: the pages' items.
fn pages(server: &TestServer, token: &str, path: &str, limit: usize) -> Vec<Vec<Value>> {
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}&limit={limit}&cursor={c}"),
            None => format!("{path}&limit={limit}"),
        };
        let r = server.get(&url, token);
        assert_eq!(r.status, 200, "{url}: {}", r.body);
        let page = r.json();
        let items = page["items"].as_array().expect("items").clone();
        assert!(items.len() <= limit, "{url}: {} items", items.len());
        pages.push(items);
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => {
                assert_eq!(page["next_cursor"], Value::Null, "{page}");
                return pages;
            }
        }
        assert!(pages.len() < 100, "{path}: the cursors never end");
    }
}

/// The ids of every page, in order, each checked to appear once.
fn ids_once(pages: &[Vec<Value>], key: &str) -> Vec<String> {
    let ids: Vec<String> = pages
        .iter()
        .flatten()
        .map(|item| item[key].to_string())
        .collect();
    let distinct: HashSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len(), "an item on two pages: {ids:?}");
    ids
}

both_backends!(users_come_in_pages_and_filter_by_role, |server| {
    let county = County::new(server);
    let admin = &county.admin;
    for _ in 0..3 {
        create_person(server, admin, "supervisor", json!({}));
    }
    // admin, the county's four and three supervisors.
    let everyone = ids_once(&pages(server, admin, "/v1/users?", 3), "id");
    assert_eq!(everyone.len(), 8, "{everyone:?}");
    let whole = server.get("/v1/users", admin).json();
    assert_eq!(whole["items"].as_array().unwrap().len(), 8, "default 50");
    assert_eq!(whole["next_cursor"], Value::Null);
    // The stable order: the pages read what one page reads.
    let one_page: Vec<String> = whole["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].to_string())
        .collect();
    assert_eq!(everyone, one_page);

    // The filter excludes: four supervisors of eight users, across pages.
    let supervisors = pages(server, admin, "/v1/users?role=supervisor", 3);
    let roles: Vec<&str> = supervisors
        .iter()
        .flatten()
        .map(|u| u["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["supervisor"; 4]);
    let enterprise_users = server.get("/v1/users?role=enterprise", admin).json();
    let ids: Vec<&str> = enterprise_users["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [county.enterprise_user.id.as_str()]);

    // Supervisors and officers read the officials, in the same pages, each as id,
    // display name, role and department only: no username, no email, no enterprise user
    // (issue 12). Enterprises and liaisons are refused.
    let officials: Vec<String> = whole["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["role"] != "enterprise")
        .map(|u| u["id"].to_string())
        .collect();
    for reader in [&county.supervisor.token, &county.officer.token] {
        let seen = pages(server, reader, "/v1/users?", 2);
        let ids: Vec<String> = seen.iter().flatten().map(|u| u["id"].to_string()).collect();
        assert_eq!(ids, officials);
        for user in seen.iter().flatten() {
            let mut keys: Vec<&str> = user
                .as_object()
                .unwrap()
                .keys()
                .map(|k| k.as_str())
                .collect();
            keys.sort_unstable();
            assert_eq!(
                keys,
                ["department_id", "display_name", "id", "role"],
                "{user}"
            );
        }
        let none = server.get("/v1/users?role=enterprise", reader).json();
        assert_eq!(none["items"], json!([]));
        let officers = server.get("/v1/users?role=officer", reader).json();
        assert_eq!(officers["items"][0]["id"], county.officer.id.as_str());
        assert_eq!(
            officers["items"][0]["department_id"],
            county.department_id.as_str()
        );
    }
    for refused in [&county.enterprise_user.token, &county.liaison.token] {
        server
            .get("/v1/users?limit=1", refused)
            .problem(403, "not_permitted");
    }
});

both_backends!(enterprises_come_in_pages_within_scope, |server| {
    let county = County::new(server);
    let admin = &county.admin;
    let mut made = vec![county.enterprise_id.clone()];
    for n in 0..4 {
        made.push(create_enterprise(server, admin, &format!("第{n}家公司")));
    }
    let made: HashSet<String> = made.iter().map(|id| format!("\"{id}\"")).collect();
    for token in [admin, &county.officer.token, &county.supervisor.token] {
        let seen = ids_once(&pages(server, token, "/v1/enterprises?", 2), "id");
        assert_eq!(seen.iter().cloned().collect::<HashSet<_>>(), made);
    }
    // A liaison pages through its stations alone, the enterprise user its own.
    let ours = vec![format!("\"{}\"", county.enterprise_id)];
    for token in [&county.liaison.token, &county.enterprise_user.token] {
        let seen = ids_once(&pages(server, token, "/v1/enterprises?", 1), "id");
        assert_eq!(seen, ours);
    }
    let stranger = create_person(server, admin, "liaison", json!({}));
    let r = server.get("/v1/enterprises", &stranger.token).json();
    assert_eq!(r, json!({"items": [], "next_cursor": null}));
});

both_backends!(events_come_in_pages_by_seq, |server| {
    let county = County::new(server);
    let ent = &county.enterprise_user.token;
    let r = server.post(
        "/v1/tickets",
        ent,
        json!({
            "kind": "complaint",
            "category": "utilities",
            "title": "厂区停电影响生产",
            "description": "自昨晚22时起厂区停电，三条产线停工，请尽快协调恢复供电。",
        }),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let comments = format!("/v1/tickets/{id}/comments");
    // seq 2 internal, 3 public, 4 and 5 internal, 6 public.
    for internal in [true, false, true, true, false] {
        let r = server.post(
            &comments,
            &county.supervisor.token,
            json!({"body": "跟进", "internal": internal}),
        );
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let events = format!("/v1/tickets/{id}/events?");
    let seqs = |token: &str, limit: usize| -> Vec<Vec<i64>> {
        pages(server, token, &events, limit)
            .iter()
            .map(|page| page.iter().map(|e| e["seq"].as_i64().unwrap()).collect())
            .collect()
    };
    assert_eq!(
        seqs(&county.supervisor.token, 2),
        [vec![1, 2], vec![3, 4], vec![5, 6]]
    );
    assert_eq!(
        seqs(&county.supervisor.token, 100),
        [vec![1, 2, 3, 4, 5, 6]]
    );
    // The enterprise's pages skip the internal entries, and are still full.
    assert_eq!(seqs(ent, 2), [vec![1, 3], vec![6]]);
    assert_eq!(seqs(ent, 1), [vec![1], vec![3], vec![6]]);

    // A cursor of another list is not a timeline's.
    let users_cursor = server.get("/v1/users?limit=1", &county.admin).json()["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let errors = server
        .get(&format!("{events}cursor={users_cursor}"), ent)
        .invalid();
    assert_eq!(errors, [("?cursor".to_owned(), "invalid".to_owned())]);
});

both_backends!(bad_query_values_are_422_on_every_list, |server| {
    let county = County::new(server);
    let admin = county.admin.as_str();
    let sup = county.supervisor.token.as_str();
    let ticket = server
        .post(
            "/v1/tickets",
            &county.enterprise_user.token,
            json!({
                "kind": "request",
                "category": "utilities",
                "title": "申请协调用电",
                "description": "新产线需要增容，请协调供电公司。",
            }),
        )
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let events = format!("/v1/tickets/{ticket}/events");
    // (path and query, parameter, code)
    let admin_cases = [
        ("/v1/users?role=emperor", "role", "unknown_value"),
        ("/v1/users?role=", "role", "unknown_value"),
        ("/v1/users?limit=0", "limit", "out_of_range"),
        ("/v1/users?cursor=xyz", "cursor", "invalid"),
        ("/v1/users?rol=officer", "rol", "unknown_parameter"),
        ("/v1/notifications?status=lost", "status", "unknown_value"),
        ("/v1/notifications?status=", "status", "unknown_value"),
        ("/v1/notifications?state=sent", "state", "unknown_parameter"),
    ];
    let supervisor_cases = [
        ("/v1/enterprises?limit=101", "limit", "out_of_range"),
        ("/v1/enterprises?cursor=%21", "cursor", "invalid"),
        ("/v1/enterprises?name=x", "name", "unknown_parameter"),
        ("/v1/tickets?status=open", "status", "unknown_value"),
        ("/v1/tickets?urgency=urgent", "urgency", "unknown_value"),
        ("/v1/tickets?kind=praise", "kind", "unknown_value"),
        ("/v1/tickets?overdue=yes", "overdue", "invalid"),
        ("/v1/tickets?created_from=May", "created_from", "invalid"),
        ("/v1/tickets?number=JB-1", "number", "invalid"),
        ("/v1/tickets?assignee=me", "assignee", "unknown_parameter"),
        ("/v1/alerts?mine=1", "mine", "invalid"),
        ("/v1/alerts?ticket_id=42", "ticket_id", "invalid"),
        (
            "/v1/alerts?mine=true&mine=false",
            "mine",
            "duplicate_parameter",
        ),
        ("/v1/visits?from=yesterday", "from", "invalid"),
        ("/v1/visits?liaison_id=me", "liaison_id", "invalid"),
    ];
    let mut all: Vec<(String, &str, &str, &str)> = Vec::new();
    for (path, name, code) in admin_cases {
        all.push((path.to_owned(), admin, name, code));
    }
    for (path, name, code) in supervisor_cases {
        all.push((path.to_owned(), sup, name, code));
    }
    for (query, name, code) in [
        ("limit=abc", "limit", "out_of_range"),
        ("cursor=zzz", "cursor", "invalid"),
        ("kind=commented", "kind", "unknown_parameter"),
    ] {
        all.push((format!("{events}?{query}"), sup, name, code));
    }
    for (path, token, name, code) in all {
        let errors = server.get(&path, token).invalid();
        assert_eq!(errors, [(format!("?{name}"), code.to_owned())], "{path}");
    }
});

// Issue 8: a route that takes no query parameters names any it is given (it used to
// ignore them).
both_backends!(routes_without_parameters_refuse_any, |server| {
    let admin = server.admin_token();
    for path in [
        "/v1/departments?x=1",
        "/v1/categories?x=1",
        "/v1/sla-policies?x=1",
        "/v1/calendar/2026?x=1",
    ] {
        let r = server.get(path, &admin);
        let errors = r.invalid();
        assert_eq!(
            errors,
            [("?x".to_owned(), "unknown_parameter".to_owned())],
            "{path}"
        );
    }
    assert_eq!(server.get("/v1/departments", &admin).status, 200);
});

// `sort=due` (issue 12): earliest open deadline first, ties by id, in keyset pages that
// never repeat or skip; a ticket without a running open deadline (withdrawn) is not in it;
// filters apply; a cursor of the other order and an unknown order are 422.
both_backends!(tickets_sort_by_earliest_open_deadline, |server| {
    let county = County::new(server);
    let ent = &county.enterprise_user.token;
    let file = |urgency: &str, title: &str| -> Value {
        let r = server.post(
            "/v1/tickets",
            ent,
            json!({"kind": "complaint", "urgency": urgency, "category": "other",
                   "title": title, "description": "按截止时间排序的测试工单"}),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        r.json()
    };
    // Filed in an order unlike the deadlines': a day limit, then 15 and 30 minutes.
    let general = file("general", "一般：一个工作日内签收");
    let complex = file("complex", "复杂：一个工作日内签收");
    let utilities = file("utilities", "水电气热：30分钟内签收");
    let emergency = file("emergency", "紧急：15分钟内签收");
    let withdrawn = file("emergency", "已撤回，不在期限顺序中");
    let r = server.action(
        ent,
        withdrawn["id"].as_str().unwrap(),
        "withdraw",
        1,
        &json!({"reason": "问题已自行解决"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);

    // The day limits fall on the same instant: the id breaks the tie.
    let mut same_day = [general["id"].clone(), complex["id"].clone()];
    same_day.sort_by_key(|id| id.as_str().unwrap().to_owned());
    let expected: Vec<Value> = [emergency["id"].clone(), utilities["id"].clone()]
        .into_iter()
        .chain(same_day)
        .collect();
    let supervisor = &county.supervisor.token;
    for limit in [1, 3, 100] {
        let seen = pages(server, supervisor, "/v1/tickets?sort=due", limit);
        let ids: Vec<Value> = seen.iter().flatten().map(|t| t["id"].clone()).collect();
        assert_eq!(ids, expected, "limit {limit}");
        let dues: Vec<&str> = seen
            .iter()
            .flatten()
            .map(|t| t["accept_due_at"].as_str().unwrap())
            .collect();
        assert!(dues.windows(2).all(|w| w[0] <= w[1]), "{dues:?}");
    }
    // The default order is still newest first, with the withdrawn ticket.
    let newest = server.get("/v1/tickets?limit=1", supervisor).json();
    assert_eq!(newest["items"][0]["id"], withdrawn["id"]);
    // Filters apply: the clock-limited ones only.
    let urgent = server
        .get("/v1/tickets?sort=due&urgency=utilities", supervisor)
        .json();
    assert_eq!(urgent["items"].as_array().unwrap().len(), 1);
    assert_eq!(urgent["items"][0]["id"], utilities["id"]);

    // A cursor of one order is not taken by the other; an unknown order is refused.
    let newest_cursor = server.get("/v1/tickets?limit=1", supervisor).json()["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let due_cursor = server
        .get("/v1/tickets?limit=1&sort=due", supervisor)
        .json()["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let errors = server
        .get(
            &format!("/v1/tickets?sort=due&cursor={newest_cursor}"),
            supervisor,
        )
        .invalid();
    assert_eq!(errors, [("?cursor".to_owned(), "invalid".to_owned())]);
    let errors = server
        .get(&format!("/v1/tickets?cursor={due_cursor}"), supervisor)
        .invalid();
    assert_eq!(errors, [("?cursor".to_owned(), "invalid".to_owned())]);
    let errors = server
        .get("/v1/tickets?sort=deadline", supervisor)
        .invalid();
    assert_eq!(errors, [("?sort".to_owned(), "unknown_value".to_owned())]);
});
