#!/usr/bin/env python3
"""Seeds a fresh Jiban server for scripts/schemathesis, and refreshes its tokens.

    schemathesis-seed.py seed BASE_URL ADMIN_PASSWORD WORK_DIR
    schemathesis-seed.py token WORK_DIR ROLE

`seed` makes what the fuzzer needs to reach real data, through the HTTP API as a client
would: two departments (the officer's and another to transfer to), a category dispatched
to the first, an officer, a liaison and a supervisor, an enterprise with its user and the
liaison stationed there, and tickets in several states. It logs in as admin, officer and
enterprise once each, so that the fuzzer's failed logins (it tries random passwords) can
never throttle the script out, and keeps their refresh tokens in WORK_DIR/sessions.json.
It appends to WORK_DIR/schemathesis.toml the dictionaries of real ids, which the
fuzzer uses for path parameters part of the time (the rest it draws at random).

`token` trades ROLE's refresh token for a fresh pair (access tokens last 15 minutes),
stores the new refresh token and prints the access token.

Standard library only: it runs with any python3, inside the venv or not.
"""

import json
import sys
import urllib.error
import urllib.request
from pathlib import Path


class Api:
    def __init__(self, base):
        self.base = base.rstrip("/")

    def call(self, method, path, body=None, token=None, headers=None, expect=(200, 201)):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            request.add_header("content-type", "application/json")
        if token:
            request.add_header("authorization", f"Bearer {token}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, text = response.status, response.read().decode()
                etag = response.headers.get("etag")
        except urllib.error.HTTPError as error:
            status, text, etag = error.code, error.read().decode(), None
        if status not in expect:
            sys.exit(f"schemathesis-seed: {method} {path} answered {status}: {text}")
        answer = json.loads(text) if text else None
        if isinstance(answer, dict) and etag:
            answer["_etag"] = etag
        return answer

    def login(self, username, password):
        return self.call("POST", "/v1/auth/token", {"username": username, "password": password})


def seed(base, admin_password, work):
    api = Api(base)
    sessions = {"admin": api.login("admin", admin_password)}
    admin = sessions["admin"]["access_token"]

    def create(path, body):
        return api.call("POST", path, body, admin)

    dept = create("/v1/departments", {"code": "fgw", "name": "县发展和改革委员会"})
    other = create("/v1/departments", {"code": "sjj", "name": "县市场监督管理局"})
    api.call("PUT", "/v1/categories/utilities", {"name": "水电气热", "department_id": dept["id"]}, admin)
    people = {
        "officer": {"role": "officer", "department_id": dept["id"]},
        "colleague": {"role": "officer", "department_id": dept["id"]},
        "liaison": {"role": "liaison"},
        "supervisor": {"role": "supervisor"},
    }
    users = {}
    for name, extra in people.items():
        users[name] = create("/v1/users", {
            "username": f"fuzz.{name}", "password": f"{name}-password-1",
            "display_name": name, "email": f"{name}@example.gov.cn", **extra,
        })
    enterprise = create("/v1/enterprises", {
        "name": "福州示例科技有限公司", "uscc": "91350100M000100Y43", "contact_name": "陈经理",
        "contact_phone": "0591-8888 6666", "contact_email": "chen@example.com",
        "paired_leader_id": users["supervisor"]["id"],
    })
    api.call("PUT", f"/v1/enterprises/{enterprise['id']}/liaisons",
             {"liaison_ids": [users["liaison"]["id"]]}, admin)
    users["enterprise"] = create("/v1/users", {
        "username": "fuzz.enterprise", "password": "enterprise-password-1", "role": "enterprise",
        "display_name": "陈经理", "email": "chen@example.com", "enterprise_id": enterprise["id"],
    })
    for role in ("officer", "enterprise"):
        sessions[role] = api.login(f"fuzz.{role}", f"{role}-password-1")
    officer = sessions["officer"]["access_token"]
    company = sessions["enterprise"]["access_token"]
    liaison = api.login("fuzz.liaison", "liaison-password-1")["access_token"]

    def ticket(category, title, kind="complaint"):
        return api.call("POST", "/v1/tickets", {
            "kind": kind, "category": category, "title": title,
            "description": "自昨晚22时起厂区停电，三条产线停工，请尽快协调恢复供电。",
        }, company)

    def act(t, action, body, token):
        return api.call("POST", f"/v1/tickets/{t['id']}/{action}", body, token,
                        headers={"if-match": t["_etag"]})

    submitted = ticket("utilities", "厂区停电影响生产")  # dispatched to the officer's department
    intake = ticket("other", "咨询用工补贴政策", kind="consultation")  # in the intake queue
    working = act(ticket("utilities", "天然气压力不足"), "accept", {}, officer)
    working = act(working, "contact", {"method": "phone", "summary": "电话联系陈经理，约定明日上门。"}, officer)
    waiting = act(ticket("utilities", "供水管道破裂"), "accept", {}, officer)
    waiting = act(waiting, "request-info", {"items": ["停水范围示意图"]}, officer)
    resolved = act(ticket("utilities", "路灯损坏"), "accept", {}, officer)
    resolved = act(resolved, "resolve", {"result": "已更换路灯并恢复照明，请企业确认。"}, officer)
    tickets = [submitted, intake, working, waiting, resolved]
    visit = api.call("POST", "/v1/visits", {
        "enterprise_id": enterprise["id"], "visited_at": "2026-01-05T10:00:00+08:00",
        "purpose": "六必访：了解生产经营情况", "summary": "走访企业，了解停电影响。",
        "ticket_ids": [working["id"]],
    }, liaison)

    (work / "sessions.json").write_text(json.dumps(
        {role: pair["refresh_token"] for role, pair in sessions.items()}))

    # Real ids for path parameters, used part of the time: a drawn UUID names nothing (404),
    # so without them every ticket action would stop at "not found".
    def values(items):
        return json.dumps([item["id"] for item in items], ensure_ascii=False)

    with open(work / "schemathesis.toml", "a", encoding="utf-8") as toml:
        toml.write(f"""
# Appended by scripts/schemathesis-seed.py: the seeded resources' ids.
[dictionaries.tickets]
values = {values(tickets)}

[dictionaries.users]
values = {values(users.values())}

[dictionaries.enterprises]
values = {values([enterprise])}

[dictionaries.departments]
values = {values([dept, other])}

[dictionaries.visits]
values = {values([visit])}

[[operations]]
include-path-regex = "^/v1/tickets/\\\\{{id\\\\}}"
parameters = {{ "path.id" = {{ dictionary = "tickets", probability = 0.8 }} }}

[[operations]]
include-path-regex = "^/v1/users/\\\\{{id\\\\}}"
parameters = {{ "path.id" = {{ dictionary = "users", probability = 0.8 }} }}

[[operations]]
include-path-regex = "^/v1/enterprises/\\\\{{id\\\\}}"
parameters = {{ "path.id" = {{ dictionary = "enterprises", probability = 0.8 }} }}

[[operations]]
include-path-regex = "^/v1/visits/\\\\{{id\\\\}}"
parameters = {{ "path.id" = {{ dictionary = "visits", probability = 0.8 }} }}
""")


def token(work, role):
    path = work / "sessions.json"
    sessions = json.loads(path.read_text())
    base = (work / "base_url").read_text().strip()
    pair = Api(base).call("POST", "/v1/auth/refresh", {"refresh_token": sessions[role]})
    sessions[role] = pair["refresh_token"]
    path.write_text(json.dumps(sessions))
    print(pair["access_token"])


def main(argv):
    if len(argv) == 4 and argv[0] == "seed":
        seed(argv[1], argv[2], Path(argv[3]))
    elif len(argv) == 3 and argv[0] == "token":
        token(Path(argv[1]), argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
