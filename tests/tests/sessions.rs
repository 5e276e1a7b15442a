//! Sessions end to end (DESIGN.md section 7; issue 8, "Auth completed"): logout revokes a
//! whole chain, a password change ends the other sessions, an admin's reset ends them
//! all, a chain lives at most `JIBAN_SESSION_DAYS`, and authenticated answers are never
//! cached or sniffed.

use jiban_domain::values::UserId;
use jiban_persistence::repo::auth as tokens;
use jiban_persistence::{DbConnection, DbUrl};
use jiban_tests::fixture::create_person;
use jiban_tests::{Response, TestServer, both_backends};
use serde_json::{Value, json};

fn refresh(server: &TestServer, token: &str) -> Response {
    server.call(
        "POST",
        "/v1/auth/refresh",
        None,
        Some(&json!({"refresh_token": token})),
    )
}

fn logout(server: &TestServer, token: &str) -> Response {
    server.call(
        "POST",
        "/v1/auth/logout",
        None,
        Some(&json!({"refresh_token": token})),
    )
}

fn refresh_token(tokens: &Value) -> String {
    tokens["refresh_token"].as_str().unwrap().to_owned()
}

fn access_token(tokens: &Value) -> String {
    tokens["access_token"].as_str().unwrap().to_owned()
}

fn conn(server: &TestServer) -> DbConnection {
    server
        .database()
        .url()
        .parse::<DbUrl>()
        .unwrap()
        .establish()
        .unwrap()
}

both_backends!(logout_revokes_the_whole_chain, |server| {
    let first = server.login("admin", jiban_tests::ADMIN_PASSWORD);
    let t1 = refresh_token(&first);
    let r = refresh(server, &t1);
    assert_eq!(r.status, 200, "{}", r.body);
    let t2 = refresh_token(&r.json());
    let other = server.login("admin", jiban_tests::ADMIN_PASSWORD);

    // Logging out with the first token of the chain ends its newest token too.
    let r = logout(server, &t1);
    assert_eq!(r.status, 204, "{}", r.body);
    assert!(r.body.is_empty());
    refresh(server, &t2).problem(401, "invalid_refresh_token");
    // Twice, or with a token nobody issued: the same 204.
    assert_eq!(logout(server, &t2).status, 204);
    assert_eq!(logout(server, "never-issued").status, 204);
    // Bad bodies are still 422.
    server
        .call("POST", "/v1/auth/logout", None, Some(&json!({})))
        .problem(422, "invalid_input");
    // The user's other session goes on.
    assert_eq!(refresh(server, &refresh_token(&other)).status, 200);
});

both_backends!(changing_ones_password_ends_the_other_sessions, |server| {
    let admin = server.admin_token();
    let person = create_person(server, &admin, "supervisor", json!({}));
    let mine = server.login(&person.username, &person.password);
    let elsewhere = server.login(&person.username, &person.password);
    let path = "/v1/me/password";

    // A wrong current password is 422 on that field, and changes nothing.
    let r = server.post(
        path,
        &access_token(&mine),
        json!({"current_password": "not-it-at-all", "new_password": "a new long password"}),
    );
    r.problem(422, "invalid_input");
    assert_eq!(
        r.invalid(),
        vec![("/current_password".to_owned(), "wrong_password".to_owned())]
    );
    // A new password too short is 422 on that field.
    let r = server.post(
        path,
        &access_token(&mine),
        json!({"current_password": person.password, "new_password": "short"}),
    );
    assert_eq!(
        r.invalid(),
        vec![("/new_password".to_owned(), "too_short".to_owned())]
    );
    // Without a token: 401.
    server
        .call(
            "POST",
            path,
            None,
            Some(&json!({"current_password": "x", "new_password": "a new long password"})),
        )
        .problem(401, "missing_token");

    let r = server.post(
        path,
        &access_token(&mine),
        json!({"current_password": person.password, "new_password": "a new long password"}),
    );
    assert_eq!(r.status, 204, "{}", r.body);
    // The other session is over; this one goes on.
    refresh(server, &refresh_token(&elsewhere)).problem(401, "invalid_refresh_token");
    assert_eq!(refresh(server, &refresh_token(&mine)).status, 200);
    // The old password is refused, the new one works.
    server
        .try_login(&person.username, &person.password)
        .problem(401, "invalid_credentials");
    server.login(&person.username, "a new long password");
});

both_backends!(wrong_current_passwords_are_throttled, |server| {
    let admin = server.admin_token();
    let person = create_person(server, &admin, "liaison", json!({}));
    let body = json!({"current_password": "not-it-at-all", "new_password": "a new long password"});
    for _ in 0..5 {
        server
            .post("/v1/me/password", &person.token, body.clone())
            .problem(422, "invalid_input");
    }
    let r = server.post(
        "/v1/me/password",
        &person.token,
        json!({"current_password": person.password, "new_password": "a new long password"}),
    );
    r.problem(429, "too_many_attempts");
    assert!(r.header("retry-after").is_some());
});

both_backends!(an_admin_reset_ends_every_session, |server| {
    let admin = server.admin_token();
    let person = create_person(server, &admin, "supervisor", json!({}));
    let session = server.login(&person.username, &person.password);
    let path = format!("/v1/users/{}", person.id);

    let r = server.patch(&path, &admin, json!({"password": "short"}));
    assert_eq!(
        r.invalid(),
        vec![("/password".to_owned(), "too_short".to_owned())]
    );
    server
        .patch(
            &path,
            &person.token,
            json!({"password": "reset by admin 1"}),
        )
        .problem(403, "not_permitted");

    let r = server.patch(&path, &admin, json!({"password": "reset by admin 1"}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.json().get("password").is_none() && r.json().get("password_hash").is_none());
    refresh(server, &refresh_token(&session)).problem(401, "invalid_refresh_token");
    refresh(server, &person.refresh_token).problem(401, "invalid_refresh_token");
    server
        .try_login(&person.username, &person.password)
        .problem(401, "invalid_credentials");
    server.login(&person.username, "reset by admin 1");
});

both_backends!(
    a_chain_ends_after_the_session_days,
    jiban_tests::Options::new().set("JIBAN_SESSION_DAYS", "7"),
    |server| {
        let admin = server.admin_token();
        let person = create_person(server, &admin, "liaison", json!({}));
        let session = server.login(&person.username, &person.password);
        // Refreshed this minute, so every token is fresh; but the login was 8 days ago.
        let r = refresh(server, &refresh_token(&session));
        assert_eq!(r.status, 200, "{}", r.body);
        let fresh = refresh_token(&r.json());
        let user = UserId::from_uuid(person.id.parse().unwrap());
        let eight_days_ago = chrono::Utc::now() - chrono::Duration::days(8);
        tokens::set_session_start(&mut conn(server), user, eight_days_ago).unwrap();
        refresh(server, &fresh).problem(401, "invalid_refresh_token");

        // Six days ago is within the seven.
        let session = server.login(&person.username, &person.password);
        let six_days_ago = chrono::Utc::now() - chrono::Duration::days(6);
        tokens::set_session_start(&mut conn(server), user, six_days_ago).unwrap();
        assert_eq!(refresh(server, &refresh_token(&session)).status, 200);
    }
);

both_backends!(authenticated_answers_are_not_cached_or_sniffed, |server| {
    let admin = server.admin_token();
    for path in [
        "/v1/me",
        "/v1/users",
        "/v1/departments",
        "/v1/no-such-route",
    ] {
        let r = server.get(path, &admin);
        assert_eq!(r.header("cache-control"), Some("no-store"), "{path}");
        assert_eq!(
            r.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
    }
    // Even a refused token's answer.
    let r = server.get("/v1/me", "not-a-token");
    assert_eq!(r.status, 401);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    // An anonymous answer is not sniffed either.
    let r = server.call("GET", "/healthz", None, None);
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
});
