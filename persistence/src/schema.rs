//! The tables, written by hand to match `migrations/` (no diesel CLI here: it cannot print
//! one schema for two backends with custom types). `schema_matches_the_database` in
//! `migrate.rs` selects every column of every table on both backends, so a mismatch fails
//! a test rather than a request.
//!
//! `Uuid` and `UtcTime` are this crate's SQL types ([`crate::types`]); they shadow the
//! glob-imported `diesel::sql_types::Uuid`.

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Uuid, UtcTime};

    departments (id) {
        id -> Uuid,
        code -> Text,
        name -> Text,
        created_at -> UtcTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Uuid, UtcTime};

    users (id) {
        id -> Uuid,
        username -> Text,
        password_hash -> Text,
        role -> Text,
        display_name -> Text,
        email -> Text,
        department_id -> Nullable<Uuid>,
        enterprise_id -> Nullable<Uuid>,
        active -> Bool,
        created_at -> UtcTime,
        updated_at -> UtcTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Uuid, UtcTime};

    enterprises (id) {
        id -> Uuid,
        name -> Text,
        uscc -> Text,
        contact_name -> Text,
        contact_phone -> Text,
        contact_email -> Text,
        paired_leader_id -> Nullable<Uuid>,
        created_at -> UtcTime,
        updated_at -> UtcTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::Uuid;

    enterprise_liaisons (enterprise_id, liaison_id) {
        enterprise_id -> Uuid,
        liaison_id -> Uuid,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::Uuid;

    categories (code) {
        code -> Text,
        name -> Text,
        department_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    calendar_days (date) {
        date -> Date,
        kind -> Text,
        name -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::UtcTime;

    calendar_years (year) {
        year -> Integer,
        loaded_at -> UtcTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::UtcTime;

    sla_policies (class) {
        class -> Text,
        accept_amount -> Integer,
        accept_unit -> Text,
        contact_amount -> Integer,
        contact_unit -> Text,
        resolve_amount -> Integer,
        resolve_unit -> Text,
        basis -> Text,
        updated_at -> UtcTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Uuid, UtcTime};

    refresh_tokens (id) {
        id -> Uuid,
        user_id -> Uuid,
        token_hash -> Text,
        expires_at -> UtcTime,
        revoked_at -> Nullable<UtcTime>,
        replaced_by -> Nullable<Uuid>,
        created_at -> UtcTime,
        session_id -> Uuid,
        session_started_at -> UtcTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Uuid, UtcTime};

    login_attempts (id) {
        id -> Uuid,
        key -> Text,
        attempted_at -> UtcTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Uuid, UtcTime};

    outbox (id) {
        id -> Uuid,
        dedupe_key -> Text,
        kind -> Text,
        recipient -> Text,
        subject -> Text,
        body -> Text,
        payload -> Nullable<Text>,
        ticket_id -> Nullable<Uuid>,
        status -> Text,
        attempts -> Integer,
        rejections -> Integer,
        next_attempt_at -> UtcTime,
        last_error -> Nullable<Text>,
        created_at -> UtcTime,
        sent_at -> Nullable<UtcTime>,
        webhook_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Uuid, UtcTime};

    idempotency_keys (user_id, key) {
        user_id -> Uuid,
        key -> Text,
        fingerprint -> Text,
        response_status -> Nullable<Integer>,
        response_body -> Nullable<Text>,
        ticket_id -> Nullable<Uuid>,
        created_at -> UtcTime,
        expires_at -> UtcTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Uuid, UtcTime};

    tickets (id) {
        id -> Uuid,
        number -> Text,
        enterprise_id -> Uuid,
        kind -> Text,
        urgency -> Text,
        category -> Text,
        title -> Text,
        status -> Text,
        channel -> Text,
        created_by -> Nullable<Uuid>,
        first_responder_id -> Nullable<Uuid>,
        department_id -> Nullable<Uuid>,
        assignee_id -> Nullable<Uuid>,
        accept_due_at -> UtcTime,
        contact_due_at -> UtcTime,
        resolve_due_at -> UtcTime,
        provisional -> Bool,
        accepted_at -> Nullable<UtcTime>,
        contacted_at -> Nullable<UtcTime>,
        resolved_at -> Nullable<UtcTime>,
        closed_at -> Nullable<UtcTime>,
        overdue_at -> Nullable<UtcTime>,
        supervised -> Bool,
        transfer_count -> Integer,
        redo_count -> Integer,
        close_reason -> Nullable<Text>,
        next_alert_at -> Nullable<UtcTime>,
        version -> BigInt,
        last_seq -> Integer,
        created_at -> UtcTime,
        updated_at -> UtcTime,
        state -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Uuid, UtcTime};

    ticket_events (id) {
        id -> BigInt,
        ticket_id -> Uuid,
        seq -> Integer,
        version -> BigInt,
        kind -> Text,
        actor_id -> Nullable<Uuid>,
        at -> UtcTime,
        internal -> Bool,
        data -> Text,
    }
}

diesel::table! {
    ticket_numbers (year) {
        year -> Integer,
        last_seq -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Uuid, UtcTime};

    alerts (id) {
        id -> Uuid,
        ticket_id -> Uuid,
        deadline -> Text,
        party -> Text,
        level -> Text,
        due_at -> UtcTime,
        created_at -> UtcTime,
        acknowledged_at -> Nullable<UtcTime>,
        acknowledged_by -> Nullable<Uuid>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::Uuid;

    alert_recipients (alert_id, user_id) {
        alert_id -> Uuid,
        user_id -> Uuid,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Uuid, UtcTime};

    visits (id) {
        id -> Uuid,
        enterprise_id -> Uuid,
        liaison_id -> Uuid,
        visited_at -> UtcTime,
        purpose -> Text,
        summary -> Text,
        created_at -> UtcTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::Uuid;

    visit_tickets (visit_id, ticket_id) {
        visit_id -> Uuid,
        ticket_id -> Uuid,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::Uuid;

    /// Text search (issue 9, point 3; `tickets::search`). The columns both backends share:
    /// PostgreSQL adds `grams text[]`, SQLite an `id` rowid keying the FTS5 table
    /// `ticket_search_grams`; only raw SQL there reads them.
    ticket_search (ticket_id) {
        ticket_id -> Uuid,
        folded -> Nullable<Text>,
    }
}

diesel::joinable!(ticket_stats -> tickets (ticket_id));
diesel::joinable!(users -> departments (department_id));
diesel::joinable!(users -> enterprises (enterprise_id));
diesel::joinable!(enterprise_liaisons -> enterprises (enterprise_id));
diesel::joinable!(enterprise_liaisons -> users (liaison_id));
diesel::joinable!(categories -> departments (department_id));
diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(idempotency_keys -> users (user_id));
diesel::joinable!(tickets -> enterprises (enterprise_id));
diesel::joinable!(ticket_events -> tickets (ticket_id));
diesel::joinable!(alerts -> tickets (ticket_id));
diesel::joinable!(alert_recipients -> alerts (alert_id));
diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Uuid, UtcTime};

    attachments (id) {
        id -> Uuid,
        ticket_id -> Uuid,
        storage_key -> Text,
        filename -> Text,
        content_type -> Text,
        size -> BigInt,
        sha256 -> Text,
        internal -> Bool,
        uploaded_by -> Uuid,
        created_at -> UtcTime,
    }
}

diesel::joinable!(attachments -> tickets (ticket_id));
diesel::joinable!(visit_tickets -> visits (visit_id));
diesel::joinable!(ticket_search -> tickets (ticket_id));
diesel::joinable!(webhook_events -> webhooks (webhook_id));
diesel::joinable!(outbox -> webhooks (webhook_id));

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Uuid, UtcTime};

    ticket_stats (ticket_id) {
        ticket_id -> Uuid,
        received_at -> UtcTime,
        department_id -> Nullable<Uuid>,
        assignee_id -> Nullable<Uuid>,
        overdue_at -> Nullable<UtcTime>,
        filled -> Bool,
        disposed -> Integer,
        accepted -> Integer,
        withdrawn -> Integer,
        responded_on_time -> Integer,
        resolved_now -> Integer,
        has_outcome -> Integer,
        rated -> Integer,
        on_time -> Integer,
        supervised_now -> Integer,
        rating_tenths -> Integer,
        minutes_to_contact -> Nullable<BigInt>,
        minutes_to_outcome -> Nullable<BigInt>,
        changed -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Uuid, UtcTime};

    /// Webhooks (issue 10, point 4; `crate::webhooks`): kept after DELETE (`deleted_at`).
    webhooks (id) {
        id -> Uuid,
        url -> Text,
        secret -> Text,
        include_internal -> Bool,
        created_by -> Nullable<Uuid>,
        created_at -> UtcTime,
        deleted_at -> Nullable<UtcTime>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::Uuid;

    /// The event names each webhook subscribed to.
    webhook_events (webhook_id, event) {
        webhook_id -> Uuid,
        event -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::{Uuid, UtcTime};

    /// 主办/协办 (issue 13): a ticket's requests to co-handling departments, repeated
    /// from its state for scope, the `co_handling` filter and the statistics.
    ticket_co_handlers (ticket_id, seq) {
        ticket_id -> Uuid,
        seq -> Integer,
        department_id -> Uuid,
        requested_at -> UtcTime,
        due_at -> UtcTime,
        replied_at -> Nullable<UtcTime>,
        ended_at -> Nullable<UtcTime>,
        status -> Text,
    }
}

diesel::joinable!(ticket_co_handlers -> tickets (ticket_id));

diesel::allow_tables_to_appear_in_same_query!(
    departments,
    users,
    enterprises,
    enterprise_liaisons,
    categories,
    calendar_days,
    calendar_years,
    sla_policies,
    refresh_tokens,
    login_attempts,
    outbox,
    idempotency_keys,
    tickets,
    ticket_events,
    ticket_numbers,
    alerts,
    alert_recipients,
    visits,
    visit_tickets,
    ticket_search,
    ticket_stats,
    webhooks,
    webhook_events,
    attachments,
    ticket_co_handlers,
);

/// Every table, for tests that walk the whole schema.
pub const TABLES: &[&str] = &[
    "departments",
    "users",
    "enterprises",
    "enterprise_liaisons",
    "categories",
    "calendar_days",
    "calendar_years",
    "sla_policies",
    "refresh_tokens",
    "login_attempts",
    "outbox",
    "idempotency_keys",
    "tickets",
    "ticket_events",
    "ticket_numbers",
    "alerts",
    "alert_recipients",
    "visits",
    "visit_tickets",
    "ticket_search",
    "ticket_stats",
    "webhooks",
    "webhook_events",
    "attachments",
    "ticket_co_handlers",
];
