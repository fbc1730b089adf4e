#!/usr/bin/env python3
"""The request path, once: sign in, read and create clients, edit a plan, a job through the worker, a feed, then one
request for each other write (people, roles, assignments, time off, contacts, a calendar, tasks, links, a baseline,
notifications, archiving) and a few pages, and sign out.

Prints one line per request (`METHOD route status`) so that two runs (plain PostgreSQL and Citus) can be compared line
by line, and `patch_window=START,END` (epoch seconds) around the plan edit, so that the coordinator's log can be read
for the edit's statements. Standard library only. Exits 1 when a request answers what the smoke does not expect.

Usage: request_path_smoke.py --api http://127.0.0.1:PORT --token trl_… [--agency demo --email … --password …]
"""
import argparse
import http.cookiejar
import json
import sys
import time
import urllib.error
import urllib.request
import uuid


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--api", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--agency", default="demo")
    parser.add_argument("--email", default="olivia@northwind.example")
    parser.add_argument("--password", default="trellis-demo")
    args = parser.parse_args()
    cookies = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cookies))
    failures = []

    def call(method, path, route, body=None, expect=(200,), bearer=True, headers=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(args.api + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if bearer:
            request.add_header("Authorization", "Bearer " + args.token)
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with opener.open(request, timeout=30) as response:
                status, payload, head = response.status, response.read(), response.headers
        except urllib.error.HTTPError as error:
            status, payload, head = error.code, error.read(), error.headers
        print(f"{method} {route} {status}", flush=True)
        if status not in expect:
            failures.append(f"{method} {route}: {status} {payload[:300]!r}")
        is_json = (head.get("Content-Type") or "").startswith(("application/json", "application/problem+json"))
        return status, (json.loads(payload) if is_json and payload else payload), head

    # Password sign-in (the agency by slug, then the member by agency), the session cookie, a page of the web app.
    _, login, _ = call("POST", "/v1/auth/login", "/v1/auth/login", {"agency": args.agency, "email": args.email, "password": args.password},
                       bearer=False)
    csrf = login.get("csrfToken", "") if isinstance(login, dict) else ""
    call("GET", "/v1/me", "/v1/me", bearer=False)
    call("GET", "/", "/ (Today, web app)", bearer=False)

    # Clients: list, create, read back.
    _, clients, _ = call("GET", "/v1/clients", "/v1/clients")
    slug = "smoke-" + uuid.uuid4().hex[:8]
    status, created, _ = call("POST", "/v1/clients", "/v1/clients", {"name": "Smoke " + slug, "slug": slug, "timeZone": "Europe/Madrid"},
                              expect=(201,))
    if status == 201:
        call("GET", f"/v1/clients/{created['id']}", "/v1/clients/{id}")

    # A plan edit: read the plan with its version, change a task's duration with If-Match.
    _, plans, _ = call("GET", "/v1/plans", "/v1/plans")
    plan_id = plans["items"][0]["id"]
    _, plan, head = call("GET", f"/v1/plans/{plan_id}", "/v1/plans/{id}")
    task = next(t for t in plan["tasks"] if not any(c.get("parentId") == t["id"] for c in plan["tasks"]))
    start = time.time()
    call("PATCH", f"/v1/plans/{plan_id}/tasks/{task['id']}", "/v1/plans/{id}/tasks/{taskId}",
         {"durationDays": 3}, headers={"If-Match": head.get("ETag", "*")})
    end = time.time()
    print(f"patch_window={start:.3f},{end:.3f}", flush=True)
    call("GET", f"/v1/plans/{plan_id}/timeline", "/v1/plans/{id}/timeline")
    call("GET", f"/plans/{plan_id}", "/plans/{id} (Gantt page)", bearer=False)

    # A job: the worker makes an export of every plan of the agency; the API serves the file it wrote.
    status, accepted, _ = call("POST", "/v1/exports", "/v1/exports", {"format": "csv"}, expect=(202,))
    export_id = accepted["export"]["id"]
    ready = False
    for _ in range(120):
        _, export, _ = call_quiet(opener, args, f"/v1/exports/{export_id}")
        export = export.get("export", export)
        if export.get("status") in ("ready", "failed"):
            ready = export.get("status") == "ready"
            break
        time.sleep(0.25)
    print(f"GET /v1/exports/{{id}} {'ready' if ready else 'not ready'}", flush=True)
    if not ready:
        failures.append(f"export job did not finish: {export}")
    call("GET", f"/v1/exports/{export_id}/download", "/v1/exports/{id}/download")
    call("GET", "/v1/jobs?limit=5", "/v1/jobs")

    # A feed secret (carries its agency), fetched as a calendar app does, without a session.
    status, feed, _ = call("POST", f"/v1/plans/{plan_id}/feed", "/v1/plans/{id}/feed", expect=(201,))
    if status == 201:
        path = "/feeds/" + feed["url"].split("/feeds/", 1)[1]
        call("GET", path, "/feeds/{secret}.ics", bearer=False)

    # The rest of the write path, one request each: people, roles, hybrid-role assignments, time off, contacts, a
    # calendar change (a recompute job per plan), tasks and links, a baseline, notifications, a second plan, archiving.
    client_id = created["id"] if isinstance(created, dict) and "id" in created else plan["plan"]["clientId"]
    status, member, _ = call("POST", "/v1/members", "/v1/members", {"email": f"{slug}@example.com", "displayName": "Smoke Person",
                             "role": "consultant", "weeklyCapacityHours": 32}, expect=(201,))
    member_id = member["id"] if status == 201 else None
    if member_id:
        call("PATCH", f"/v1/members/{member_id}", "/v1/members/{id}", {"displayName": "Smoke Person II"})
        status, off, _ = call("POST", f"/v1/members/{member_id}/time-off", "/v1/members/{id}/time-off",
                              {"startsOn": "2027-01-04", "endsOn": "2027-01-08", "reason": "Holiday"}, expect=(201,))
        if status == 201:
            call("DELETE", f"/v1/members/{member_id}/time-off/{off['id']}", "/v1/members/{id}/time-off/{id}", expect=(204,))
    status, role, _ = call("POST", "/v1/roles", "/v1/roles", {"key": slug, "name": "Smoke role"}, expect=(201,))
    if status == 201 and member_id:
        status, assignment, _ = call("POST", "/v1/assignments", "/v1/assignments", {"memberId": member_id, "clientId": client_id,
                                     "roleId": role["id"], "allocation": {"percent": 30}, "startsOn": "2027-01-04", "endsOn": "2027-03-26"},
                                     expect=(201,))
        if status == 201:
            call("PATCH", f"/v1/assignments/{assignment['id']}", "/v1/assignments/{id}", {"allocation": {"hoursPerWeek": 10}},
                 headers={"If-Match": "*"})
            call("GET", "/v1/workload?from=2027-W01&to=2027-W04", "/v1/workload")
            call("DELETE", f"/v1/assignments/{assignment['id']}", "/v1/assignments/{id}", expect=(204,))
        call("POST", f"/v1/roles/{role['id']}/archive", "/v1/roles/{id}/archive")
    status, contact, _ = call("POST", "/v1/contacts", "/v1/contacts", {"clientId": client_id, "name": "Casey Contact"}, expect=(201,))
    if status == 201:
        call("DELETE", f"/v1/contacts/{contact['id']}", "/v1/contacts/{id}", expect=(204,))
    status, calendar, _ = call("GET", f"/v1/clients/{plan['plan']['clientId']}/calendar", "/v1/clients/{id}/calendar")
    if status == 200:
        calendar["holidays"] = sorted(set((calendar.get("holidays") or []) + ["2027-01-06"]))
        call("PUT", f"/v1/clients/{plan['plan']['clientId']}/calendar", "/v1/clients/{id}/calendar", calendar)
    status, added, head = call("POST", f"/v1/plans/{plan_id}/tasks", "/v1/plans/{id}/tasks", {"name": "Smoke task", "durationDays": 2},
                               expect=(201,), headers={"If-Match": "*"})
    if status == 201:
        new_task = (head.get("Location") or "").rstrip("/").rsplit("/", 1)[-1]  # the body is the plan; Location names the task
        call("POST", f"/v1/plans/{plan_id}/dependencies", "/v1/plans/{id}/dependencies",
             {"predecessorId": task["id"], "successorId": new_task, "lagDays": 1}, headers={"If-Match": "*"})
        call("DELETE", f"/v1/plans/{plan_id}/dependencies/{task['id']}/{new_task}", "/v1/plans/{id}/dependencies/{p}/{s}",
             headers={"If-Match": "*"})
        call("DELETE", f"/v1/plans/{plan_id}/tasks/{new_task}", "/v1/plans/{id}/tasks/{taskId}", headers={"If-Match": "*"})
    call("POST", f"/v1/plans/{plan_id}/baselines", "/v1/plans/{id}/baselines", {"name": "Smoke baseline " + slug}, expect=(201,))
    call("GET", "/v1/notifications", "/v1/notifications")
    call("POST", "/v1/notifications/read-all", "/v1/notifications/read-all")
    status, second, _ = call("POST", "/v1/plans", "/v1/plans", {"clientId": client_id, "startsOn": "2027-02-01"}, expect=(201,))
    if status == 201:
        call("POST", f"/v1/plans/{second['plan']['id']}/archive", "/v1/plans/{id}/archive", headers={"If-Match": "*"})
    call("POST", f"/v1/clients/{client_id}/archive", "/v1/clients/{id}/archive", headers={"If-Match": "*"})
    call("GET", "/people", "/people (web app)", bearer=False)
    call("GET", "/operations", "/operations (web app)", bearer=False)

    call("POST", "/v1/auth/logout", "/v1/auth/logout", bearer=False, expect=(204,), headers={"X-CSRF-Token": csrf})
    call("GET", "/v1/me", "/v1/me (signed out)", bearer=False, expect=(401,))

    for failure in failures:
        print("smoke: " + failure, file=sys.stderr)
    return 1 if failures else 0


def call_quiet(opener, args, path):
    request = urllib.request.Request(args.api + path, headers={"Authorization": "Bearer " + args.token})
    with opener.open(request, timeout=30) as response:
        return response.status, json.loads(response.read()), response.headers


if __name__ == "__main__":
    sys.exit(main())
