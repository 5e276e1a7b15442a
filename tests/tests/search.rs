//! Text search on tickets, `GET /v1/tickets?q=…` (issue 9, point 3), on both backends:
//! a title or description that contains the query, Chinese words of two characters
//! included; never a match across the title and the description; Latin letters in any
//! case; `%` and `_` literal; within the caller's scope, with the other filters and the
//! keyset pages; and the queries the index cannot serve refused with a 422 naming `q`.

use jiban_tests::alerts::act;
use jiban_tests::fixture::{County, create_enterprise, create_person};
use jiban_tests::{TestServer, both_backends};
use serde_json::{Value, json};

/// A query value as it goes into a URL.
fn enc(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn file(server: &TestServer, token: &str, kind: &str, title: &str, description: &str) -> Value {
    let r = server.post(
        "/v1/tickets",
        token,
        json!({"kind": kind, "category": "utilities", "title": title, "description": description}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()
}

/// The titles of every ticket `token` finds with `q` (and `more`, e.g. `&kind=…`), page
/// by page at `limit`, newest first.
fn titles(server: &TestServer, token: &str, q: &str, more: &str, limit: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("/v1/tickets?q={}{more}&limit={limit}", enc(q));
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let r = server.get(&url, token);
        assert_eq!(r.status, 200, "{url}: {}", r.body);
        let page = r.json();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= limit, "{url}");
        out.extend(
            items
                .iter()
                .map(|t| t["title"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return out,
        }
        assert!(out.len() < 100, "{url}: the cursors never end");
    }
}

const OUTAGE: &str = "厂区停电影响生产";
const LAND: &str = "用地审批进度";
const LATIN: &str = "Power OUTAGE at the plant";
const SUBSIDY: &str = "融资贴息政策咨询";
const EDGE: &str = "停电停";
const OTHERS: &str = "二号厂区停电";

/// Five tickets of the county's enterprise and one of another, oldest first.
fn tickets(server: &TestServer, county: &County) -> (Value, String) {
    let ent = &county.enterprise_user.token;
    let outage = file(
        server,
        ent,
        "complaint",
        OUTAGE,
        "自昨晚22时起厂区停电，三条产线停工，请尽快协调恢复供电。",
    );
    file(
        server,
        ent,
        "request",
        LAND,
        "新厂房用地手续办理缓慢，请协调。",
    );
    file(
        server,
        ent,
        "complaint",
        LATIN,
        "Since 22:00 the Plant has NO power; 100% of the lines stopped.",
    );
    file(
        server,
        ent,
        "consultation",
        SUBSIDY,
        "按50%_贴息的标准如何申请？\n另：停电损失能否补偿。",
    );
    file(server, ent, "complaint", EDGE, "电网检修通知未提前发布。");
    let admin = &county.admin;
    let other_enterprise = create_enterprise(server, admin, "无锡第二机械厂");
    let other = create_person(
        server,
        admin,
        "enterprise",
        json!({"enterprise_id": other_enterprise}),
    );
    file(server, &other.token, "complaint", OTHERS, "全厂停电。");
    (outage, other_enterprise)
}

both_backends!(
    search_finds_substrings_of_titles_and_descriptions,
    |server| {
        let county = County::new(server);
        tickets(server, &county);
        let sup = &county.supervisor.token;
        let find = |q: &str| titles(server, sup, q, "", 20);

        // A two-character Chinese word, in titles and descriptions; newest first.
        assert_eq!(find("停电"), [OTHERS, EDGE, SUBSIDY, OUTAGE]);
        assert_eq!(find("用地"), [LAND]);
        assert_eq!(find("  用地 "), [LAND], "trimmed");
        // Longer ones, with punctuation and digits.
        assert_eq!(find("三条产线停工"), [OUTAGE]);
        assert_eq!(find("22时起厂区停电，三条"), [OUTAGE]);
        assert_eq!(find("停电影响生产"), [OUTAGE]);
        assert_eq!(find("停电停工"), Vec::<String>::new());

        // Never across the title and the description: the title ends 停电停, the description
        // starts 电网, and each of 停电停电's grams is in the ticket.
        assert_eq!(find("停电停"), [EDGE]);
        assert_eq!(find("电停"), [EDGE]);
        assert_eq!(find("停电停电"), Vec::<String>::new());
        assert_eq!(find("生产自昨晚"), Vec::<String>::new());

        // Latin letters in any case, spaces and punctuation included.
        for q in [
            "outage",
            "OUTAGE",
            "Outage",
            "power outage",
            "the plant has no",
        ] {
            assert_eq!(find(q), [LATIN], "{q}");
        }
        assert_eq!(find("no power;"), [LATIN]);
        assert_eq!(find("no power,"), Vec::<String>::new());

        // `%` and `_` are the characters themselves, never wildcards.
        assert_eq!(find("50%_贴息"), [SUBSIDY]);
        assert_eq!(find("50%贴息"), Vec::<String>::new());
        assert_eq!(find("50_%"), Vec::<String>::new());
        assert_eq!(find("100%"), [LATIN]);
        assert_eq!(find("50%_"), [SUBSIDY]);
        // A letter alone inside the query is part of what must match.
        assert_eq!(find("has no power"), [LATIN]);
        assert_eq!(find("the lines"), [LATIN]);
    }
);

both_backends!(
    search_stays_within_scope_and_combines_with_filters_and_pages,
    |server| {
        let county = County::new(server);
        let (outage, other_enterprise) = tickets(server, &county);
        let sup = &county.supervisor.token;

        // The enterprise and its liaison never find the other enterprise's ticket.
        for token in [&county.enterprise_user.token, &county.liaison.token] {
            assert_eq!(
                titles(server, token, "停电", "", 20),
                [EDGE, SUBSIDY, OUTAGE]
            );
            assert_eq!(
                titles(server, token, "二号厂区", "", 20),
                Vec::<String>::new()
            );
        }
        assert_eq!(titles(server, sup, "二号厂区", "", 20), [OTHERS]);

        // With other filters.
        assert_eq!(
            titles(server, sup, "停电", "&kind=consultation", 20),
            [SUBSIDY]
        );
        assert_eq!(
            titles(
                server,
                sup,
                "停电",
                &format!("&enterprise_id={other_enterprise}"),
                20
            ),
            [OTHERS]
        );

        // In keyset pages, each ticket once, in the order of one page.
        let whole = titles(server, sup, "停电", "", 20);
        for limit in [1, 2, 3] {
            assert_eq!(
                titles(server, sup, "停电", "", limit),
                whole,
                "limit {limit}"
            );
        }

        // A ticket's text never changes, but its row does: still found after actions, by
        // the filters on its new state too.
        let officer = &county.officer.token;
        act(server, officer, &outage, "accept", json!({}));
        act(
            server,
            officer,
            &outage,
            "contact",
            json!({"method": "phone", "summary": "已电话联系企业，了解停电情况。"}),
        );
        assert_eq!(
            titles(server, officer, "停电", "&status=in_progress", 20),
            [OUTAGE]
        );
        assert_eq!(
            titles(server, officer, "停电", "&status=submitted", 1),
            [OTHERS, EDGE, SUBSIDY]
        );
        // Comments and contact summaries are not searched: the title and description only.
        assert_eq!(
            titles(server, sup, "电话联系", "", 20),
            Vec::<String>::new()
        );
    }
);

both_backends!(queries_the_index_cannot_serve_are_refused, |server| {
    let county = County::new(server);
    let sup = &county.supervisor.token;
    let long = "停".repeat(101);
    let cases = [
        ("停", "too_short"),
        ("  停  ", "too_short"),
        ("", "too_short"),
        ("a", "too_short"),
        (long.as_str(), "too_long"),
        ("停\u{0}电", "control_character"),
        ("停电\n", "control_character"),
        ("停\t电", "control_character"),
        ("停\u{85}电", "control_character"),
        // Nothing for the index to look up: a letter at either end may be part of a
        // longer word, punctuation is not indexed.
        ("a b", "invalid"),
        ("%_", "invalid"),
        ("，。", "invalid"),
    ];
    for (q, code) in cases {
        let errors = server
            .get(&format!("/v1/tickets?q={}", enc(q)), sup)
            .invalid();
        assert_eq!(errors, [("?q".to_owned(), code.to_owned())], "{q:?}");
    }
    // The longest query is fine; so is one letter standing alone inside a query.
    let longest = "停".repeat(100);
    for q in [longest.as_str(), "a b c", "停电"] {
        let r = server.get(&format!("/v1/tickets?q={}", enc(q)), sup);
        assert_eq!(r.status, 200, "{q}: {}", r.body);
    }
    // Given once.
    let errors = server.get("/v1/tickets?q=ab&q=cd", sup).invalid();
    assert_eq!(
        errors,
        [("?q".to_owned(), "duplicate_parameter".to_owned())]
    );
});
