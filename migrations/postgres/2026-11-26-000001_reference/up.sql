-- Reference data: who works here, which enterprises they serve, and the tables admins
-- edit (dispatch categories, the working-day calendar, the SLA commitments).
-- No schema is named: the objects go to the first schema on the search_path, so tests can
-- migrate a private schema each.

CREATE TABLE departments (
    id uuid PRIMARY KEY,
    code text NOT NULL UNIQUE,
    name text NOT NULL,
    created_at timestamptz NOT NULL
);

-- enterprises and users reference each other; the paired leader's foreign key is added
-- once users exists.
CREATE TABLE enterprises (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    -- 统一社会信用代码 (GB 32100-2015); the check character is verified by the api.
    uscc text NOT NULL UNIQUE CHECK (length(uscc) = 18),
    contact_name text NOT NULL,
    contact_phone text NOT NULL,
    contact_email text NOT NULL,
    paired_leader_id uuid,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE users (
    id uuid PRIMARY KEY,
    username text NOT NULL UNIQUE,
    -- argon2id PHC string, never the password.
    password_hash text NOT NULL,
    role text NOT NULL CHECK (role IN ('enterprise', 'liaison', 'officer', 'supervisor', 'admin')),
    display_name text NOT NULL,
    email text NOT NULL,
    department_id uuid REFERENCES departments (id),
    enterprise_id uuid REFERENCES enterprises (id),
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    -- An enterprise user belongs to exactly one enterprise; nobody else belongs to one.
    CHECK ((role = 'enterprise') = (enterprise_id IS NOT NULL))
);
CREATE INDEX users_department_id_idx ON users (department_id);
CREATE INDEX users_enterprise_id_idx ON users (enterprise_id);

ALTER TABLE enterprises
    ADD CONSTRAINT enterprises_paired_leader_id_fkey
    FOREIGN KEY (paired_leader_id) REFERENCES users (id);
CREATE INDEX enterprises_paired_leader_id_idx ON enterprises (paired_leader_id);

-- 驻厂联络员: which liaison is stationed at which enterprise.
CREATE TABLE enterprise_liaisons (
    enterprise_id uuid NOT NULL REFERENCES enterprises (id) ON DELETE CASCADE,
    liaison_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (enterprise_id, liaison_id)
);
CREATE INDEX enterprise_liaisons_liaison_id_idx ON enterprise_liaisons (liaison_id);

-- 派单目录: a category may name the department its new tickets are dispatched to.
CREATE TABLE categories (
    code text PRIMARY KEY,
    name text NOT NULL,
    department_id uuid REFERENCES departments (id) ON DELETE SET NULL
);
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
CREATE TABLE calendar_days (
    date date PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('holiday', 'workday')),
    name text NOT NULL
);

-- The years whose calendar is loaded: a deadline in any other year is provisional.
CREATE TABLE calendar_years (
    year integer PRIMARY KEY,
    loaded_at timestamptz NOT NULL
);

-- The county's own time limits (承诺时限) per urgency class. Filled from the domain's
-- defaults, not here.
CREATE TABLE sla_policies (
    class text PRIMARY KEY CHECK (class IN ('emergency', 'utilities', 'general', 'complex')),
    accept_amount integer NOT NULL CHECK (accept_amount > 0),
    accept_unit text NOT NULL CHECK (accept_unit IN ('minutes', 'working_days')),
    contact_amount integer NOT NULL CHECK (contact_amount > 0),
    contact_unit text NOT NULL CHECK (contact_unit IN ('minutes', 'working_days')),
    resolve_amount integer NOT NULL CHECK (resolve_amount > 0),
    resolve_unit text NOT NULL CHECK (resolve_unit IN ('minutes', 'working_days')),
    basis text NOT NULL,
    updated_at timestamptz NOT NULL
);
