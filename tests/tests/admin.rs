//! The admin routes (DESIGN.md section 7's contract table): each one's happy path, who may
//! and may not call it, and the refusals of bad input.

use jiban_tests::fixture::{County, create_department, create_person, unique, uscc};
use jiban_tests::{TestServer, both_backends};
use serde_json::{Value, json};

fn items(r: &jiban_tests::Response) -> Vec<Value> {
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["items"].as_array().expect("items").clone()
}

/// Every non-admin of the county gets 403 for this write.
fn only_admin(server: &TestServer, county: &County, method: &str, path: &str, body: Value) {
    for (role, person) in county.people() {
        let r = server.call(method, path, Some(&person.token), Some(&body));
        r.problem(403, "not_permitted");
        assert!(r.body.contains("not_permitted"), "{role}");
    }
}

both_backends!(departments, |server| {
    let county = County::new(server);
    let r = server.post(
        "/v1/departments",
        &county.admin,
        json!({"code": "water", "name": "  水务局 "}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let d = r.json();
    assert_eq!(
        (d["code"].as_str(), d["name"].as_str()),
        (Some("water"), Some("水务局"))
    );
    assert!(uuid::Uuid::parse_str(d["id"].as_str().unwrap()).is_ok());
    let created_at = d["created_at"].as_str().unwrap();
    assert!(created_at.ends_with("+08:00"), "{created_at}");

    server
        .post(
            "/v1/departments",
            &county.admin,
            json!({"code": "water", "name": "又一个"}),
        )
        .problem(409, "department_code_taken");
    only_admin(
        server,
        &county,
        "POST",
        "/v1/departments",
        json!({"code": "x", "name": "x"}),
    );

    // Staff list them; enterprise users do not.
    for token in [
        &county.admin,
        &county.officer.token,
        &county.supervisor.token,
        &county.liaison.token,
    ] {
        let list = items(&server.get("/v1/departments", token));
        assert!(list.iter().any(|d| d["code"] == "water"), "{list:?}");
        assert_eq!(list.len(), 2);
    }
    server
        .get("/v1/departments", &county.enterprise_user.token)
        .problem(403, "not_permitted");
});

both_backends!(users_are_created_listed_and_edited, |server| {
    let county = County::new(server);
    let admin = &county.admin;

    // The answer never carries the password or a hash.
    let r = server.post(
        "/v1/users",
        admin,
        json!({
            "username": "Zhao.Min",
            "password": "a long password",
            "role": "officer",
            "display_name": "赵敏",
            "email": "zhao@example.gov.cn",
            "department_id": county.department_id,
        }),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(
        !r.body.contains("password") && !r.body.contains("argon2"),
        "{}",
        r.body
    );
    let user = r.json();
    assert_eq!(user["username"], "zhao.min");
    assert_eq!(user["active"], true);
    let id = user["id"].as_str().unwrap().to_owned();
    assert_eq!(
        r.header("location"),
        Some(format!("/v1/users/{id}").as_str())
    );
    server.login("zhao.min", "a long password");

    server
        .post(
            "/v1/users",
            admin,
            json!({"username": "zhao.min", "password": "another password", "role": "supervisor",
                   "display_name": "x", "email": "x@example.gov.cn"}),
        )
        .problem(409, "username_taken");

    // The role decides the attachments.
    let base = |role: &str| {
        json!({"username": format!("u{}", unique()), "password": "a long password",
               "role": role, "display_name": "某人", "email": "a@example.gov.cn"})
    };
    let with = |mut v: Value, k: &str, x: &str| {
        v[k] = json!(x);
        v
    };
    let refusals = [
        (base("officer"), "/department_id", "required"),
        (base("enterprise"), "/enterprise_id", "required"),
        (
            with(base("supervisor"), "department_id", &county.department_id),
            "/department_id",
            "not_allowed",
        ),
        (
            with(base("liaison"), "enterprise_id", &county.enterprise_id),
            "/enterprise_id",
            "not_allowed",
        ),
        (
            with(
                base("officer"),
                "department_id",
                &uuid::Uuid::new_v4().to_string(),
            ),
            "/department_id",
            "unknown_department",
        ),
        (
            with(
                base("enterprise"),
                "enterprise_id",
                &uuid::Uuid::new_v4().to_string(),
            ),
            "/enterprise_id",
            "unknown_enterprise",
        ),
        (
            with(base("officer"), "department_id", "not-a-uuid"),
            "/department_id",
            "invalid",
        ),
    ];
    for (body, pointer, code) in refusals {
        let errors = server.post("/v1/users", admin, body.clone()).invalid();
        assert!(
            errors.contains(&(pointer.to_owned(), code.to_owned())),
            "{body}: {errors:?}"
        );
    }
    only_admin(server, &county, "POST", "/v1/users", base("supervisor"));

    // Lists, all or by role.
    let all = items(&server.get("/v1/users", admin));
    assert_eq!(all.len(), 6, "admin, the county's four, zhao.min");
    let officers = items(&server.get("/v1/users?role=officer", admin));
    assert_eq!(officers.len(), 2);
    assert!(officers.iter().all(|u| u["role"] == "officer"));
    // Supervisors read the officials as a directory (issue 12); one user stays the admin's.
    assert_eq!(
        server.get("/v1/users", &county.supervisor.token).status,
        200
    );
    server
        .get(&format!("/v1/users/{id}"), &county.supervisor.token)
        .problem(403, "not_permitted");
    assert_eq!(
        server.get(&format!("/v1/users/{id}"), admin).json()["username"],
        "zhao.min"
    );

    // PATCH: display name, email, department; null for an officer's department is refused.
    let other = create_department(server, admin, "transport");
    let r = server.patch(
        &format!("/v1/users/{id}"),
        admin,
        json!({"display_name": "赵敏（交通）", "email": "zhao@jt.gov.cn", "department_id": other}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let patched = r.json();
    assert_eq!(patched["display_name"], "赵敏（交通）");
    assert_eq!(patched["department_id"], other.as_str());
    assert_ne!(patched["updated_at"], user["updated_at"]);
    let errors = server
        .patch(
            &format!("/v1/users/{id}"),
            admin,
            json!({"department_id": null}),
        )
        .invalid();
    assert_eq!(
        errors,
        vec![("/department_id".to_owned(), "required".to_owned())]
    );
    let errors = server
        .patch(
            &format!("/v1/users/{}", county.supervisor.id),
            admin,
            json!({"department_id": other}),
        )
        .invalid();
    assert_eq!(
        errors,
        vec![("/department_id".to_owned(), "not_allowed".to_owned())]
    );
    let errors = server
        .patch(
            &format!("/v1/users/{id}"),
            admin,
            json!({"email": "nope", "display_name": ""}),
        )
        .invalid();
    assert_eq!(errors.len(), 2, "{errors:?}");
    server
        .patch(
            &format!("/v1/users/{}", uuid::Uuid::new_v4()),
            admin,
            json!({"active": true}),
        )
        .problem(404, "not_found");
    only_admin(
        server,
        &county,
        "PATCH",
        &format!("/v1/users/{id}"),
        json!({"active": false}),
    );
    // Nothing was half-written by the refusals.
    assert_eq!(
        server.get(&format!("/v1/users/{id}"), admin).json()["email"],
        "zhao@jt.gov.cn"
    );
});

fn enterprise_body(code: &str) -> Value {
    json!({
        "name": "昆山新材料股份有限公司",
        "uscc": code,
        "contact_name": "李总",
        "contact_phone": "+86 138 0000 0000",
        "contact_email": "li@example.com",
    })
}

both_backends!(enterprises_are_created_and_edited, |server| {
    let county = County::new(server);
    let admin = &county.admin;
    let code = uscc(unique());

    let r = server.post(
        "/v1/enterprises",
        admin,
        enterprise_body(&code.to_lowercase()),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let e = r.json();
    assert_eq!(e["uscc"], code.as_str(), "upper-cased");
    assert_eq!(e["liaisons"], json!([]));
    assert!(e["paired_leader_id"].is_null());
    let id = e["id"].as_str().unwrap().to_owned();

    server
        .post("/v1/enterprises", admin, enterprise_body(&code))
        .problem(409, "uscc_taken");

    // A wrong check character (GB 32100-2015) is named at /uscc.
    let last = code.chars().last().unwrap();
    let wrong = format!("{}{}", &code[..17], if last == '0' { '1' } else { '0' });
    let errors = server
        .post("/v1/enterprises", admin, enterprise_body(&wrong))
        .invalid();
    assert_eq!(errors, vec![("/uscc".to_owned(), "invalid".to_owned())]);
    let errors = server
        .post(
            "/v1/enterprises",
            admin,
            json!({"name": "", "uscc": "123", "contact_name": "x", "contact_phone": "call me",
                   "contact_email": "x"}),
        )
        .invalid();
    let pointers: Vec<&str> = errors.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        pointers,
        vec!["/name", "/uscc", "/contact_phone", "/contact_email"]
    );
    only_admin(
        server,
        &county,
        "POST",
        "/v1/enterprises",
        enterprise_body(&uscc(unique())),
    );

    // The paired leader must be an active supervisor.
    let mut body = enterprise_body(&uscc(unique()));
    body["paired_leader_id"] = json!(county.officer.id);
    let errors = server.post("/v1/enterprises", admin, body).invalid();
    assert_eq!(
        errors,
        vec![(
            "/paired_leader_id".to_owned(),
            "not_a_supervisor".to_owned()
        )]
    );

    // PATCH: a paired leader, then cleared with null; a taken uscc is refused.
    let r = server.patch(
        &format!("/v1/enterprises/{id}"),
        admin,
        json!({"paired_leader_id": county.supervisor.id, "contact_name": "王总"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["paired_leader_id"], county.supervisor.id.as_str());
    assert_eq!(r.json()["contact_name"], "王总");
    let r = server.patch(
        &format!("/v1/enterprises/{id}"),
        admin,
        json!({"paired_leader_id": null}),
    );
    assert!(r.json()["paired_leader_id"].is_null(), "{}", r.body);
    assert_eq!(r.json()["contact_name"], "王总", "absent fields stay");
    let county_code = server
        .get(&format!("/v1/enterprises/{}", county.enterprise_id), admin)
        .json()["uscc"]
        .clone();
    server
        .patch(
            &format!("/v1/enterprises/{id}"),
            admin,
            json!({"uscc": county_code}),
        )
        .problem(409, "uscc_taken");
    // Its own code again is no conflict.
    let r = server.patch(
        &format!("/v1/enterprises/{id}"),
        admin,
        json!({"uscc": code}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    server
        .patch(
            &format!("/v1/enterprises/{}", uuid::Uuid::new_v4()),
            admin,
            json!({"name": "x"}),
        )
        .problem(404, "not_found");
    only_admin(
        server,
        &county,
        "PATCH",
        &format!("/v1/enterprises/{id}"),
        json!({"name": "x"}),
    );
});

both_backends!(each_role_sees_its_enterprises, |server| {
    let county = County::new(server);
    let admin = &county.admin;
    let other = jiban_tests::fixture::create_enterprise(server, admin, "另一家公司");
    let ours = &county.enterprise_id;

    let ids = |token: &str| -> Vec<String> {
        items(&server.get("/v1/enterprises", token))
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_owned())
            .collect()
    };
    for token in [admin, &county.officer.token, &county.supervisor.token] {
        let seen = ids(token);
        assert!(seen.contains(ours) && seen.contains(&other), "{seen:?}");
    }
    assert_eq!(ids(&county.enterprise_user.token), vec![ours.clone()]);
    assert_eq!(ids(&county.liaison.token), vec![ours.clone()]);

    // Outside its scope an enterprise is 404, never 403.
    for token in [&county.enterprise_user.token, &county.liaison.token] {
        server
            .get(&format!("/v1/enterprises/{other}"), token)
            .problem(404, "not_found");
        let e = server.get(&format!("/v1/enterprises/{ours}"), token);
        assert_eq!(e.status, 200, "{}", e.body);
        assert_eq!(e.json()["liaisons"][0]["id"], county.liaison.id.as_str());
    }
    assert_eq!(
        server
            .get(&format!("/v1/enterprises/{other}"), &county.officer.token)
            .status,
        200
    );
});

both_backends!(liaisons_are_stationed, |server| {
    let county = County::new(server);
    let admin = &county.admin;
    let second = create_person(server, admin, "liaison", json!({}));
    let path = format!("/v1/enterprises/{}/liaisons", county.enterprise_id);

    let r = server.put(
        &path,
        admin,
        json!({"liaison_ids": [second.id, county.liaison.id, second.id]}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let mut stationed: Vec<String> = r.json()["liaisons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_owned())
        .collect();
    stationed.sort();
    let mut expected = vec![second.id.clone(), county.liaison.id.clone()];
    expected.sort();
    assert_eq!(stationed, expected, "duplicates collapse");
    assert_eq!(
        items(&server.get("/v1/enterprises", &second.token)).len(),
        1
    );

    // Only active liaisons; each refusal at its index; nothing changes.
    let errors = server
        .put(
            &path,
            admin,
            json!({"liaison_ids": [county.liaison.id, county.officer.id, uuid::Uuid::new_v4()]}),
        )
        .invalid();
    assert_eq!(
        errors,
        vec![
            ("/liaison_ids/1".to_owned(), "not_a_liaison".to_owned()),
            ("/liaison_ids/2".to_owned(), "not_a_liaison".to_owned()),
        ]
    );
    assert_eq!(
        server
            .get(&format!("/v1/enterprises/{}", county.enterprise_id), admin)
            .json()["liaisons"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Emptied: the first liaison no longer sees the enterprise.
    let r = server.put(&path, admin, json!({"liaison_ids": [second.id]}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(items(&server.get("/v1/enterprises", &county.liaison.token)).is_empty());
    server
        .get(
            &format!("/v1/enterprises/{}", county.enterprise_id),
            &county.liaison.token,
        )
        .problem(404, "not_found");

    server
        .put(
            &format!("/v1/enterprises/{}/liaisons", uuid::Uuid::new_v4()),
            admin,
            json!({"liaison_ids": []}),
        )
        .problem(404, "not_found");
    only_admin(server, &county, "PUT", &path, json!({"liaison_ids": []}));
});

both_backends!(categories_are_the_dispatch_map, |server| {
    let county = County::new(server);
    let admin = &county.admin;
    for (_, person) in county.people() {
        let list = items(&server.get("/v1/categories", &person.token));
        assert_eq!(list.len(), 11, "the seeded categories");
        let utilities = list.iter().find(|c| c["code"] == "utilities").unwrap();
        assert_eq!(utilities["name"], "水电气热");
        assert!(utilities["department_id"].is_null());
    }

    // Update an existing one (200), create a new one (201).
    let r = server.put(
        "/v1/categories/utilities",
        admin,
        json!({"name": "水电气热", "department_id": county.department_id}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["department_id"], county.department_id.as_str());
    let r = server.put("/v1/categories/tax", admin, json!({"name": "税务"}));
    assert_eq!(r.status, 201, "{}", r.body);
    let list = items(&server.get("/v1/categories", admin));
    assert_eq!(list.len(), 12);
    assert!(
        list.iter()
            .any(|c| c["code"] == "tax" && c["department_id"].is_null())
    );
    // Unmapped again.
    let r = server.put(
        "/v1/categories/utilities",
        admin,
        json!({"name": "水电气热", "department_id": null}),
    );
    assert!(r.json()["department_id"].is_null());

    let errors = server
        .put("/v1/categories/Bad%20Code", admin, json!({"name": "x"}))
        .invalid();
    assert_eq!(errors, vec![("?code".to_owned(), "invalid".to_owned())]);
    let errors = server
        .put(
            "/v1/categories/tax",
            admin,
            json!({"name": "税务", "department_id": uuid::Uuid::new_v4()}),
        )
        .invalid();
    assert_eq!(
        errors,
        vec![("/department_id".to_owned(), "unknown_department".to_owned())]
    );
    only_admin(
        server,
        &county,
        "PUT",
        "/v1/categories/tax",
        json!({"name": "x"}),
    );
});

both_backends!(the_calendar_is_per_year, |server| {
    let county = County::new(server);
    let admin = &county.admin;

    // The shipped 2026 notice is seeded.
    let r = server.get("/v1/calendar/2026", &county.enterprise_user.token);
    assert_eq!(r.status, 200, "{}", r.body);
    let y = r.json();
    assert_eq!(y["loaded"], true);
    let days = y["days"].as_array().unwrap();
    assert!(
        days.iter()
            .any(|d| d == &json!({"date": "2026-10-01", "kind": "holiday", "name": "国庆节"}))
    );
    assert!(
        days.iter()
            .any(|d| d["date"] == "2026-09-20" && d["kind"] == "workday")
    );

    // A year without data: 200, not loaded, no days. Outside 2000–2100: 404.
    let r = server.get("/v1/calendar/2027", &county.officer.token);
    assert_eq!(
        (
            r.status,
            r.json()["loaded"].clone(),
            r.json()["days"].clone()
        ),
        (200, json!(false), json!([]))
    );
    server
        .get("/v1/calendar/1999", admin)
        .problem(404, "not_found");
    server
        .get("/v1/calendar/next", admin)
        .problem(404, "not_found");

    // Load 2027; answered sorted.
    let r = server.put(
        "/v1/calendar/2027",
        admin,
        json!({"days": [
            {"date": "2027-02-08", "kind": "holiday", "name": "春节"},
            {"date": "2027-01-01", "kind": "holiday", "name": "元旦 "},
            {"date": "2027-02-20", "kind": "workday", "name": format!(" \u{3000}{}\t", "调".repeat(50))},
        ]}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let y = r.json();
    assert_eq!(y["loaded"], true);
    assert_eq!(y["recomputed_tickets"], 0);
    assert_eq!(y["days"][0]["date"], "2027-01-01");
    // Names are stored trimmed; 50 characters once trimmed is within the limit (rule 12).
    let names: Vec<Value> = server.get("/v1/calendar/2027", admin).json()["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].clone())
        .collect();
    assert_eq!(
        names,
        vec![json!("元旦"), json!("春节"), json!("调".repeat(50))]
    );
    assert_eq!(
        server.get("/v1/calendar/2027", admin).json()["days"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    // Replaced whole.
    let r = server.put("/v1/calendar/2027", admin, json!({"days": []}));
    assert_eq!((r.status, r.json()["loaded"].clone()), (200, json!(true)));
    assert_eq!(
        server.get("/v1/calendar/2027", admin).json()["days"],
        json!([])
    );

    // Refusals name the entry: a date in another year, a duplicate, a bad date, a bad kind.
    let ok = json!({"date": "2028-01-01", "kind": "holiday", "name": "元旦"});
    let cases = [
        (
            json!([ok, {"date": "2028-01-02", "kind": "holiday", "name": "元旦"},
                   {"date": "2028-01-03", "kind": "holiday", "name": "元旦"},
                   {"date": "2029-05-01", "kind": "holiday", "name": "劳动节"}]),
            "/days/3/date",
            "date_outside_year",
        ),
        (json!([ok, ok]), "/days/1/date", "duplicate_date"),
        (
            json!([ok, {"date": "2028-02-30", "kind": "holiday", "name": "x"}]),
            "/days/1/date",
            "invalid",
        ),
        (
            json!([ok, {"date": "2028-05-01", "kind": "party", "name": "x"}]),
            "/days/1/kind",
            "unknown_value",
        ),
        (
            json!([{"date": "2028-05-01", "kind": "holiday", "name": " \u{3000}\n"}]),
            "/days/0/name",
            "name_blank",
        ),
        (
            json!([{"date": "2028-05-01", "kind": "holiday", "name": "节".repeat(51)}]),
            "/days/0/name",
            "name_too_long",
        ),
        // A name is one line (Schemathesis found a line break and a tab stored inside one).
        (
            json!([{"date": "2028-05-01", "kind": "holiday", "name": "劳动\n节"}]),
            "/days/0/name",
            "control_character",
        ),
        (
            json!([{"date": "2028-05-01", "kind": "holiday", "name": "劳动\t节"}]),
            "/days/0/name",
            "control_character",
        ),
    ];
    for (days, pointer, code) in cases {
        let errors = server
            .put("/v1/calendar/2028", admin, json!({"days": days}))
            .invalid();
        assert_eq!(
            errors,
            vec![(pointer.to_owned(), code.to_owned())],
            "{days}"
        );
    }
    assert_eq!(
        server.get("/v1/calendar/2028", admin).json()["loaded"],
        false,
        "nothing written"
    );
    let errors = server
        .put("/v1/calendar/2101", admin, json!({"days": []}))
        .invalid();
    assert_eq!(
        errors,
        vec![("?year".to_owned(), "year_out_of_range".to_owned())]
    );
    only_admin(
        server,
        &county,
        "PUT",
        "/v1/calendar/2028",
        json!({"days": []}),
    );
});

both_backends!(the_sla_table_is_edited_per_class, |server| {
    let county = County::new(server);
    let admin = &county.admin;
    let list = items(&server.get("/v1/sla-policies", &county.enterprise_user.token));
    let classes: Vec<&str> = list.iter().map(|p| p["class"].as_str().unwrap()).collect();
    assert_eq!(
        classes,
        vec!["emergency", "utilities", "general", "complex"]
    );
    assert_eq!(list[0]["accept"], json!({"amount": 15, "unit": "minutes"}));
    assert_eq!(
        list[2]["resolve"],
        json!({"amount": 5, "unit": "working_days"})
    );
    assert!(list[2]["basis"].as_str().unwrap().starts_with("参照"));

    let body = json!({
        "accept": {"amount": 2, "unit": "working_days"},
        "contact": {"amount": 120, "unit": "minutes"},
        "resolve": {"amount": 10, "unit": "working_days"},
        "basis": "县营商环境办 2027 承诺",
    });
    let r = server.put("/v1/sla-policies/complex", admin, body.clone());
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.json()["resolve"],
        json!({"amount": 10, "unit": "working_days"})
    );
    let list = items(&server.get("/v1/sla-policies", admin));
    assert_eq!(
        list[3]["contact"],
        json!({"amount": 120, "unit": "minutes"})
    );
    assert_eq!(list[3]["basis"], "县营商环境办 2027 承诺");

    // Amount 0, too many working days, an unknown unit: each at its pointer, all at once.
    let errors = server
        .put(
            "/v1/sla-policies/general",
            admin,
            json!({
                "accept": {"amount": 0, "unit": "minutes"},
                "contact": {"amount": 61, "unit": "working_days"},
                "resolve": {"amount": 5, "unit": "weeks"},
                "basis": "",
            }),
        )
        .invalid();
    assert_eq!(
        errors,
        vec![
            ("/accept/amount".to_owned(), "out_of_range".to_owned()),
            ("/contact/amount".to_owned(), "out_of_range".to_owned()),
            ("/resolve/unit".to_owned(), "unknown_value".to_owned()),
            ("/basis".to_owned(), "blank".to_owned()),
        ]
    );
    let errors = server
        .put(
            "/v1/sla-policies/general",
            admin,
            json!({"accept": {"amount": -1, "unit": "minutes"}, "contact": {"amount": 1, "unit": "minutes"},
                   "resolve": {"amount": 1, "unit": "minutes"}, "basis": "x"}),
        )
        .invalid();
    assert_eq!(errors[0].0, "/accept/amount");
    server
        .put("/v1/sla-policies/urgent", admin, body.clone())
        .problem(404, "not_found");
    only_admin(server, &county, "PUT", "/v1/sla-policies/general", body);
    // The refusals wrote nothing.
    assert_eq!(
        items(&server.get("/v1/sla-policies", admin))[2]["accept"],
        json!({"amount": 1, "unit": "working_days"})
    );
});
