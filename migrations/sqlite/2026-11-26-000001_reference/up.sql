-- Reference data: the same tables as migrations/postgres, in SQLite's types.
-- A UUID is a 16-byte BLOB; an instant is TEXT in fixed-width RFC 3339 UTC with
-- microseconds ('2026-09-18T02:00:00.000000Z'), so text order is time order; a boolean is
-- 0 or 1. STRICT tables refuse a value of the wrong storage class instead of keeping it.

CREATE TABLE departments (
    id BLOB PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;

-- SQLite checks a foreign key when rows change, so enterprises may name users before it
-- exists.
CREATE TABLE enterprises (
    id BLOB PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    -- 统一社会信用代码 (GB 32100-2015); the check character is verified by the api.
    uscc TEXT NOT NULL UNIQUE CHECK (length(uscc) = 18),
    contact_name TEXT NOT NULL,
    contact_phone TEXT NOT NULL,
    contact_email TEXT NOT NULL,
    paired_leader_id BLOB REFERENCES users (id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX enterprises_paired_leader_id_idx ON enterprises (paired_leader_id);

CREATE TABLE users (
    id BLOB PRIMARY KEY NOT NULL,
    username TEXT NOT NULL UNIQUE,
    -- argon2id PHC string, never the password.
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('enterprise', 'liaison', 'officer', 'supervisor', 'admin')),
    display_name TEXT NOT NULL,
    email TEXT NOT NULL,
    department_id BLOB REFERENCES departments (id),
    enterprise_id BLOB REFERENCES enterprises (id),
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    -- An enterprise user belongs to exactly one enterprise; nobody else belongs to one.
    CHECK ((role = 'enterprise') = (enterprise_id IS NOT NULL))
) STRICT;
CREATE INDEX users_department_id_idx ON users (department_id);
CREATE INDEX users_enterprise_id_idx ON users (enterprise_id);

-- 驻厂联络员: which liaison is stationed at which enterprise.
CREATE TABLE enterprise_liaisons (
    enterprise_id BLOB NOT NULL REFERENCES enterprises (id) ON DELETE CASCADE,
    liaison_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (enterprise_id, liaison_id)
) STRICT;
CREATE INDEX enterprise_liaisons_liaison_id_idx ON enterprise_liaisons (liaison_id);

-- 派单目录: a category may name the department its new tickets are dispatched to.
CREATE TABLE categories (
    code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    department_id BLOB REFERENCES departments (id) ON DELETE SET NULL
) STRICT;
CREATE INDEX categories_department_id_idx ON categories (department_id);

INSERT INTO categories (code, name) VALUES
    ('policy', '政策兑现'),
    ('financing', '融资'),
    ('land', '用地'),
    ('approval', '审批服务'),
    ('utilities', '水电气热'),
    ('enforcement', '执法检查'),
    ('safety', '安全生产'),
    ('labour', '用工'),
    ('logistics', '物流运输'),
    ('market', '市场准入'),
    ('other', '其他');

-- The State Council's holidays and make-up working days; a day not listed is a working
-- day from Monday to Friday. Filled from the domain's shipped calendar, not here.
-- date is 'YYYY-MM-DD', as diesel writes a Date on SQLite.
CREATE TABLE calendar_days (
    date TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('holiday', 'workday')),
    name TEXT NOT NULL
) STRICT;

-- The years whose calendar is loaded: a deadline in any other year is provisional.
CREATE TABLE calendar_years (
    year INTEGER PRIMARY KEY NOT NULL,
    loaded_at TEXT NOT NULL
) STRICT;

-- The county's own time limits (承诺时限) per urgency class. Filled from the domain's
-- defaults, not here.
CREATE TABLE sla_policies (
    class TEXT PRIMARY KEY NOT NULL CHECK (class IN ('emergency', 'utilities', 'general', 'complex')),
    accept_amount INTEGER NOT NULL CHECK (accept_amount > 0),
    accept_unit TEXT NOT NULL CHECK (accept_unit IN ('minutes', 'working_days')),
    contact_amount INTEGER NOT NULL CHECK (contact_amount > 0),
    contact_unit TEXT NOT NULL CHECK (contact_unit IN ('minutes', 'working_days')),
    resolve_amount INTEGER NOT NULL CHECK (resolve_amount > 0),
    resolve_unit TEXT NOT NULL CHECK (resolve_unit IN ('minutes', 'working_days')),
    basis TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
