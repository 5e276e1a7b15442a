//! `jiban-seed`: years of ticket history in a Jiban database, for `bench/run` (issue 9).
//!
//! Every ticket lives a life through the domain's own `submit` and `decide`, at instants
//! drawn over the history, and its row and timeline are written exactly as a live write
//! writes them (`jiban_persistence::tickets::insert_history`), many rows to a statement.
//! Then the real scanner catches up at `--until`, recording the alerts history owes and
//! closing unrated tickets whose rating window ended, as a scanner running all along
//! would have. Last, `--due` tickets are filed three days before `--until` and never
//! accepted: the next scanner pass at `--until` has exactly that work, whatever the size
//! of the history.
//!
//!   jiban-seed --database-url postgres://…/jiban_bench --tickets 100000
//!
//! Run it again to grow the history (10k, then +90k, then +900k): each run adds older
//! tickets at `--per-day`, so the recent weeks stay as they were, and first removes the
//! tickets the last run left due (with the same `--until`), so they do not pile up. The database must be
//! migrated (start `jiban serve` on it first). Deterministic for a `--seed`, except ids.

use std::collections::BTreeMap;
use std::process::ExitCode;

use chrono::{DateTime, Duration, Utc};
use clap::Parser;
use diesel::prelude::*;
use jiban_domain::deadline::calendar::local_date;
use jiban_domain::ticket::{self, Command, Event, NewTicket, Rules, Status, Ticket};
use jiban_domain::values::{
    CategoryCode, ContactMethod, DepartmentId, Disposition, EnterpriseId, Kind, RatingLevel, Role,
    Text, TicketId, TicketNumber, Urgency, UserId,
};
use jiban_domain::{Actor, User};
use jiban_persistence::repo::{departments, enterprises, reference, users};
use jiban_persistence::schema;
use jiban_persistence::tickets::{Context, insert_history, scan};
use jiban_persistence::types::{DbInstant, DbUuid};
use jiban_persistence::{DbConnection, DbUrl};

#[derive(Debug, Parser)]
#[command(name = "jiban-seed")]
struct Args {
    /// The database, migrated (`JIBAN_DATABASE_URL`'s form).
    #[arg(long, env = "JIBAN_DATABASE_URL")]
    database_url: String,
    /// How many tickets of history to add.
    #[arg(long)]
    tickets: usize,
    /// The present: history ends here (default: now).
    #[arg(long)]
    until: Option<DateTime<Utc>>,
    /// Tickets a day: the new history goes before what the database has, at this rate,
    /// so the recent weeks (and the open tickets) stay the same while the history grows,
    /// as a county's does (about 55,000 a year by default; a million reach back 18 years).
    #[arg(long, default_value_t = 150)]
    per_day: u64,
    /// Open tickets left for the next scanner pass at `--until`.
    #[arg(long, default_value_t = 1000)]
    due: usize,
    /// Departments, officers per department and enterprises made if fewer exist.
    #[arg(long, default_value_t = 20)]
    departments: usize,
    #[arg(long, default_value_t = 4)]
    officers: usize,
    #[arg(long, default_value_t = 2000)]
    enterprises: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("jiban-seed: {e}");
            ExitCode::FAILURE
        }
    }
}

type Error = Box<dyn std::error::Error>;

fn run(args: &Args) -> Result<(), Error> {
    let url: DbUrl = args.database_url.parse()?;
    let mut conn = url.establish()?;
    let until = args.until.unwrap_or_else(Utc::now);
    let mut rng = Rng(args.seed ^ (args.tickets as u64).rotate_left(17));
    let county = County::load_or_make(&mut conn, args, until)?;
    let rules = reference::load_rules(&mut conn)?;
    let mut numbers = Numbers::load(&mut conn)?;

    let settled = settle_due(&mut conn, until)?;
    if settled > 0 {
        eprintln!("jiban-seed: {settled} tickets left due by the last run removed");
    }

    // The history the database has already reaches this far back.
    let have: i64 = schema::tickets::table.count().get_result(&mut conn)?;
    let seconds_each = 86_400 / args.per_day.max(1);
    let started = std::time::Instant::now();
    let mut made = 0;
    let mut stopped = BTreeMap::<String, usize>::new();
    let mut statuses = BTreeMap::<&'static str, usize>::new();
    while made < args.tickets {
        let n = (args.tickets - made).min(10_000);
        let mut batch = Vec::with_capacity(n);
        for _ in 0..n {
            // The k-th ticket before the present, give or take half an interval.
            let k = (have + made as i64) as u64 + batch.len() as u64;
            let back = k * seconds_each + rng.below(seconds_each);
            let created = until - Duration::seconds(back as i64);
            let (t, events, why) = live(&county, &rules, &mut numbers, &mut rng, created, until);
            if let Some(why) = why {
                *stopped.entry(why).or_default() += 1;
            }
            *statuses.entry(t.status.as_str()).or_default() += 1;
            batch.push((t, events));
        }
        insert_history(&mut conn, &batch, &rules.calendar)?;
        made += n;
        eprintln!(
            "jiban-seed: {made} tickets written ({:.0} s)",
            started.elapsed().as_secs_f64()
        );
    }
    eprintln!("jiban-seed: statuses before the scanner: {statuses:?}");
    for (why, count) in &stopped {
        eprintln!("jiban-seed: {count} lives ended early: {why}");
    }

    let ctx = Context {
        rules: &rules,
        public_url: "http://bench.invalid",
        enterprise_ticket_url: None,
    };
    let report = scan(&mut conn, until, ctx, 500, usize::MAX)?;
    eprintln!(
        "jiban-seed: the scanner caught up at {until}: {} tickets, {} alerts, {} closed unrated ({:.0} s)",
        report.scanned,
        report.alerts,
        report.closed,
        started.elapsed().as_secs_f64()
    );
    // Whatever history queued was sent long ago.
    diesel::update(schema::outbox::table)
        .filter(schema::outbox::status.eq("pending"))
        .set(schema::outbox::status.eq("sent"))
        .execute(&mut conn)?;

    let mut due = Vec::with_capacity(args.due);
    for _ in 0..args.due {
        let at = until - Duration::days(3) + Duration::seconds(rng.below(3_600) as i64);
        let e = county.enterprise(&mut rng);
        let (t, events) = file(&county, &rules, &mut numbers, &mut rng, e, at)?;
        due.push((t, events));
    }
    insert_history(&mut conn, &due, &rules.calendar)?;
    eprintln!(
        "jiban-seed: {} tickets due at {until} for the next scanner pass ({:.0} s in all)",
        args.due,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Removes the tickets a previous run left due for its scanner pass (filed in the hour
/// from three days before `until`, never accepted), with what that pass recorded on them,
/// so that each size's pass has exactly `--due` tickets and the open, overdue tickets do
/// not pile up with the sizes: a county's open work does not grow with its history.
/// PostgreSQL only (bench/scale's): the timeline's append-only trigger is set aside for
/// the transaction by `session_replication_role`, which needs a superuser.
fn settle_due(conn: &mut DbConnection, until: DateTime<Utc>) -> Result<usize, Error> {
    if !matches!(conn, DbConnection::Pg(_)) {
        return Ok(0);
    }
    conn.transaction(|conn| {
        diesel::sql_query("SET LOCAL session_replication_role = replica").execute(conn)?;
        remove_due(conn, until)
    })
}

fn remove_due(conn: &mut DbConnection, until: DateTime<Utc>) -> Result<usize, Error> {
    use schema::{
        alert_recipients, alerts, idempotency_keys, outbox, ticket_events, ticket_search, tickets,
        visit_tickets,
    };
    let from = until - Duration::days(3);
    let ids: Vec<DbUuid> = tickets::table
        .filter(tickets::created_at.ge(DbInstant::from(from)))
        .filter(tickets::created_at.lt(DbInstant::from(from + Duration::hours(1))))
        .filter(tickets::status.eq("submitted"))
        .filter(tickets::accepted_at.is_null())
        .select(tickets::id)
        .load(conn)?;
    for chunk in ids.chunks(1000) {
        let alert_ids = alerts::table
            .filter(alerts::ticket_id.eq_any(chunk))
            .select(alerts::id);
        diesel::delete(
            alert_recipients::table.filter(alert_recipients::alert_id.eq_any(alert_ids)),
        )
        .execute(conn)?;
        diesel::delete(alerts::table.filter(alerts::ticket_id.eq_any(chunk))).execute(conn)?;
        diesel::delete(outbox::table.filter(outbox::ticket_id.eq_any(chunk))).execute(conn)?;
        diesel::delete(ticket_events::table.filter(ticket_events::ticket_id.eq_any(chunk)))
            .execute(conn)?;
        diesel::delete(ticket_search::table.filter(ticket_search::ticket_id.eq_any(chunk)))
            .execute(conn)?;
        diesel::delete(visit_tickets::table.filter(visit_tickets::ticket_id.eq_any(chunk)))
            .execute(conn)?;
        diesel::delete(idempotency_keys::table.filter(idempotency_keys::ticket_id.eq_any(chunk)))
            .execute(conn)?;
        diesel::delete(tickets::table.filter(tickets::id.eq_any(chunk))).execute(conn)?;
    }
    Ok(ids.len())
}

/// The people and places tickets are about.
struct County {
    /// Each enterprise and its user.
    enterprises: Vec<(EnterpriseId, User)>,
    /// Officers by department.
    officers: BTreeMap<DepartmentId, Vec<User>>,
    departments: Vec<DepartmentId>,
    supervisor: User,
    categories: Vec<CategoryCode>,
}

impl County {
    /// What the database has, topped up to the sizes asked for. Made users cannot log in.
    fn load_or_make(
        conn: &mut DbConnection,
        args: &Args,
        now: DateTime<Utc>,
    ) -> Result<County, Error> {
        let mut departments: Vec<DepartmentId> =
            departments::list(conn)?.into_iter().map(|d| d.id).collect();
        while departments.len() < args.departments {
            let id = DepartmentId::from_uuid(uuid::Uuid::now_v7());
            let n = departments.len() + 1;
            departments::insert(
                conn,
                &departments::DepartmentRecord {
                    id,
                    code: format!("seed{n:02}"),
                    name: format!("{}服务中心", DEPARTMENT_NAMES[n % DEPARTMENT_NAMES.len()]),
                    created_at: now,
                },
            )?;
            departments.push(id);
        }
        let mut officers = BTreeMap::<DepartmentId, Vec<User>>::new();
        let mut supervisor = None;
        let mut enterprise_users = BTreeMap::<EnterpriseId, User>::new();
        let rows: Vec<(DbUuid, String, Option<DbUuid>, Option<DbUuid>)> = schema::users::table
            .filter(schema::users::active.eq(true))
            .select((
                schema::users::id,
                schema::users::role,
                schema::users::department_id,
                schema::users::enterprise_id,
            ))
            .load(conn)?;
        for (id, role, department, enterprise) in rows {
            let user = User {
                id: UserId::from_uuid(id.0),
                role: role.parse()?,
                department_id: department.map(|d| DepartmentId::from_uuid(d.0)),
                enterprise_id: enterprise.map(|e| EnterpriseId::from_uuid(e.0)),
                stationed_at: Vec::new(),
            };
            match (user.role, user.department_id, user.enterprise_id) {
                (Role::Officer, Some(d), _) => officers.entry(d).or_default().push(user),
                (Role::Supervisor, _, _) => supervisor = Some(user),
                (Role::Enterprise, _, Some(e)) => {
                    enterprise_users.insert(e, user);
                }
                _ => {}
            }
        }
        let mut made = 0;
        let mut person = |conn: &mut DbConnection,
                          role: Role,
                          department_id: Option<DepartmentId>,
                          enterprise_id: Option<EnterpriseId>|
         -> Result<User, Error> {
            let id = UserId::from_uuid(uuid::Uuid::now_v7());
            made += 1;
            let username = format!("seed.{}.{}", role.as_str(), id.as_uuid().simple());
            users::insert(
                conn,
                &users::NewUser {
                    id,
                    username: &username,
                    // No argon2id string: nobody logs in as a made user.
                    password_hash: "!",
                    role,
                    display_name: "种子用户",
                    email: &format!("{username}@bench.invalid"),
                    department_id,
                    enterprise_id,
                    now,
                },
            )?;
            Ok(User {
                id,
                role,
                department_id,
                enterprise_id,
                stationed_at: Vec::new(),
            })
        };
        for d in &departments {
            while officers.get(d).map_or(0, Vec::len) < args.officers {
                let officer = person(conn, Role::Officer, Some(*d), None)?;
                officers.entry(*d).or_default().push(officer);
            }
        }
        let supervisor = match supervisor {
            Some(s) => s,
            None => person(conn, Role::Supervisor, None, None)?,
        };
        let mut enterprises = Vec::new();
        let mut cursor = None;
        loop {
            let (items, next) = enterprises::page(conn, enterprises::Scope::All, 100, cursor)?;
            enterprises.extend(items.iter().map(|e| e.id));
            match next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        while enterprises.len() < args.enterprises {
            let id = EnterpriseId::from_uuid(uuid::Uuid::now_v7());
            let n = enterprises.len() as u64 + 1;
            enterprises::insert(
                conn,
                &enterprises::EnterpriseRecord {
                    id,
                    name: format!(
                        "{}有限公司{n}",
                        ENTERPRISE_NAMES[n as usize % ENTERPRISE_NAMES.len()]
                    ),
                    uscc: uscc(n),
                    contact_name: "王经理".into(),
                    contact_phone: "13800000000".into(),
                    contact_email: format!("contact{n}@bench.invalid"),
                    paired_leader_id: None,
                    created_at: now,
                    updated_at: now,
                },
            )?;
            enterprises.push(id);
        }
        let mut with_users = Vec::new();
        for e in enterprises {
            let user = match enterprise_users.remove(&e) {
                Some(u) => u,
                None => person(conn, Role::Enterprise, None, Some(e))?,
            };
            with_users.push((e, user));
        }
        if made > 0 {
            eprintln!("jiban-seed: made {made} users");
        }
        let categories = reference::categories(conn)?
            .into_iter()
            .map(|c| c.code)
            .collect();
        Ok(County {
            enterprises: with_users,
            officers,
            departments,
            supervisor,
            categories,
        })
    }

    fn enterprise<'a>(&'a self, rng: &mut Rng) -> &'a (EnterpriseId, User) {
        // A few enterprises file most tickets: the square favours the first ones.
        let u = rng.unit();
        &self.enterprises[((u * u) * self.enterprises.len() as f64) as usize]
    }

    fn officer(&self, department: Option<DepartmentId>, rng: &mut Rng) -> &User {
        let d = department.unwrap_or_else(|| *rng.pick(&self.departments));
        rng.pick(&self.officers[&d])
    }
}

/// Per-year numbers after those the database already has.
struct Numbers(BTreeMap<i32, u64>);

impl Numbers {
    fn load(conn: &mut DbConnection) -> Result<Numbers, Error> {
        let mut last = BTreeMap::new();
        let numbers: Vec<String> = schema::tickets::table
            .select(schema::tickets::number)
            .order(schema::tickets::number.desc())
            .limit(1)
            .load(conn)?;
        // Numbers of one year sort by their digits while they have as many (below 10⁶ a
        // year); the year's largest is found by asking each year.
        if !numbers.is_empty() {
            for year in 2000..=2100 {
                let top: Option<String> = schema::tickets::table
                    .filter(schema::tickets::number.like(format!("JB-{year}-%")))
                    .select(schema::tickets::number)
                    .order(schema::tickets::number.desc())
                    .first(conn)
                    .optional()?;
                if let Some(top) = top {
                    let seq: u64 = top.rsplit('-').next().unwrap_or("0").parse()?;
                    last.insert(year, seq);
                }
            }
        }
        Ok(Numbers(last))
    }

    fn next(&mut self, at: DateTime<Utc>) -> TicketNumber {
        let year = chrono::Datelike::year(&local_date(at));
        let seq = self.0.entry(year).or_default();
        *seq += 1;
        TicketNumber::new(year, *seq).expect("a four-digit year")
    }
}

/// Files a ticket at `at` as the enterprise's own user.
fn file(
    county: &County,
    rules: &Rules,
    numbers: &mut Numbers,
    rng: &mut Rng,
    (enterprise, user): &(EnterpriseId, User),
    at: DateTime<Utc>,
) -> Result<(Ticket, Vec<Event>), Error> {
    let at = at.with_timezone(&Utc);
    let ts = uuid::Timestamp::from_unix(
        uuid::NoContext,
        at.timestamp() as u64,
        at.timestamp_subsec_nanos(),
    );
    let (title, description) = texts(rng);
    let new = NewTicket {
        id: TicketId::from_uuid(uuid::Uuid::new_v7(ts))?,
        number: numbers.next(at),
        enterprise_id: Some(*enterprise),
        kind: *rng.pick(&[
            Kind::Complaint,
            Kind::Request,
            Kind::Request,
            Kind::Consultation,
            Kind::Suggestion,
        ]),
        urgency: Some(*rng.pick(&[
            Urgency::General,
            Urgency::General,
            Urgency::General,
            Urgency::Utilities,
            Urgency::Complex,
            Urgency::Emergency,
        ])),
        category: rng.pick(&county.categories).clone(),
        title: Text::parse(&title)?,
        description: Text::parse(&description)?,
    };
    let event = ticket::submit(new, &Actor::User(user.clone()), at, rules)?;
    let t =
        Ticket::replay(std::slice::from_ref(&event)).ok_or("a submitted event makes a ticket")?;
    Ok((t, vec![event]))
}

/// One ticket's life from `created` until `until` at the latest: the steps people take,
/// each at a later instant, until the life's end or the present. Returns why it ended
/// early when the domain refused a step (counted, to show the lives are realistic).
fn live(
    county: &County,
    rules: &Rules,
    numbers: &mut Numbers,
    rng: &mut Rng,
    created: DateTime<Utc>,
    until: DateTime<Utc>,
) -> (Ticket, Vec<Event>, Option<String>) {
    let enterprise = county.enterprise(rng);
    let (mut t, mut events) =
        file(county, rules, numbers, rng, enterprise, created).expect("a seeded ticket is valid");
    let mut at = created;
    let hours = |rng: &mut Rng, from: f64, to: f64| {
        Duration::seconds(((from + rng.unit() * (to - from)) * 3600.0) as i64)
    };
    let ending = rng.unit();
    let mut steps: Vec<(Duration, Step)> = Vec::new();
    if ending < 0.04 {
        steps.push((hours(rng, 0.5, 20.0), Step::Dispose));
    } else {
        steps.push((hours(rng, 0.2, 30.0), Step::Accept));
        steps.push((hours(rng, 0.5, 40.0), Step::Contact));
        for _ in 0..rng.below(3) {
            steps.push((hours(rng, 1.0, 48.0), Step::Comment));
        }
        if rng.unit() < 0.1 {
            steps.push((hours(rng, 1.0, 24.0), Step::RequestInfo));
            steps.push((hours(rng, 2.0, 72.0), Step::SupplyInfo));
        }
        if ending < 0.08 {
            steps.push((hours(rng, 1.0, 72.0), Step::Withdraw));
        } else if ending < 0.12 {
            steps.push((hours(rng, 24.0, 200.0), Step::Explain));
            steps.push((hours(rng, 1.0, 96.0), Step::Rate));
        } else {
            steps.push((hours(rng, 12.0, 260.0), Step::Resolve));
            if rng.unit() < 0.85 {
                steps.push((hours(rng, 1.0, 96.0), Step::Rate));
            }
        }
    }
    let mut steps = std::collections::VecDeque::from(steps);
    while let Some((after, step)) = steps.pop_front() {
        at += after;
        if at >= until {
            break;
        }
        let (actor, command) = step.command(county, &t, enterprise, rng);
        match ticket::decide(&t, command, &Actor::User(actor), at, rules) {
            Ok(new) => {
                t = ticket::apply(t, &new);
                events.extend(new);
            }
            Err(e) => return (t, events, Some(format!("{step:?}: {e}"))),
        }
        // A dissatisfied rating sends the ticket back (rule 7): it is worked again.
        if matches!(step, Step::Rate) && t.status == Status::InProgress {
            steps.push_back((hours(rng, 24.0, 120.0), Step::Resolve));
            steps.push_back((hours(rng, 1.0, 96.0), Step::Rate));
        }
    }
    (t, events, None)
}

#[derive(Clone, Copy, Debug)]
enum Step {
    Dispose,
    Accept,
    Contact,
    Comment,
    RequestInfo,
    SupplyInfo,
    Withdraw,
    Explain,
    Resolve,
    Rate,
}

impl Step {
    fn command(
        self,
        county: &County,
        t: &Ticket,
        (_, enterprise_user): &(EnterpriseId, User),
        rng: &mut Rng,
    ) -> (User, Command) {
        let handler = || match t.assignee_id {
            Some(a) => county
                .officers
                .values()
                .flatten()
                .find(|o| o.id == a)
                .cloned()
                .unwrap_or_else(|| county.supervisor.clone()),
            None => county.supervisor.clone(),
        };
        match self {
            Step::Dispose => (
                county.officer(t.department_id, rng).clone(),
                Command::Dispose {
                    disposition: Disposition::OutOfScope,
                    explanation: text(
                        "该事项属于司法程序范围，已告知企业通过法院诉讼途径解决，并提供了联系方式。",
                    ),
                    duplicate_of: None,
                },
            ),
            Step::Accept => (
                county.officer(t.department_id, rng).clone(),
                Command::Accept {
                    department_id: None,
                    assignee: None,
                    urgency: None,
                    resolve_with: None,
                },
            ),
            Step::Contact => (
                handler(),
                Command::Contact {
                    method: ContactMethod::Phone,
                    summary: text("电话联系企业负责人，了解具体情况并约定上门时间。"),
                },
            ),
            Step::Comment => (
                handler(),
                Command::Comment {
                    attachment_ids: Vec::new(),
                    body: text("已与相关部门沟通，正在协调处理。"),
                    internal: rng.unit() < 0.5,
                },
            ),
            Step::RequestInfo => (
                handler(),
                Command::RequestInfo {
                    items: vec![text("营业执照复印件"), text("用电户号")],
                    note: None,
                },
            ),
            Step::SupplyInfo => (
                enterprise_user.clone(),
                Command::SupplyInfo {
                    attachment_ids: Vec::new(),
                    body: text("已上传营业执照复印件，用电户号为 3301234567。"),
                },
            ),
            Step::Withdraw => (
                enterprise_user.clone(),
                Command::Withdraw {
                    reason: text("问题已自行解决"),
                },
            ),
            Step::Explain => (
                handler(),
                Command::Explain {
                    explanation: text(
                        "根据现行土地利用总体规划，该地块属于基本农田保护区，暂无法调整用地性质。已向企业详细说明政策依据，并建议企业关注明年规划修编窗口期，届时可再次申请。",
                    ),
                    policy_basis: text("《土地管理法》第三十五条"),
                    plan: None,
                },
            ),
            Step::Resolve => (
                handler(),
                Command::Resolve {
                    result: text(
                        "已协调供电公司抢修线路，厂区于当日恢复供电，企业确认生产已恢复正常。",
                    ),
                },
            ),
            Step::Rate => (
                enterprise_user.clone(),
                Command::Rate {
                    // About one in twenty dissatisfied.
                    level: match rng.below(20) {
                        0..=9 => RatingLevel::VerySatisfied,
                        10..=15 => RatingLevel::Satisfied,
                        16..=18 => RatingLevel::BasicallySatisfied,
                        _ => RatingLevel::Dissatisfied,
                    },
                    comment: None,
                },
            ),
        }
    }
}

/// One of the seeder's own texts, which are valid.
fn text<const MIN: usize, const MAX: usize>(s: &str) -> Text<MIN, MAX> {
    Text::parse(s).expect("a seeded text")
}

/// A title and a description from a few hundred realistic phrases.
fn texts(rng: &mut Rng) -> (String, String) {
    let subject = rng.pick(SUBJECTS);
    let problem = rng.pick(PROBLEMS);
    let title = format!("{subject}{problem}");
    let mut description = format!("我司{subject}{problem}，");
    for _ in 0..1 + rng.below(4) {
        description.push_str(rng.pick::<&str>(DETAILS));
        description.push('，');
    }
    description.push_str(rng.pick::<&str>(ASKS));
    (title, description)
}

const SUBJECTS: &[&str] = &[
    "厂区",
    "二号车间",
    "仓库",
    "办公楼",
    "新建厂房",
    "污水处理站",
    "员工宿舍",
    "配电房",
    "生产线",
    "物流园区",
    "研发中心",
    "食堂",
];
const PROBLEMS: &[&str] = &[
    "停电",
    "停水",
    "燃气压力不足",
    "道路积水",
    "网络中断",
    "用地审批迟缓",
    "消防验收未通过",
    "环评批复延期",
    "排污许可证到期",
    "招工困难",
    "融资贷款受阻",
    "税费退还未到账",
    "施工噪音扰民投诉",
    "周边道路拥堵",
    "门前道路破损",
];
const DETAILS: &[&str] = &[
    "自上周起多次出现",
    "已影响三条产线正常生产",
    "每天损失约五万元",
    "曾多次致电相关部门未果",
    "员工上下班出行不便",
    "订单交付面临违约风险",
    "已提交全部申请材料",
    "窗口工作人员告知需等待",
    "涉及约两百名员工",
    "外地客户来访受到影响",
];
const ASKS: &[&str] = &[
    "请尽快协调解决。",
    "恳请相关部门予以支持。",
    "希望明确办理时限。",
    "请派人到现场查看。",
];
const DEPARTMENT_NAMES: &[&str] = &[
    "供电",
    "供水",
    "燃气",
    "交通",
    "规划",
    "环保",
    "消防",
    "人社",
    "税务",
    "金融",
    "市场监管",
    "住建",
    "应急",
    "商务",
];
const ENTERPRISE_NAMES: &[&str] = &[
    "江宁精密机械",
    "宏达纺织",
    "新能电池",
    "华鑫电子",
    "远航物流",
    "绿源食品",
    "恒通建材",
    "博雅医药",
];

/// A valid 统一社会信用代码 numbered `n` (GB 32100-2015: the check character from the
/// other 17).
fn uscc(n: u64) -> String {
    const CHARS: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    const WEIGHTS: [u64; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let body = format!("91330100MA{n:07}");
    let sum: u64 = body
        .chars()
        .zip(WEIGHTS)
        .map(|(c, w)| CHARS.find(c).expect("a USCC character") as u64 * w)
        .sum();
    let check = (31 - sum % 31) % 31;
    format!("{body}{}", CHARS.as_bytes()[check as usize] as char)
}

/// splitmix64: a small deterministic generator, enough for picking and drawing.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// In [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}
