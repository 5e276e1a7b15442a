//! A county in miniature, made through the API as an admin would: a department, an
//! officer in it, a supervisor, a liaison stationed at an enterprise, and that
//! enterprise's user, each logged in.

use jiban_domain::values::Uscc;
use serde_json::{Value, json};

use crate::TestServer;

/// A user made for a test, with its access and refresh tokens.
#[derive(Debug, Clone)]
pub struct Person {
    pub id: String,
    pub username: String,
    pub password: String,
    pub token: String,
    pub refresh_token: String,
}

#[derive(Debug, Clone)]
pub struct County {
    pub admin: String,
    pub department_id: String,
    pub enterprise_id: String,
    pub officer: Person,
    pub supervisor: Person,
    pub liaison: Person,
    pub enterprise_user: Person,
}

/// A valid unified social credit code (GB 32100-2015) that differs for each `n`: 17
/// characters from `n`, and the check character that `Uscc::parse` accepts.
pub fn uscc(n: u64) -> String {
    let body = format!("91320500{:09}", n % 1_000_000_000);
    "0123456789ABCDEFGHJKLMNPQRTUWXY"
        .chars()
        .map(|c| format!("{body}{c}"))
        .find(|code| Uscc::parse(code).is_ok())
        .expect("one check character fits")
}

/// A fresh number for names and codes, unique within a test run.
pub fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

pub fn create_department(server: &TestServer, admin: &str, code: &str) -> String {
    let r = server.post(
        "/v1/departments",
        admin,
        json!({"code": code, "name": format!("部门{code}")}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["id"].as_str().unwrap().to_owned()
}

pub fn create_enterprise(server: &TestServer, admin: &str, name: &str) -> String {
    let r = server.post(
        "/v1/enterprises",
        admin,
        json!({
            "name": name,
            "uscc": uscc(unique()),
            "contact_name": "张经理",
            "contact_phone": "0512-6666 8888",
            "contact_email": "zhang@example.com",
        }),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["id"].as_str().unwrap().to_owned()
}

/// Creates a user (`extra` adds department_id or enterprise_id) and logs it in.
pub fn create_person(server: &TestServer, admin: &str, role: &str, extra: Value) -> Person {
    let username = format!("{role}{}", unique());
    let password = format!("pw-{username}-long-enough");
    let mut body = json!({
        "username": username,
        "password": password,
        "role": role,
        "display_name": format!("{role} 测试"),
        "email": format!("{username}@example.gov.cn"),
    });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    let r = server.post("/v1/users", admin, body);
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let tokens = server.login(&username, &password);
    Person {
        id,
        username,
        password,
        token: tokens["access_token"].as_str().unwrap().to_owned(),
        refresh_token: tokens["refresh_token"].as_str().unwrap().to_owned(),
    }
}

impl County {
    pub fn new(server: &TestServer) -> County {
        let admin = server.admin_token();
        let department_id = create_department(server, &admin, &format!("dept{}", unique()));
        let enterprise_id = create_enterprise(server, &admin, "苏州精密制造有限公司");
        let officer = create_person(
            server,
            &admin,
            "officer",
            json!({"department_id": department_id}),
        );
        let supervisor = create_person(server, &admin, "supervisor", json!({}));
        let liaison = create_person(server, &admin, "liaison", json!({}));
        let enterprise_user = create_person(
            server,
            &admin,
            "enterprise",
            json!({"enterprise_id": enterprise_id}),
        );
        let r = server.put(
            &format!("/v1/enterprises/{enterprise_id}/liaisons"),
            &admin,
            json!({"liaison_ids": [liaison.id]}),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        County {
            admin,
            department_id,
            enterprise_id,
            officer,
            supervisor,
            liaison,
            enterprise_user,
        }
    }

    /// Every non-admin, with its role name.
    pub fn people(&self) -> [(&'static str, &Person); 4] {
        [
            ("officer", &self.officer),
            ("supervisor", &self.supervisor),
            ("liaison", &self.liaison),
            ("enterprise", &self.enterprise_user),
        ]
    }
}
