// 即办 dashboard (issue 12): a small script over the public API, with no dependency but
// Chart.js for the trend's charts. Tokens live in this script's memory only (nothing in
// localStorage, sessionStorage or cookies): a reload asks for the password again. Every
// value from the API reaches the page through textContent or an attribute, never as HTML.
"use strict";

(function () {
  // ---------------------------------------------------------------------------------
  // Small helpers
  // ---------------------------------------------------------------------------------

  const $ = (id) => document.getElementById(id);

  /** An element with attributes and children; strings become text nodes. */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "text") el.textContent = String(value);
      else if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
      else el.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  const ZONE = "Asia/Shanghai";
  const dateTime = new Intl.DateTimeFormat("zh-CN", {
    timeZone: ZONE, year: "numeric", month: "long", day: "numeric",
    hour: "2-digit", minute: "2-digit", hour12: false,
  });
  const dateOnly = new Intl.DateTimeFormat("zh-CN", {
    timeZone: ZONE, year: "numeric", month: "long", day: "numeric",
  });

  /** An instant as a Chinese date and time in +08:00 ("2026年12月4日 18:05"). */
  function when(instant) {
    if (!instant) return "—";
    return dateTime.format(new Date(instant));
  }

  /** A date "YYYY-MM-DD" (a period's bound) as a Chinese date. */
  function day(date) {
    return dateOnly.format(new Date(date + "T00:00:00+08:00"));
  }

  /** Today's date in +08:00 as [year, month (1-12), day]. */
  function today() {
    const parts = new Intl.DateTimeFormat("en-CA", {
      timeZone: ZONE, year: "numeric", month: "2-digit", day: "2-digit",
    }).format(new Date()).split("-");
    return parts.map(Number);
  }

  const pad = (n) => String(n).padStart(2, "0");
  const ymd = (y, m, d) => {
    const t = new Date(Date.UTC(y, m - 1, d));
    return `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`;
  };

  /** A rate (a fraction, or null) as a percentage. */
  function percent(rate) {
    return rate === null || rate === undefined ? "—" : (rate * 100).toFixed(1) + "%";
  }

  /** How late: the time from `since` to now, in days, hours and minutes. */
  function lateness(since) {
    let minutes = Math.max(0, Math.floor((Date.now() - new Date(since).getTime()) / 60000));
    const days = Math.floor(minutes / 1440);
    minutes -= days * 1440;
    const hours = Math.floor(minutes / 60);
    minutes -= hours * 60;
    if (days > 0) return `${days}天${hours}小时`;
    if (hours > 0) return `${hours}小时${minutes}分钟`;
    return `${minutes}分钟`;
  }

  const STATUS = {
    submitted: "待签收", in_progress: "办理中", awaiting_info: "待补充材料",
    resolved: "已办结", explained: "已解释说明", closed: "已关闭", withdrawn: "已撤回",
  };
  const DEADLINE = { accept: "签收", contact: "响应", resolve: "办结反馈" };
  const LEVEL = { warning: "预警", overdue: "超期", escalation: "督办" };
  const URGENCY = { emergency: "紧急", utilities: "水电气热", general: "一般", complex: "复杂疑难" };
  const KIND = { complaint: "投诉", request: "诉求", consultation: "咨询", suggestion: "建议" };
  const ROLE = {
    supervisor: "督办", admin: "管理员", officer: "首席服务员", liaison: "驻厂联络员",
    enterprise: "企业用户",
  };
  const EVENT = {
    submitted: "提交", accepted: "签收", disposed: "受理处置", assigned: "指派",
    transferred: "转办", contacted: "联系企业", commented: "备注", info_requested: "一次性告知补充材料",
    info_supplied: "补充材料", extension_requested: "申请延期", extension_decided: "延期审批",
    resolved: "办结反馈", explained: "解释说明", rated: "评价", reopened: "重办",
    escalated: "提级督办", appealed: "申诉", appeal_decided: "申诉决定", withdrawn: "撤回",
    closed: "关闭", alert_acknowledged: "督办已确认", deadlines_recomputed: "期限重算",
    visit: "驻厂走访", attachment_added: "附件", alerted: "预警提醒",
  };

  // ---------------------------------------------------------------------------------
  // The session: tokens in memory, refreshed with the refresh token
  // ---------------------------------------------------------------------------------

  const session = { access: null, refresh: null, me: null };
  const cache = { departments: null, users: null };
  let refreshing = null;

  class ApiError extends Error {
    constructor(status, problem) {
      super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
      this.status = status;
      this.problem = problem;
    }
  }

  function keep(tokens) {
    session.access = tokens.access_token;
    session.refresh = tokens.refresh_token;
  }

  async function refresh() {
    if (!session.refresh) return false;
    if (!refreshing) {
      refreshing = fetch("/v1/auth/refresh", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ refresh_token: session.refresh }),
      }).then(async (r) => {
        if (!r.ok) return false;
        keep(await r.json());
        return true;
      }).catch(() => false).finally(() => { refreshing = null; });
    }
    return refreshing;
  }

  /** A request to the API with the access token; one refresh and retry on 401. */
  async function api(path, options = {}, retried = false) {
    const headers = Object.assign({}, options.headers || {});
    if (session.access) headers.Authorization = "Bearer " + session.access;
    if (options.json !== undefined) headers["Content-Type"] = "application/json";
    const r = await fetch(path, {
      method: options.method || "GET",
      headers,
      body: options.json !== undefined ? JSON.stringify(options.json) : undefined,
    });
    if (r.status === 401 && !retried && session.refresh) {
      if (await refresh()) return api(path, options, true);
      signedOut();
      throw new ApiError(401, { detail: "登录已过期，请重新登录" });
    }
    if (!r.ok) {
      let problem = null;
      try { problem = await r.json(); } catch (_) { /* not JSON */ }
      throw new ApiError(r.status, problem);
    }
    if (options.raw) return r;
    if (r.status === 204) return null;
    return r.json();
  }

  /** Every page of a keyset list (at most `max` pages). */
  async function all(path, max = 20) {
    const items = [];
    let cursor = null;
    for (let n = 0; n < max; n++) {
      const sep = path.includes("?") ? "&" : "?";
      const page = await api(path + sep + "limit=100" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : ""));
      items.push(...page.items);
      cursor = page.next_cursor;
      if (!cursor) break;
    }
    return items;
  }

  async function departments() {
    if (!cache.departments) {
      const list = await api("/v1/departments").catch(() => []);
      const items = Array.isArray(list) ? list : list.items || [];
      cache.departments = new Map(items.map((d) => [d.id, d.name]));
    }
    return cache.departments;
  }

  async function users() {
    if (!cache.users) {
      const items = await all("/v1/users").catch(() => []);
      cache.users = new Map(items.map((u) => [u.id, u.display_name]));
    }
    return cache.users;
  }

  const deptName = (map, id) => (id ? map.get(id) || "未知部门" : "待分派");
  const userName = (map, id) => (id ? map.get(id) || "—" : "—");

  // ---------------------------------------------------------------------------------
  // Logging in and out
  // ---------------------------------------------------------------------------------

  function show(section) {
    for (const id of ["login", "refused"]) $(id).hidden = id !== section;
    $("view").hidden = section !== "view";
  }

  function signedOut() {
    session.access = session.refresh = session.me = null;
    cache.departments = cache.users = null;
    $("who").hidden = true;
    $("nav").hidden = true;
    $("view").replaceChildren();
    show("login");
    $("username").focus();
  }

  async function login(event) {
    event.preventDefault();
    const error = $("login-error");
    error.textContent = "";
    $("login-submit").disabled = true;
    // Navigation timing covers the page; these marks time a login to its first view.
    performance.mark("jiban:login");
    try {
      const r = await fetch("/v1/auth/token", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ username: $("username").value.trim(), password: $("password").value }),
      });
      if (!r.ok) {
        error.textContent = r.status === 429 ? "尝试次数过多，请稍后再试" : "用户名或密码错误";
        return;
      }
      keep(await r.json());
      $("password").value = "";
      await start();
    } catch (e) {
      error.textContent = "无法连接服务器";
    } finally {
      $("login-submit").disabled = false;
    }
  }

  async function logout() {
    const token = session.refresh;
    signedOut();
    if (token) {
      await fetch("/v1/auth/logout", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ refresh_token: token }),
      }).catch(() => {});
    }
  }

  const OFFICIALS = ["supervisor", "admin", "officer"];

  async function start() {
    session.me = await api("/v1/me");
    const me = session.me;
    $("who-name").textContent = `${me.display_name}（${ROLE[me.role] || me.role}）`;
    $("who").hidden = false;
    if (!OFFICIALS.includes(me.role)) {
      // Enterprises (and liaisons) see nothing here; the API refuses their calls anyway.
      $("nav").hidden = true;
      show("refused");
      return;
    }
    $("nav").hidden = false;
    $("nav-queue").hidden = me.role !== "officer";
    show("view");
    route();
  }

  // ---------------------------------------------------------------------------------
  // Routing: /dashboard/{view} and /dashboard/tickets/{id}, without reloading (the
  // tokens would be lost)
  // ---------------------------------------------------------------------------------

  function go(path) {
    if (location.pathname !== path) history.pushState(null, "", path);
    route();
  }

  function link(path, text) {
    return h("a", {
      href: path,
      onclick: (e) => {
        if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        go(path);
      },
    }, text);
  }

  const ticketLink = (t) => link(`/dashboard/tickets/${encodeURIComponent(t.id)}`, t.number);

  let drawn = 0;

  async function route() {
    if (!session.me) return;
    const path = location.pathname.replace(/\/+$/, "");
    const ticket = path.match(/^\/dashboard\/tickets\/([^/]+)$/);
    let view = ticket ? "ticket" : (path.split("/")[2] || "ranking");
    if (view === "queue" && session.me.role !== "officer") view = "ranking";
    for (const a of document.querySelectorAll("#nav a")) {
      if (a.dataset.view === view) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
    const target = $("view");
    const mine = ++drawn;
    target.replaceChildren(h("p", { class: "muted", text: "加载中……" }));
    target.dataset.view = view;
    target.removeAttribute("data-ready");
    try {
      const content = await VIEWS[view](ticket ? decodeURIComponent(ticket[1]) : null);
      if (mine !== drawn) return;
      target.replaceChildren(content);
      // A view that draws into its elements (the charts) does so once they are placed.
      if (content.afterInsert) content.afterInsert();
      target.dataset.ready = view;
      performance.mark("jiban:ready:" + view);
    } catch (e) {
      if (mine !== drawn) return;
      if (e instanceof ApiError && e.status === 401) return;
      const text = e instanceof ApiError && e.status === 404 ? "未找到，或不在您的查看范围内" : e.message;
      target.replaceChildren(h("p", { class: "error", role: "alert", text: "加载失败：" + text }));
      target.dataset.ready = "error";
    }
  }

  // ---------------------------------------------------------------------------------
  // 排名: the department ranking for a period
  // ---------------------------------------------------------------------------------

  const ranking = { from: null, to: null, sort: "rank", dir: 1 };

  function thisMonth() {
    const [y, m] = today();
    return [ymd(y, m, 1), ymd(y, m + 1, 1)];
  }

  const RANK_COLUMNS = [
    { key: "rank", label: "排名", num: true },
    { key: "name", label: "部门" },
    { key: "response_rate", label: "响应率", num: true, rate: true },
    { key: "resolution_rate", label: "解决率", num: true, rate: true },
    { key: "satisfaction_rate", label: "满意率", num: true, rate: true },
    { key: "score", label: "综合得分", num: true, score: true },
    { key: "received", label: "受理诉求数", num: true },
    { key: "overdue_now", label: "当前超期", num: true },
  ];

  function compare(a, b, key, dir) {
    const x = a[key], y = b[key];
    // Missing values (no rank, no rate) last in either direction.
    if (x === null || x === undefined) return y === null || y === undefined ? 0 : 1;
    if (y === null || y === undefined) return -1;
    if (typeof x === "string") return dir * x.localeCompare(y, "zh-CN");
    return dir * (x - y);
  }

  async function rankingView() {
    if (!ranking.from) [ranking.from, ranking.to] = thisMonth();
    const stats = await api(`/v1/stats/departments?from=${ranking.from}&to=${ranking.to}`);
    const rows = stats.items.map((r) => Object.assign({}, r, { name: r.department_id ? r.name : "待分派" }));

    const from = h("input", { type: "date", id: "rank-from", value: ranking.from });
    const to = h("input", { type: "date", id: "rank-to", value: ranking.to });
    const apply = h("button", { type: "button", id: "rank-apply", text: "查询" });
    apply.addEventListener("click", () => {
      if (!from.value || !to.value) return;
      ranking.from = from.value;
      ranking.to = to.value;
      route();
    });
    const csv = h("button", { type: "button", class: "plain", id: "rank-csv", text: "下载CSV" });
    csv.addEventListener("click", () => download(
      `/v1/stats/departments.csv?from=${ranking.from}&to=${ranking.to}`,
      `部门三率统计_${ranking.from}_${ranking.to}.csv`,
    ));

    const tbody = h("tbody");
    const headRow = h("tr");
    function fill() {
      const sorted = rows.slice().sort((a, b) => compare(a, b, ranking.sort, ranking.dir)
        || compare(a, b, "rank", 1));
      tbody.replaceChildren(...sorted.map((r) => h("tr", { "data-department": r.department_id || "" },
        RANK_COLUMNS.map((c) => {
          let v = r[c.key];
          if (c.rate) v = percent(v);
          else if (c.score) v = v === null ? "—" : (v * 100).toFixed(2);
          else if (v === null || v === undefined) v = "—";
          return h("td", { class: c.num ? "num" : null, "data-key": c.key }, String(v));
        }))));
      for (const th of headRow.children) {
        const key = th.dataset.key;
        th.setAttribute("aria-sort", key === ranking.sort ? (ranking.dir > 0 ? "ascending" : "descending") : "none");
      }
    }
    for (const c of RANK_COLUMNS) {
      const button = h("button", { type: "button", class: "sort", text: c.label });
      button.addEventListener("click", () => {
        if (ranking.sort === c.key) ranking.dir = -ranking.dir;
        else {
          ranking.sort = c.key;
          // Rates and scores read best first; rank and names from the top.
          ranking.dir = c.rate || c.score || (c.num && c.key !== "rank") ? -1 : 1;
        }
        fill();
      });
      headRow.append(h("th", { scope: "col", class: c.num ? "num" : null, "data-key": c.key }, button));
    }
    fill();

    return h("div", { class: "card" },
      h("h2", { text: "部门排名" }),
      h("p", { class: "muted", text: `统计期间：${day(stats.from)} 至 ${day(stats.to)}（不含）；综合得分权重：响应率${stats.weights.response}%、解决率${stats.weights.resolution}%、满意率${stats.weights.satisfaction}%` }),
      h("div", { class: "toolbar" },
        h("div", {}, h("label", { for: "rank-from", text: "起始日期" }), from),
        h("div", {}, h("label", { for: "rank-to", text: "截止日期（不含）" }), to),
        apply, csv),
      h("div", { class: "scroll" },
        h("table", { id: "ranking-table" },
          h("caption", { class: "muted", text: "点击表头排序" }),
          h("thead", {}, headRow), tbody)),
      rows.length ? null : h("p", { class: "muted", text: "该期间没有受理的诉求。" }));
  }

  /** A file from the API (with the token), saved under `name`. */
  async function download(path, name) {
    const r = await api(path, { raw: true });
    const url = URL.createObjectURL(await r.blob());
    const a = h("a", { href: url, download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  // ---------------------------------------------------------------------------------
  // 超期与督办: overdue and supervised tickets, and escalations awaiting acknowledgement
  // ---------------------------------------------------------------------------------

  /** The earliest deadline a ticket has passed unmet (its `overdue` names them). */
  function passed(t) {
    const dues = (t.overdue || []).map((name) => [name, t[name + "_due_at"]]).filter((d) => d[1]);
    dues.sort((a, b) => new Date(a[1]) - new Date(b[1]));
    return dues[0] || null;
  }

  /** The earliest deadline still open (not met), for the queue. */
  function nextDue(t) {
    const open = [];
    if (!t.accepted_at && t.accept_due_at) open.push(["accept", t.accept_due_at]);
    if (!t.contacted_at && t.contact_due_at) open.push(["contact", t.contact_due_at]);
    if (!t.resolved_at && t.resolve_due_at) open.push(["resolve", t.resolve_due_at]);
    open.sort((a, b) => new Date(a[1]) - new Date(b[1]));
    return open[0] || null;
  }

  async function overdueView() {
    const [late, supervised, depts, names, alerts] = await Promise.all([
      api("/v1/tickets?overdue=true&sort=due&limit=100"),
      api("/v1/tickets?supervised=true&overdue=false&sort=due&limit=100"),
      departments(), users(),
      api("/v1/alerts?unacknowledged=true&limit=100"),
    ]);
    const tickets = late.items.concat(supervised.items);

    const table = h("table", { id: "overdue-table" },
      h("thead", {}, h("tr", {},
        ["编号", "标题", "期限", "部门", "承办人", "首问负责人", "超期时长"].map((l) =>
          h("th", { scope: "col", text: l })))),
      h("tbody", {}, tickets.map((t) => {
        const due = passed(t);
        return h("tr", { class: due ? "late" : null, "data-ticket": t.id },
          h("td", {}, ticketLink(t), t.supervised ? [" ", h("span", { class: "badge", text: "督办" })] : null),
          h("td", { text: t.title }),
          h("td", {}, due ? `${DEADLINE[due[0]]} ${when(due[1])}`
            : nextDue(t) ? `${DEADLINE[nextDue(t)[0]]} ${when(nextDue(t)[1])}` : "—"),
          h("td", { text: deptName(depts, t.department_id) }),
          h("td", { text: userName(names, t.assignee_id) }),
          h("td", { text: userName(names, t.first_responder_id) }),
          h("td", { class: "late num", text: due ? lateness(due[1]) : "未超期" }));
      })));

    const canAck = session.me.role !== "admin";
    const alertBody = h("tbody");
    const alertTable = h("table", { id: "alerts-table" },
      h("thead", {}, h("tr", {},
        ["编号", "期限", "应办时间", "督办时间", ""].map((l) => h("th", { scope: "col", text: l })))),
      alertBody);
    for (const a of alerts.items) {
      const row = h("tr", { "data-alert": a.id },
        h("td", {}, link(`/dashboard/tickets/${encodeURIComponent(a.ticket_id)}`, a.ticket_number)),
        h("td", { text: DEADLINE[a.deadline] || a.deadline }),
        h("td", { text: when(a.due_at) }),
        h("td", { text: when(a.created_at) }),
        h("td", {}));
      if (canAck) {
        const button = h("button", { type: "button", class: "ack", text: "确认收到" });
        button.addEventListener("click", async () => {
          button.disabled = true;
          try {
            await api(`/v1/alerts/${encodeURIComponent(a.id)}/ack`, { method: "POST", json: {} });
            row.remove();
            if (!alertBody.children.length) alertTable.after(h("p", { class: "muted", text: "没有待确认的督办。" }));
          } catch (e) {
            button.disabled = false;
            row.lastChild.append(h("span", { class: "error", role: "alert", text: " 确认失败：" + e.message }));
          }
        });
        row.lastChild.append(button);
      }
      alertBody.append(row);
    }

    return h("div", { class: "columns" },
      h("div", { class: "card" },
        h("h2", { text: "超期与督办工单" }),
        h("p", { class: "muted", text: "按超期时长排序，最久的在前；点击编号查看工单。" }),
        h("div", { class: "scroll" }, table),
        tickets.length ? null : h("p", { class: "muted", text: "没有超期或督办中的工单。" })),
      h("div", { class: "card" },
        h("h2", { text: "待确认的督办" }),
        h("div", { class: "scroll" }, alertTable),
        alerts.items.length ? null : h("p", { class: "muted", text: "没有待确认的督办。" })));
  }

  // ---------------------------------------------------------------------------------
  // 趋势: weekly received, resolved, overdue, and the three rates, as charts
  // ---------------------------------------------------------------------------------

  let charts = [];

  async function trendView() {
    for (const c of charts) c.destroy();
    charts = [];
    const [y, m, d] = today();
    const to = ymd(y, m, d + 1);
    const from = ymd(y, m, d - 7 * 12 + 1);
    const trend = await api(`/v1/stats/trend?from=${from}&to=${to}&bucket=week`);
    const labels = trend.items.map((b) => day(b.from).replace(/^\d+年/, ""));
    const countCanvas = h("canvas", { id: "trend-counts", role: "img", "aria-label": "每周受理、办结与超期数" });
    const rateCanvas = h("canvas", { id: "trend-rates", role: "img", "aria-label": "每周三率" });

    const table = h("table", { id: "trend-table" },
      h("thead", {}, h("tr", {}, ["周", "受理", "办结", "超期", "响应率", "解决率", "满意率"].map((l) =>
        h("th", { scope: "col", text: l })))),
      h("tbody", {}, trend.items.map((b) => h("tr", {},
        h("td", { text: `${day(b.from)}起` }),
        h("td", { class: "num", text: b.received }),
        h("td", { class: "num", text: b.resolved }),
        h("td", { class: "num", text: b.overdue_now }),
        h("td", { class: "num", text: percent(b.response_rate) }),
        h("td", { class: "num", text: percent(b.resolution_rate) }),
        h("td", { class: "num", text: percent(b.satisfaction_rate) })))));

    const content = h("div", {},
      h("div", { class: "card" },
        h("h2", { text: "趋势（近12周）" }),
        h("p", { class: "muted", text: `${day(trend.from)} 至 ${day(trend.to)}（不含），按周（周一至周日）` }),
        h("div", { class: "charts" },
          h("div", { class: "chart" }, countCanvas),
          h("div", { class: "chart" }, rateCanvas))),
      h("div", { class: "card" },
        h("h3", { text: "数据表" }),
        h("div", { class: "scroll" }, table)));

    if (window.Chart) {
      // Drawn once the canvases are in the page.
      content.afterInsert = () => {
        const common = { responsive: true, maintainAspectRatio: false, animation: false };
        charts.push(new window.Chart(countCanvas, {
          type: "bar",
          data: {
            labels,
            datasets: [
              { label: "受理", data: trend.items.map((b) => b.received), backgroundColor: "#5470c6" },
              { label: "办结", data: trend.items.map((b) => b.resolved), backgroundColor: "#91cc75" },
              { label: "超期", data: trend.items.map((b) => b.overdue_now), backgroundColor: "#b3261e" },
            ],
          },
          options: Object.assign({
            plugins: { title: { display: true, text: "每周受理、办结、超期" } },
            scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
          }, common),
        }));
        const pct = (r) => (r === null ? null : Math.round(r * 1000) / 10);
        charts.push(new window.Chart(rateCanvas, {
          type: "line",
          data: {
            labels,
            datasets: [
              { label: "响应率", data: trend.items.map((b) => pct(b.response_rate)), borderColor: "#5470c6", spanGaps: true },
              { label: "解决率", data: trend.items.map((b) => pct(b.resolution_rate)), borderColor: "#91cc75", spanGaps: true },
              { label: "满意率", data: trend.items.map((b) => pct(b.satisfaction_rate)), borderColor: "#fac858", spanGaps: true },
            ],
          },
          options: Object.assign({
            plugins: { title: { display: true, text: "每周三率（%）" } },
            scales: { y: { min: 0, max: 100 } },
          }, common),
        }));
      };
    }
    return content;
  }

  // ---------------------------------------------------------------------------------
  // 待处理: the signed-in officer's queue, deadline first
  // ---------------------------------------------------------------------------------

  async function queueView() {
    const me = session.me;
    const [waiting, mine, depts] = await Promise.all([
      api(`/v1/tickets?status=submitted&sort=due&limit=100${me.department_id ? "&department_id=" + encodeURIComponent(me.department_id) : ""}`),
      api(`/v1/tickets?status=in_progress&assignee_id=${encodeURIComponent(me.id)}&sort=due&limit=100`),
      departments(),
    ]);
    const tickets = waiting.items.concat(mine.items);
    const due = (t) => (nextDue(t) || [null, "9999-12-31T00:00:00Z"])[1];
    tickets.sort((a, b) => new Date(due(a)) - new Date(due(b)));
    return h("div", { class: "card" },
      h("h2", { text: "我的待处理" }),
      h("p", { class: "muted", text: "本部门待签收的工单和指派给我的办理中工单，期限最近的在前。" }),
      h("div", { class: "scroll" },
        h("table", { id: "queue-table" },
          h("thead", {}, h("tr", {}, ["编号", "标题", "状态", "部门", "下一期限", ""].map((l) =>
            h("th", { scope: "col", text: l })))),
          h("tbody", {}, tickets.map((t) => {
            const next = nextDue(t);
            const late = next && new Date(next[1]) <= new Date();
            return h("tr", { class: late ? "late" : null, "data-ticket": t.id },
              h("td", {}, ticketLink(t)),
              h("td", { text: t.title }),
              h("td", { text: STATUS[t.status] || t.status }),
              h("td", { text: deptName(depts, t.department_id) }),
              h("td", { text: next ? `${DEADLINE[next[0]]} ${when(next[1])}` : "—" }),
              h("td", { class: "late", text: late ? "已超期 " + lateness(next[1]) : "" }));
          })))),
      tickets.length ? null : h("p", { class: "muted", text: "暂无待处理的工单。" }));
  }

  // ---------------------------------------------------------------------------------
  // The ticket page: the ticket, its deadlines and its timeline
  // ---------------------------------------------------------------------------------

  /** An entry's name: its kind, and for an alert its level and deadline. */
  function entryName(e) {
    const d = e.data || {};
    if (e.kind === "alerted" && LEVEL[d.level]) {
      return `${LEVEL[d.level]}（${DEADLINE[d.deadline] || d.deadline}）`;
    }
    return EVENT[e.kind] || e.kind;
  }

  /** Who acted: an official by name, the system, or the enterprise (not in the directory). */
  function actor(names, id) {
    if (!id) return "系统";
    return names.get(id) || "企业用户";
  }

  function summary(data) {
    if (!data || typeof data !== "object") return "";
    const parts = [];
    for (const key of ["reason", "result", "explanation", "text", "summary", "note", "items"]) {
      const v = data[key];
      if (typeof v === "string" && v) parts.push(v);
      else if (Array.isArray(v) && v.length) parts.push(v.join("；"));
    }
    return parts.join("\n");
  }

  async function ticketView(id) {
    const [t, events, depts, names] = await Promise.all([
      api(`/v1/tickets/${encodeURIComponent(id)}`),
      all(`/v1/tickets/${encodeURIComponent(id)}/events`, 10),
      departments(), users(),
    ]);
    const late = new Set(t.overdue || []);
    const facts = [
      ["编号", t.number], ["标题", t.title], ["状态", STATUS[t.status] || t.status],
      ["类型", KIND[t.kind] || t.kind], ["紧急程度", URGENCY[t.urgency] || t.urgency],
      ["部门", deptName(depts, t.department_id)], ["承办人", userName(names, t.assignee_id)],
      ["首问负责人", userName(names, t.first_responder_id)],
      ["督办", t.supervised ? "是" : "否"], ["受理时间", when(t.created_at)],
      ["诉求内容", t.description],
    ];
    if (t.resolution) facts.push(["办理结果", t.resolution]);
    if (t.explanation) facts.push(["解释说明", t.explanation]);

    const deadlines = ["accept", "contact", "resolve"].map((name) => {
      const met = { accept: t.accepted_at, contact: t.contacted_at, resolve: t.resolved_at }[name];
      const dueAt = t[name + "_due_at"];
      let state = met ? `已完成 ${when(met)}` : dueAt ? "进行中" : "—";
      if (late.has(name)) state = `已超期 ${lateness(dueAt)}`;
      return h("tr", { class: late.has(name) ? "late" : null },
        h("td", { text: DEADLINE[name] }), h("td", { text: when(dueAt) }),
        h("td", { class: "late", text: state }));
    });

    return h("div", {},
      h("p", {}, link("/dashboard/overdue", "← 返回超期与督办")),
      h("div", { class: "columns" },
        h("div", { class: "card", id: "ticket" },
          h("h2", { id: "ticket-title", text: `${t.number} ${t.title}` }),
          h("dl", { class: "facts" }, facts.map(([k, v]) => [h("dt", { text: k }), h("dd", { text: v })])),
          h("h3", { text: "期限" }),
          h("table", { id: "deadlines" },
            h("thead", {}, h("tr", {}, ["环节", "期限", "情况"].map((l) => h("th", { scope: "col", text: l })))),
            h("tbody", {}, deadlines))),
        h("div", { class: "card" },
          h("h2", { text: "办理过程" }),
          h("ol", { class: "timeline", id: "timeline" }, events.map((e) => h("li", {},
            h("div", {}, h("strong", { text: entryName(e) }),
              e.internal ? [" ", h("span", { class: "badge", text: "内部" })] : null),
            h("div", { class: "when", text: `${when(e.at)} · ${actor(names, e.actor_id)}` }),
            summary(e.data) ? h("div", { class: "muted", text: summary(e.data) }) : null))))));
  }

  const VIEWS = {
    ranking: rankingView,
    overdue: overdueView,
    trend: trendView,
    queue: queueView,
    ticket: ticketView,
  };

  // ---------------------------------------------------------------------------------
  // Start
  // ---------------------------------------------------------------------------------

  $("login-form").addEventListener("submit", login);
  $("logout").addEventListener("click", logout);
  window.addEventListener("popstate", route);
  for (const a of document.querySelectorAll("#nav a")) {
    a.addEventListener("click", (e) => {
      if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
      e.preventDefault();
      go(a.getAttribute("href"));
    });
  }
  signedOut();
})();
