//! The statistics over HTTP (issue 10, DESIGN.md sections 6 and 7), on both backends: what
//! `GET /v1/stats/departments` and `GET /v1/stats/officers` answer equals the domain's
//! pure definition (`jiban_domain::stats`) computed over the tickets and timelines the
//! server stored, after two hundred tickets lived random lives through the API (accepts,
//! contacts, resolves, explanations, ratings good and bad, appeals upheld and rejected,
//! withdrawals, disposals, transfers); the weights come from `JIBAN_SCORE_WEIGHTS`; an
//! officer sees their own department; bad periods are a 422 naming the parameter.

use chrono::{Duration, FixedOffset, Utc};
use jiban_domain::Actor;
use jiban_domain::stats::{Period, Rate, Row, TicketFacts, Weights};
use jiban_domain::values::TicketId;
use jiban_persistence::DbUrl;
use jiban_tests::fixture::{County, create_department, create_person, unique};
use jiban_tests::{Options, TestServer, both_backends};
use serde_json::{Value, json};

const LEVELS: [&str; 5] = [
    "very_satisfied",
    "satisfied",
    "basically_satisfied",
    "dissatisfied",
    "very_dissatisfied",
];

/// The JSON of one row's figures, as section 6 and openapi.yaml name them.
fn figures<K>(row: &Row<K>) -> Value {
    let t = &row.totals.tally;
    let f = &row.figures;
    let rate = |r: Option<Rate>| r.map_or(Value::Null, |r| json!(r.as_f64()));
    json!({
        "rank": row.rank,
        "score": rate(f.score),
        "received": t.received,
        "disposed": t.disposed,
        "accepted": t.accepted,
        "withdrawn": t.withdrawn,
        "responded_on_time": t.responded_on_time,
        "resolved": t.resolved_now,
        "with_outcome": t.with_outcome,
        "rated": t.rated,
        "on_time": t.on_time,
        "overdue_now": t.overdue_now,
        "supervised_now": t.supervised_now,
        "response_rate": rate(f.response_rate),
        "resolution_rate": rate(f.resolution_rate),
        "satisfaction_rate": rate(f.satisfaction_rate),
        "rating_rate": rate(f.rating_rate),
        "on_time_rate": rate(f.on_time_rate),
        "withdrawal_rate": rate(f.withdrawal_rate),
        "median_minutes_to_first_contact": f.median_minutes_to_first_contact,
        "median_minutes_to_first_outcome": f.median_minutes_to_first_outcome,
    })
}

/// An item of the API without its key and name, to compare with [`figures`].
fn without(item: &Value, keys: &[&str]) -> Value {
    let mut item = item.clone();
    for key in keys {
        item.as_object_mut().unwrap().remove(*key);
    }
    item
}

/// The facts of every stored ticket, read back through the store.
fn stored_facts(server: &TestServer, ids: &[String]) -> Vec<TicketFacts> {
    let url: DbUrl = server.database().url().parse().unwrap();
    let mut conn = url.establish().unwrap();
    let now = Utc::now();
    ids.iter()
        .map(|id| {
            let id = TicketId::from_uuid(id.parse().unwrap()).unwrap();
            let ticket = jiban_persistence::tickets::get(&mut conn, id, &Actor::System).unwrap();
            let (timeline, more) =
                jiban_persistence::tickets::events(&mut conn, id, &Actor::System, 100, None)
                    .unwrap();
            assert!(more.is_none());
            let timeline: Vec<_> = timeline.iter().map(|e| e.to_event().unwrap()).collect();
            TicketFacts::of(&ticket, &timeline, now)
        })
        .collect()
}

/// Today in the county, and a period around it.
fn period() -> Period {
    let today = Utc::now()
        .with_timezone(&FixedOffset::east_opt(8 * 3600).unwrap())
        .date_naive();
    Period::new(today - Duration::days(1), today + Duration::days(2)).unwrap()
}

fn query(period: &Period) -> String {
    format!("from={}&to={}", period.from(), period.to())
}

both_backends!(
    the_statistics_equal_the_definition_over_the_stored_histories,
    Options::new().set("JIBAN_SCORE_WEIGHTS", "20/40/40"),
    |server| {
        let county = County::new(server);
        let admin = &county.admin;
        let dept_b = create_department(server, admin, &format!("b{}", unique()));
        let officer_b = create_person(server, admin, "officer", json!({"department_id": dept_b}));
        let colleague = create_person(
            server,
            admin,
            "officer",
            json!({"department_id": county.department_id}),
        );
        let ent = county.enterprise_user.token.clone();
        let sup = county.supervisor.token.clone();
        // A fixed xorshift, so a failure repeats.
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = move |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        let mut ids = Vec::new();
        for _ in 0..200 {
            let r = server.post(
                "/v1/tickets",
                &ent,
                json!({"kind": "complaint", "category": "utilities", "title": "厂区停电",
                       "description": "自昨晚起厂区停电，三条产线停工。"}),
            );
            assert_eq!(r.status, 201, "{}", r.body);
            let mut ticket = r.json();
            // A third are taken by the other department first, so both live full lives.
            if next(3) == 0 {
                let id = ticket["id"].as_str().unwrap().to_owned();
                let moved = server.action(&officer_b.token, &id, "accept", 1, &json!({}));
                assert_eq!(moved.status, 200, "{}", moved.body);
                ticket = moved.json();
            }
            for _ in 0..next(10) {
                let officer = if ticket["department_id"] == json!(dept_b) {
                    &officer_b.token
                } else if next(3) == 0 {
                    &colleague.token
                } else {
                    &county.officer.token
                };
                let (token, action, body) = match next(13) {
                    0 | 1 => (officer, "accept", json!({})),
                    2 => (
                        officer,
                        "contact",
                        json!({"method": "phone", "summary": "电话联系企业负责人了解情况"}),
                    ),
                    3 | 4 => (
                        officer,
                        "resolve",
                        json!({"result": "已协调供电公司抢修线路，当日恢复供电。"}),
                    ),
                    5 => (
                        officer,
                        "explain",
                        json!({"explanation": "受现行政策限制，该事项暂无法办理，已向企业详细说明政策依据。".repeat(2),
                               "policy_basis": "《江苏省土地管理条例》第二十条"}),
                    ),
                    6 | 7 => {
                        let level = LEVELS[usize::try_from(next(5)).unwrap()];
                        (&ent, "rate", json!({ "level": level }))
                    }
                    8 => (officer, "appeal", json!({"reason": "评价与办理事项无关"})),
                    9 => (&sup, "appeal/decision", json!({"uphold": next(2) == 0})),
                    10 => (&ent, "withdraw", json!({"reason": "问题已自行解决"})),
                    11 => (
                        officer,
                        "dispose",
                        json!({"disposition": "out_of_scope",
                               "explanation": "该诉求属于司法程序事项，已告知企业通过法院途径依法解决。"}),
                    ),
                    _ => (
                        &sup,
                        "transfer",
                        json!({"department_id": dept_b, "reason": "职能调整，由对口部门办理"}),
                    ),
                };
                let id = ticket["id"].as_str().unwrap();
                let version = ticket["version"].as_u64().unwrap();
                let r = server.action(token, id, action, version, &body);
                assert!(r.status < 500, "{action}: {} {}", r.status, r.body);
                if r.status == 200 {
                    ticket = r.json();
                }
            }
            ids.push(ticket["id"].as_str().unwrap().to_owned());
        }

        let period = period();
        let weights = Weights::new(20, 40, 40).unwrap();
        let facts = stored_facts(server, &ids);
        // Every case the rates tell apart happened.
        let all = jiban_domain::stats::totals_by(&facts, &period, |_| ());
        let t = &all[&()].tally;
        for (case, n) in [
            ("disposed", t.disposed),
            ("withdrawn", t.withdrawn),
            ("resolved", t.resolved_now),
            ("explained or reopened", t.with_outcome - t.resolved_now),
            ("rated", t.rated),
            ("accepted", t.accepted),
        ] {
            assert!(n > 0, "no ticket {case}");
        }

        let r = server.get(&format!("/v1/stats/departments?{}", query(&period)), &sup);
        assert_eq!(r.status, 200, "{}", r.body);
        let body = r.json();
        assert_eq!(
            body["weights"],
            json!({"response": 20, "resolution": 40, "satisfaction": 40})
        );
        assert_eq!(body["from"], json!(period.from().to_string()));
        let items = body["items"].as_array().unwrap();
        let expected = jiban_domain::stats::departments(&facts, &period, &weights);
        // 协办 (issue 13) sits beside the figures: its own test is tests/cohandling.rs.
        let co_handling = [
            "co_handling_received",
            "co_handling_replied_on_time",
            "co_handling_replied_late",
            "co_handling_not_replied",
        ];
        let mut shown = vec!["department_id", "name"];
        shown.extend(co_handling);
        assert_eq!(items.len(), expected.len(), "{body}");
        for (item, row) in items.iter().zip(&expected) {
            assert_eq!(
                item["department_id"],
                json!(row.key.map(|k| k.as_uuid().to_string()))
            );
            // This history has no co-handling.
            for field in co_handling {
                assert_eq!(item[field], 0, "{item}");
            }
            assert_eq!(without(item, &shown), figures(row), "{item}");
        }
        assert!(
            expected.iter().filter(|r| r.rank.is_some()).count() >= 2,
            "two departments ranked: {body}"
        );

        let r = server.get(&format!("/v1/stats/officers?{}", query(&period)), &sup);
        assert_eq!(r.status, 200, "{}", r.body);
        let items = r.json()["items"].as_array().unwrap().clone();
        let expected = jiban_domain::stats::officers(&facts, &period, None, &weights);
        assert_eq!(items.len(), expected.len());
        for (item, row) in items.iter().zip(&expected) {
            assert_eq!(
                item["user_id"],
                json!(row.key.map(|k| k.as_uuid().to_string()))
            );
            assert_eq!(
                without(item, &["user_id", "display_name"]),
                figures(row),
                "{item}"
            );
        }

        // An officer: their own department's row, with its county-wide rank, and their own
        // department's officers; another department's officers are not theirs to see.
        let officer = &county.officer.token;
        let r = server.get(
            &format!("/v1/stats/departments?{}", query(&period)),
            officer,
        );
        assert_eq!(r.status, 200, "{}", r.body);
        let mine = r.json()["items"].as_array().unwrap().clone();
        let own = jiban_domain::stats::departments(&facts, &period, &weights)
            .into_iter()
            .find(|r| r.key.map(|k| k.as_uuid().to_string()) == Some(county.department_id.clone()))
            .unwrap();
        assert_eq!(mine.len(), 1);
        assert_eq!(without(&mine[0], &shown), figures(&own));
        let r = server.get(&format!("/v1/stats/officers?{}", query(&period)), officer);
        assert_eq!(r.status, 200, "{}", r.body);
        let theirs: Vec<Value> = r.json()["items"].as_array().unwrap().clone();
        let of_own = jiban_domain::stats::officers(&facts, &period, own.key, &weights);
        assert_eq!(
            theirs
                .iter()
                .map(|i| without(i, &["user_id", "display_name"]))
                .collect::<Vec<_>>(),
            of_own.iter().map(figures).collect::<Vec<_>>()
        );
        assert!(
            theirs
                .iter()
                .any(|i| i["display_name"].as_str().is_some_and(|n| !n.is_empty())),
            "officers are named: {theirs:?}"
        );
        server
            .get(
                &format!(
                    "/v1/stats/officers?{}&department_id={dept_b}",
                    query(&period)
                ),
                officer,
            )
            .problem(403, "not_permitted");
    }
);

both_backends!(
    only_officials_read_statistics_and_periods_are_checked,
    |server| {
        let county = County::new(server);
        let good = "from=2026-03-01&to=2026-04-01";
        for token in [&county.enterprise_user.token, &county.liaison.token] {
            server
                .get(&format!("/v1/stats/departments?{good}"), token)
                .problem(403, "not_permitted");
            server
                .get(&format!("/v1/stats/officers?{good}"), token)
                .problem(403, "not_permitted");
        }
        let r = server.get(&format!("/v1/stats/departments?{good}"), &county.admin);
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.json()["items"], json!([]), "no tickets in that month");
        assert_eq!(
            r.json()["weights"],
            json!({"response": 10, "resolution": 50, "satisfaction": 40})
        );
        let sup = &county.supervisor.token;
        for (query, parameter, code) in [
            ("to=2026-04-01", "from", "required"),
            ("from=2026-03-01", "to", "required"),
            ("from=2026-3-1&to=2026-04-01", "from", "invalid"),
            ("from=2026-03-01T00:00:00Z&to=2026-04-01", "from", "invalid"),
            ("from=2026-03-01&to=2026-02-28", "to", "out_of_range"),
            ("from=1999-12-31&to=2026-02-28", "from", "out_of_range"),
            (
                "from=2026-03-01&to=2026-04-01&dept=x",
                "dept",
                "unknown_parameter",
            ),
            (
                "from=2026-03-01&from=2026-03-02&to=2026-04-01",
                "from",
                "duplicate_parameter",
            ),
        ] {
            let e = server
                .get(&format!("/v1/stats/departments?{query}"), sup)
                .problem(422, "invalid_input");
            let errors = e["errors"].as_array().unwrap();
            assert!(
                errors
                    .iter()
                    .any(|x| x["parameter"] == parameter && x["code"] == code),
                "{query}: {e}"
            );
        }
        let e = server
            .get(
                &format!("/v1/stats/officers?{good}&department_id=nope"),
                sup,
            )
            .problem(422, "invalid_input");
        assert_eq!(e["errors"][0]["parameter"], "department_id");
        // The same day twice is an empty period, not an error.
        let r = server.get("/v1/stats/departments?from=2026-03-01&to=2026-03-01", sup);
        assert_eq!(r.status, 200, "{}", r.body);
    }
);

/// The columns of `GET /v1/stats/departments.csv`, as openapi.yaml names them.
const CSV_HEADERS: [&str; 27] = [
    "排名",
    "部门ID",
    "部门",
    "综合得分",
    "受理诉求数",
    "不予受理数",
    "签收数",
    "撤回数",
    "按时响应数",
    "已解决数",
    "已办结数",
    "已评价数",
    "按期办结数",
    "当前超期数",
    "当前督办数",
    "响应率",
    "解决率",
    "满意率",
    "参评率",
    "按期办结率",
    "撤回率",
    "首次联系用时中位数（分钟）",
    "首次办结用时中位数（分钟）",
    "协办收到数",
    "协办按时答复数",
    "协办逾期答复数",
    "协办未答复数",
];

/// A JSON figure as the CSV writes it: a rate to 4 decimals, a count as is, `null` empty.
fn cell(v: &Value, rate: bool) -> String {
    match v {
        Value::Null => String::new(),
        Value::Number(n) if rate => format!("{:.4}", n.as_f64().unwrap()),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        other => panic!("not a figure: {other}"),
    }
}

/// RFC 5987's `%XX` escapes, decoded.
fn percent_decoded(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let hex: String = [bytes.next().unwrap(), bytes.next().unwrap()]
                .iter()
                .map(|b| *b as char)
                .collect();
            out.push(u8::from_str_radix(&hex, 16).unwrap());
        } else {
            out.push(b);
        }
    }
    out
}

/// A department with `name` whose officer has accepted one ticket into it.
fn department_with_a_ticket(server: &TestServer, county: &County, name: &str) -> String {
    let admin = &county.admin;
    let r = server.post(
        "/v1/departments",
        admin,
        json!({"name": name, "code": format!("x{}", unique())}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let department = r.json()["id"].as_str().unwrap().to_owned();
    let officer = create_person(
        server,
        admin,
        "officer",
        json!({"department_id": department}),
    );
    let r = server.post(
        "/v1/tickets",
        &county.enterprise_user.token,
        json!({"kind": "complaint", "category": "utilities", "title": "厂区停电",
               "description": "自昨晚起厂区停电，三条产线停工。"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let r = server.action(&officer.token, &id, "accept", 1, &json!({}));
    assert_eq!(r.status, 200, "{}", r.body);
    department
}

// The CSV opens in a spreadsheet with its Chinese intact: the bytes start with UTF-8's
// byte order mark, the header is the Chinese column names, fields holding commas and
// quotes are quoted (RFC 4180, CRLF), a name is never a formula, the numbers are the
// JSON's, and the file is saved under its Chinese name (RFC 6266, RFC 5987).
both_backends!(the_csv_is_the_table_as_a_spreadsheet_reads_it, |server| {
    let county = County::new(server);
    let quoted = "城东供电所,\"一号\"";
    let formula = "=1+1 供电";
    let d_quoted = department_with_a_ticket(server, &county, quoted);
    let d_formula = department_with_a_ticket(server, &county, formula);
    // And one in the intake queue.
    let r = server.post(
        "/v1/tickets",
        &county.enterprise_user.token,
        json!({"kind": "complaint", "category": "utilities", "title": "厂区停电",
               "description": "自昨晚起厂区停电，三条产线停工。"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let period = period();
    let sup = &county.supervisor.token;
    let path = format!("/v1/stats/departments.csv?{}", query(&period));
    let r = server.get(&path, sup);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    let disposition = r.header("content-disposition").unwrap();
    let dates = format!("{}_{}", period.from(), period.to());
    assert!(
        disposition.starts_with(&format!(
            "attachment; filename=\"jiban-departments_{dates}.csv\"; filename*=UTF-8''"
        )),
        "{disposition}"
    );
    let encoded = disposition.split("filename*=UTF-8''").nth(1).unwrap();
    assert_eq!(
        String::from_utf8(percent_decoded(encoded)).unwrap(),
        format!("部门三率统计_{dates}.csv")
    );

    let bytes = r.body.as_bytes();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "UTF-8 with a byte order mark");
    let text = &r.body[3..];
    assert!(text.ends_with("\r\n"));
    assert!(
        !text.replace("\r\n", "").contains('\n'),
        "every line ends with CRLF"
    );
    assert_eq!(text.split("\r\n").next().unwrap(), CSV_HEADERS.join(","));
    assert!(text.contains("\"城东供电所,\"\"一号\"\"\""), "{text}");

    let json = server
        .get(&format!("/v1/stats/departments?{}", query(&period)), sup)
        .json();
    let items = json["items"].as_array().unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(reader.headers().unwrap(), CSV_HEADERS.as_slice());
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), items.len(), "{text}");
    let fields = [
        "rank",
        "department_id",
        "name",
        "score",
        "received",
        "disposed",
        "accepted",
        "withdrawn",
        "responded_on_time",
        "resolved",
        "with_outcome",
        "rated",
        "on_time",
        "overdue_now",
        "supervised_now",
        "response_rate",
        "resolution_rate",
        "satisfaction_rate",
        "rating_rate",
        "on_time_rate",
        "withdrawal_rate",
        "median_minutes_to_first_contact",
        "median_minutes_to_first_outcome",
        "co_handling_received",
        "co_handling_replied_on_time",
        "co_handling_replied_late",
        "co_handling_not_replied",
    ];
    for (record, item) in records.iter().zip(items) {
        let expected: Vec<String> = fields
            .iter()
            .map(|f| match *f {
                "name" if item["department_id"].is_null() => "（待分派）".to_owned(),
                "name" if item["name"] == formula => format!("'{formula}"),
                f => cell(&item[f], f == "score" || f.ends_with("_rate")),
            })
            .collect();
        assert_eq!(record.iter().collect::<Vec<_>>(), expected, "{text}");
    }
    let names: Vec<&str> = records.iter().map(|r| &r[2]).collect();
    assert!(names.contains(&quoted), "{names:?}");
    assert!(names.contains(&format!("'{formula}").as_str()), "{names:?}");
    assert!(names.contains(&"（待分派）"), "the intake queue: {names:?}");
    for d in [&d_quoted, &d_formula] {
        assert!(records.iter().any(|r| &r[1] == d.as_str()), "{d}: {text}");
    }

    // An officer's file holds their own department's row; others may not read it.
    let r = server.get(&path, &county.officer.token);
    assert_eq!(r.status, 200, "{}", r.body);
    let own: Vec<csv::StringRecord> = csv::Reader::from_reader(&r.body.as_bytes()[3..])
        .records()
        .map(Result::unwrap)
        .collect();
    assert!(
        own.iter().all(|r| r[1] == county.department_id),
        "{}",
        r.body
    );
    server
        .get(&path, &county.enterprise_user.token)
        .problem(403, "not_permitted");
    server
        .get("/v1/stats/departments.csv?from=2026-03-01", sup)
        .problem(422, "invalid_input");
});

// The trend: each bucket's tickets, what became of them and the three rates, empty
// buckets included; a department's, or an officer's own; parameters checked.
both_backends!(a_trend_counts_each_bucket, |server| {
    let county = County::new(server);
    let elsewhere = department_with_a_ticket(server, &county, "自然资源局");
    let ent = &county.enterprise_user.token;
    let officer = &county.officer.token;
    for _ in 0..3 {
        let r = server.post(
            "/v1/tickets",
            ent,
            json!({"kind": "complaint", "category": "utilities", "title": "厂区停电",
                   "description": "自昨晚起厂区停电，三条产线停工。"}),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        let id = r.json()["id"].as_str().unwrap().to_owned();
        let r = server.action(officer, &id, "accept", 1, &json!({}));
        assert_eq!(r.status, 200, "{}", r.body);
        let r = server.action(
            officer,
            &id,
            "resolve",
            2,
            &json!({"result": "已协调供电公司抢修线路，当日恢复供电。"}),
        );
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let period = period();
    let today = Utc::now()
        .with_timezone(&FixedOffset::east_opt(8 * 3600).unwrap())
        .date_naive();
    let sup = &county.supervisor.token;
    let trend = |token: &str, extra: &str| {
        let r = server.get(
            &format!("/v1/stats/trend?{}&bucket=day{extra}", query(&period)),
            token,
        );
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()
    };
    let county_wide = trend(sup, "");
    assert_eq!(county_wide["bucket"], "day");
    assert_eq!(county_wide["department_id"], Value::Null);
    let items = county_wide["items"].as_array().unwrap();
    assert_eq!(
        items.len(),
        3,
        "one item per day, empty days too: {county_wide}"
    );
    for item in items {
        let is_today = item["from"] == json!(today.to_string());
        let received = item["received"].as_u64().unwrap();
        assert_eq!(received, if is_today { 4 } else { 0 }, "{item}");
        if !is_today {
            assert_eq!(item["response_rate"], Value::Null);
        }
    }
    let today_item = items
        .iter()
        .find(|i| i["from"] == json!(today.to_string()))
        .unwrap();
    assert_eq!(today_item["resolved"], 3);
    assert_eq!(today_item["resolution_rate"].as_f64(), Some(1.0));
    // One department's, and an officer's own whatever they ask for.
    let own = trend(sup, &format!("&department_id={}", county.department_id));
    let own_today = own["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["from"] == json!(today.to_string()))
        .unwrap()
        .clone();
    assert_eq!(own_today["received"], 3);
    assert_eq!(trend(officer, "")["items"], own["items"]);
    assert_eq!(
        trend(officer, "")["department_id"],
        json!(county.department_id)
    );
    server
        .get(
            &format!(
                "/v1/stats/trend?{}&bucket=day&department_id={elsewhere}",
                query(&period)
            ),
            officer,
        )
        .problem(403, "not_permitted");
    server
        .get(
            &format!("/v1/stats/trend?{}&bucket=day", query(&period)),
            ent,
        )
        .problem(403, "not_permitted");
    // Weeks and months add the same tickets up.
    for bucket in ["week", "month"] {
        let r = server.get(
            &format!("/v1/stats/trend?{}&bucket={bucket}", query(&period)),
            sup,
        );
        assert_eq!(r.status, 200, "{}", r.body);
        let total: u64 = r.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["received"].as_u64().unwrap())
            .sum();
        assert_eq!(total, 4, "{bucket}: {}", r.body);
    }
    for (q, parameter, code) in [
        ("from=2026-03-01&to=2026-04-01", "bucket", "required"),
        (
            "from=2026-03-01&to=2026-04-01&bucket=year",
            "bucket",
            "unknown_value",
        ),
        (
            "from=2026-03-01&to=2026-04-01&bucket=Day",
            "bucket",
            "unknown_value",
        ),
        (
            "from=2000-01-01&to=2100-01-01&bucket=day",
            "bucket",
            "too_many_buckets",
        ),
        (
            "from=2026-03-01&to=2026-04-01&bucket=day&department_id=x",
            "department_id",
            "invalid",
        ),
        ("to=2026-04-01&bucket=day", "from", "required"),
    ] {
        let e = server
            .get(&format!("/v1/stats/trend?{q}"), sup)
            .problem(422, "invalid_input");
        assert!(
            e["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["parameter"] == parameter && x["code"] == code),
            "{q}: {e}"
        );
    }
    // A century by month is fine.
    let r = server.get(
        "/v1/stats/trend?from=2000-01-01&to=2100-01-01&bucket=month",
        sup,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["items"].as_array().unwrap().len(), 1200);
});
