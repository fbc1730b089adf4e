"""The web app in a real browser (Debian's chromium via Playwright) against a real trellis-api on a database seeded with
the demo agency (Tests/web/run-browser-tests.sh starts both). axe-core checks every page visited."""

import os
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect, sync_playwright

BASE = os.environ.get("TRELLIS_WEB_URL", "http://127.0.0.1:8080")
SHOTS = os.environ.get("TRELLIS_WEB_SCREENSHOTS", ".build/web-screenshots")
OWNER = ("demo", "olivia@northwind.example", "trellis-demo")
CLIENT = "Brightside Bikes"
TASK = "Learn the lines of business"  # its successor (finish-to-start): "Learn the products and services"
SUCCESSOR = "Learn the products and services"

_axe = Axe()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        yield browser
        browser.close()


def new_page(browser: Browser, width=1366, height=900) -> Page:
    return browser.new_context(viewport={"width": width, "height": height}).new_page()


def sign_in(page: Page, who=OWNER):
    page.goto(BASE + "/")
    expect(page).to_have_url(re.compile(r"/signin"))
    page.fill("#agency", who[0])
    page.fill("#email", who[1])
    page.fill("#password", who[2])
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/today$"))


def accessible(page: Page):
    """0 axe-core violations of impact serious or critical on the page as it is."""
    results = _axe.run(page)
    bad = [(v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"]][:3])
           for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert bad == [], f"{page.url}: {bad}"


def open_plan(page: Page):
    page.click("nav >> text=Clients")
    page.click(f"table.grid a:has-text('{CLIENT}')")
    expect(page.locator("h1")).to_contain_text(CLIENT)
    accessible(page)
    page.click("ul.plans a >> nth=0")
    expect(page.locator("#tasks")).to_be_visible()


def row(page: Page, name: str):
    return page.locator("table.tasks tbody tr", has=page.locator("th .name", has_text=re.compile("^" + re.escape(name) + "$")))


def test_sign_in_then_today_client_plan_and_an_edit_that_moves_the_successor(browser):
    page = new_page(browser)
    page.goto(BASE + "/signin")
    accessible(page)
    # A wrong password is refused with a message, not a crash.
    page.fill("#agency", "demo"); page.fill("#email", OWNER[1]); page.fill("#password", "not the password")
    page.click("button[type=submit]")
    expect(page.locator(".alert.bad")).to_contain_text("do not match")
    sign_in(page)
    expect(page.locator("h1")).to_have_text("Today")
    expect(page.locator(".brand .agency")).to_have_text("Northwind Community Studio")
    # Colour with meaning: a late or at-risk tile is red or amber only when it counts something.
    for anchor, alarm in (("#late", "bad"), ("#at-risk", "warn")):
        tile = page.locator(f".summary .tile[href='{anchor}']")
        count = int(tile.locator(".num").inner_text())
        expect(tile).to_have_class(re.compile(r"\bquiet\b" if count == 0 else rf"\b{alarm}\b"))
    # A stable order: each health group's plans by client name (the demo's two plans tie on creation time).
    for group in page.locator("ul.plans").all():
        clients = [m.split(" · ")[0] for m in group.locator("li .meta").all_inner_texts()]
        assert clients == sorted(clients), clients
    # The page's policy: no inline script or style anywhere.
    response = page.request.get(BASE + "/today")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "<script>" not in response.text() and "style=" not in response.text()
    accessible(page)
    page.screenshot(path=f"{SHOTS}/today.png", full_page=True)

    open_plan(page)
    accessible(page)
    task, successor = row(page, TASK), row(page, SUCCESSOR)
    task_id = task.get_attribute("id").removeprefix("task-")
    before_start = successor.locator("td.start").inner_text()
    bar = page.locator(f"svg.gantt-chart rect.bar[data-task='{task_id}']")
    before_width = float(bar.get_attribute("width"))
    page.screenshot(path=f"{SHOTS}/plan.png")
    page.locator("#tasks").screenshot(path=f"{SHOTS}/plan-table.png")
    # Arrowheads come from the page's style sheet (the embedded chart leaves the attribute out).
    heads = page.eval_on_selector_all("svg.gantt-chart path.link", "links => links.map(l => getComputedStyle(l).markerEnd)")
    assert heads and all("#arrow" in head for head in heads), heads[:3]

    task.locator("th a.name").click()
    expect(page.locator("h1")).to_contain_text(TASK)
    accessible(page)
    hours = float(page.input_value("#durationHours"))
    page.fill("#durationHours", str(int(hours + 10)))
    page.click("button.primary")

    expect(page.locator("#notice")).to_contain_text("moved")
    after_start = row(page, SUCCESSOR).locator("td.start").inner_text()
    assert after_start != before_start, "the successor moved on the page"
    expect(row(page, SUCCESSOR)).to_have_class(re.compile(r"\bmoved\b"))
    after_width = float(page.locator(f"svg.gantt-chart rect.bar[data-task='{task_id}']").get_attribute("width"))
    assert after_width > before_width, "the task's Gantt bar grew"
    page.context.close()


def test_a_stale_edit_shows_the_other_change_and_never_overwrites(browser):
    first, second = new_page(browser), new_page(browser)
    for page in (first, second):
        sign_in(page)
        open_plan(page)
        row(page, SUCCESSOR).locator("th a.name").click()
        expect(page.locator("#name")).to_have_value(SUCCESSOR)
    # The second person saves first.
    second.fill("#percent", "40")
    second.click("button.primary")
    expect(second.locator("#notice")).to_contain_text("Saved")
    # The first person's form is stale: their save shows the conflict instead of overwriting progress.
    first.fill("#name", SUCCESSOR + " (workshop)")
    first.click("button.primary")
    alert = first.locator("section.alert.warn")
    expect(alert).to_contain_text("Someone else changed this plan")
    expect(alert.locator("tr", has_text="Progress")).to_contain_text("40")
    accessible(first)
    # Re-applying puts the rename on top of the other change: both survive.
    first.click("button.primary")
    expect(first.locator("#notice")).to_contain_text("Saved")
    renamed = row(first, SUCCESSOR + " (workshop)")
    expect(renamed.locator("td").nth(5)).to_have_text("40 %")
    first.context.close()
    second.context.close()


def test_the_workload_heatmap_shows_the_over_allocated_person_red(browser):
    page = new_page(browser)
    sign_in(page)
    page.click("nav >> text=Workload")
    expect(page.locator("h1")).to_have_text("Workload")
    ben = page.locator("table.heatmap tbody tr", has=page.locator("th", has_text="Ben Okafor"))
    over = ben.locator("td.cell.over")
    expect(over.first).to_be_visible()
    assert over.first.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(251, 217, 213)"
    expect(over.first).to_contain_text("over")  # said in words too, not by colour alone
    accessible(page)
    page.screenshot(path=f"{SHOTS}/workload.png", full_page=True)
    page.context.close()


def test_a_phone_sees_today_and_the_plan_in_one_column(browser):
    page = new_page(browser, width=390, height=844)
    sign_in(page)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"Today scrolls sideways on a phone ({width} px)"
    accessible(page)
    page.screenshot(path=f"{SHOTS}/today-phone.png", full_page=True)
    page.context.close()


def test_sign_out_ends_the_session(browser):
    page = new_page(browser)
    sign_in(page)
    cookie = next(c for c in page.context.cookies() if c["name"] == "trellis_session")
    page.click("button:has-text('Sign out')")
    expect(page).to_have_url(re.compile(r"/signin"))
    page.goto(BASE + "/today")
    expect(page).to_have_url(re.compile(r"/signin"))
    # The old cookie is dead on the server too, not just forgotten by this browser.
    replay = page.request.get(BASE + "/v1/me", headers={"Cookie": f"trellis_session={cookie['value']}"})
    assert replay.status == 401
    page.context.close()


def test_pages_of_others_and_unknown_pages_are_404_pages(browser):
    page = new_page(browser)
    sign_in(page)
    response = page.goto(BASE + "/plans/00000000-0000-4000-8000-000000000999")
    assert response.status == 404
    expect(page.locator("h1")).to_have_text("Not found")
    accessible(page)
    page.context.close()


def test_dragging_a_bar_gives_the_task_a_start_constraint_on_the_dropped_day(browser):
    page = new_page(browser)
    sign_in(page)
    open_plan(page)
    page.click("nav[aria-label=Zoom] >> text=Day")
    chart = page.locator("svg.gantt-chart")
    day_width = float(chart.get_attribute("data-day-width"))
    task = row(page, "Map suppliers and partners")
    task_id = task.get_attribute("id").removeprefix("task-")
    bar = page.locator(f"svg.gantt-chart rect.bar[data-task='{task_id}']")
    start = bar.get_attribute("data-start")
    bar.scroll_into_view_if_needed()
    box = bar.bounding_box()
    # Seven days later, dropped with the mouse, as a person drags it.
    scale = box["width"] / float(bar.get_attribute("width"))
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 8):
        page.mouse.move(x + step * day_width * scale, y)
    page.mouse.up()
    expect(page.locator("#notice")).to_contain_text("now starts no earlier than")
    moved = page.locator(f"svg.gantt-chart rect.bar[data-task='{task_id}']")
    assert moved.get_attribute("data-start") > start, "the bar starts later"
    # The edit form shows the constraint the drag set: start no earlier than the day it was dropped on.
    row(page, "Map suppliers and partners").locator("th a.name").click()
    expect(page.locator("#constraintKind")).to_have_value("startNoEarlierThan")
    from datetime import date, timedelta
    assert page.input_value("#constraintDate") == (date.fromisoformat(start) + timedelta(days=7)).isoformat()
    page.context.close()


CLIENT_TASK = "Strategy approved by the client"


def test_a_share_link_opens_the_clients_portal_and_the_client_marks_their_task_done(browser):
    agency = new_page(browser)
    sign_in(agency)
    agency.click("nav >> text=Clients")
    other_client = agency.locator("table.grid a:has-text('Café Aurora')").get_attribute("href")
    open_plan(agency)
    # Mark a task as waiting on the client, assigned to the person signed in (whose inbox we can read).
    row(agency, CLIENT_TASK).locator("th a.name").click()
    agency.check("#clientAction")
    agency.select_option("#assignee", label="Olivia Northwind")
    agency.click("button.primary")
    expect(agency.locator("#notice")).to_contain_text("Saved")

    # A portal link for the client's contact, shown once.
    agency.click(f"a:has-text('{CLIENT}') >> nth=0")
    agency.locator("li", has_text="Sam Carter").locator("button:has-text('Create portal link')").click()
    expect(agency.locator("h1")).to_contain_text("Portal link for Sam Carter")
    accessible(agency)
    link = agency.input_value("#portal-url")
    assert "/portal/join/trp_" in link

    # The contact, in a browser of their own, with no password.
    client = new_page(browser, width=390, height=844)
    client.goto(link.replace("http://127.0.0.1:8080", BASE) if not link.startswith(BASE) else link)
    client.click("button:has-text('Open the portal')")
    expect(client).to_have_url(re.compile(r"/portal$"))
    expect(client.locator("h1")).to_have_text(CLIENT)
    assert "Café Aurora" not in client.content(), "the portal shows only their brand"
    accessible(client)
    waiting = client.locator("ul.waiting li", has_text=CLIENT_TASK)
    expect(waiting).to_be_visible()
    client.screenshot(path=f"{SHOTS}/portal-phone.png", full_page=True)
    # The same portal on a laptop: its read-only Gantt shown, and axe on the wider layout.
    client.set_viewport_size({"width": 1280, "height": 900})
    expect(client.locator("svg.gantt-chart")).to_be_visible()
    accessible(client)
    client.screenshot(path=f"{SHOTS}/portal.png", full_page=True)
    # Another client's page is not found, and nothing of the agency's is writable for them.
    assert client.goto(BASE + other_client).status == 404
    client.goto(BASE + "/portal")
    waiting = client.locator("ul.waiting li", has_text=CLIENT_TASK)
    waiting.locator("textarea").fill("Approved — go ahead with the channel plan.")
    waiting.locator("button").click()
    expect(client.locator("#notice")).to_contain_text("marked done")
    expect(client.locator("ul.waiting li", has_text=CLIENT_TASK)).to_have_count(0)
    client.context.close()

    # The assignee hears of it in the inbox, linked to the task, and can mark it read.
    agency.goto(BASE + "/today")
    expect(agency.locator("a:has-text('unread in your inbox')")).not_to_contain_text("0 unread")
    agency.click("a:has-text('unread in your inbox')")
    expect(agency.locator("h1")).to_have_text("Inbox")
    message = agency.locator("ul.inbox li.unread", has_text=CLIENT_TASK).first
    expect(message).to_contain_text("Approved")
    accessible(agency)
    unread_before = agency.locator("ul.inbox li.unread").count()
    message.locator("button:has-text('Mark read')").click()
    expect(agency.locator("ul.inbox li.unread")).to_have_count(unread_before - 1)

    # Withdrawn, the link no longer opens anything.
    agency.click("nav >> text=Clients")
    agency.click(f"table.grid a:has-text('{CLIENT}')")
    agency.locator("section[aria-labelledby=portal-links] button:has-text('Withdraw')").first.click()
    expect(agency.locator("section[aria-labelledby=portal-links] .badge").first).to_have_text("revoked")
    stranger = new_page(browser)
    stranger.goto(link.replace("http://127.0.0.1:8080", BASE) if not link.startswith(BASE) else link)
    stranger.click("button:has-text('Open the portal')")
    expect(stranger.locator(".alert.bad")).to_contain_text("expired or was withdrawn")
    stranger.context.close()
    agency.context.close()


def test_a_baseline_and_a_calendar_subscription_from_the_plan_page(browser):
    page = new_page(browser)
    sign_in(page)
    open_plan(page)
    page.fill("#baseline-name", "Kick-off agreement")
    page.click("button:has-text('Save baseline')")
    expect(page.locator("#notice")).to_contain_text("Saved baseline “Kick-off agreement”")
    expect(page.locator(".headline")).to_contain_text("baseline “Kick-off agreement”")
    assert page.locator("svg.gantt-chart rect.baseline").count() > 0, "ghost bars drawn"
    page.click("button:has-text('Calendar subscription link')")
    expect(page.locator("h1")).to_have_text("Calendar subscription")
    accessible(page)
    webcal = page.input_value("#webcal")
    assert webcal.startswith("webcal://") and webcal.endswith(".ics")
    feed = page.request.get(page.locator("a:has-text('Download once')").get_attribute("href"))
    assert feed.ok and "BEGIN:VCALENDAR" in feed.text()
    page.context.close()


def test_a_new_client_shows_the_apis_own_messages_next_to_the_fields(browser):
    page = new_page(browser)
    sign_in(page)
    page.click("nav >> text=Clients")
    page.click("a:has-text('New client')")
    expect(page.locator("h1")).to_have_text("New client")
    accessible(page)
    page.fill("#name", "")
    page.fill("#timeZone", "Mars/Olympus")
    page.click("button:has-text('Save')")
    expect(page.locator("#name-error")).to_have_text("must not be empty")
    expect(page.locator("#tz-error")).to_contain_text("IANA time zone")
    expect(page.locator("#timeZone")).to_have_value("Mars/Olympus")  # what was typed stays
    accessible(page)
    page.fill("#name", "Olive & Vine")
    page.fill("#timeZone", "Europe/Lisbon")
    page.select_option("#status", "onboarding")
    page.click("button:has-text('Save')")
    expect(page.locator("h1")).to_contain_text("Olive & Vine")
    expect(page.locator(".page-head .sub")).to_contain_text("Europe/Lisbon")
    page.click("a:has-text('Edit client')")
    page.fill("#industry", "Wine bar")
    page.click("button:has-text('Save')")
    expect(page.locator(".page-head .sub")).to_contain_text("Wine bar")
    page.context.close()


def test_operations_lists_a_failed_job_with_its_errors_and_retries_it(browser):
    import subprocess
    subprocess.run(["psql", os.environ["TRELLIS_WEB_DB"], "-qc", """
        INSERT INTO trellis_jobs (kind, queue, args, agency_id, state, attempt, max_attempts, errors, finalized_at)
        VALUES ('export.bundle', 'exports', '{}', (SELECT id FROM agencies WHERE slug = 'demo'), 'discarded', 3, 3,
                '[{"attempt": 3, "at": "2026-12-01T10:00:00Z", "error": "the disk is full"}]', now())
        """], check=True)
    page = new_page(browser)
    sign_in(page)
    page.click("nav >> text=Operations")
    expect(page.locator("h1")).to_have_text("Operations")
    failed = page.locator("ul.jobs > li", has_text="export.bundle")
    expect(failed).to_contain_text("the disk is full")
    accessible(page)
    failed.locator("button").click()
    expect(page.locator("#notice")).to_contain_text("will run again")
    expect(page.locator("section[aria-labelledby=failed-h] ul.jobs > li", has_text="export.bundle")).to_have_count(0)
    expect(page.locator("ul.jobs.pending > li", has_text="export.bundle")).to_contain_text("available")
    page.context.close()


def open_client_plan(page: Page, client: str):
    page.click("nav >> text=Clients")
    page.click(f"table.grid a:has-text('{client}')")
    page.click("ul.plans a >> nth=0")
    expect(page.locator("#tasks")).to_be_visible()


def test_dependencies_with_kind_and_lag_and_actual_dates_in_the_task_form(browser):
    page = new_page(browser)
    sign_in(page)
    open_client_plan(page, "Café Aurora")
    task_name, new_predecessor = "Map suppliers and partners", "Shadow customer service"
    before = row(page, task_name).locator("td.start").inner_text()
    row(page, task_name).locator("th a.name").click()
    deps = page.locator("#dependencies")
    expect(deps.locator("tbody tr")).to_have_count(1)  # it waits on "Learn the lines of business"
    accessible(page)

    # Finish-to-start with a lag of three working days: the task now starts after the new predecessor.
    page.select_option("#predecessor", label=new_predecessor)
    page.select_option("#kind", value="FS")
    page.fill("#lagDays", "3")
    page.click("button:has-text('Add dependency')")
    expect(page.locator("#notice")).to_contain_text(f"now waits on “{new_predecessor}”")
    added = deps.locator("tbody tr", has_text=new_predecessor)
    expect(added).to_contain_text("Finish → start")
    expect(added).to_contain_text("3 d")
    page.click("p.crumbs a")
    after = row(page, task_name).locator("td.start").inner_text()
    assert after != before, "the task moved after its new predecessor"

    # A dependency that would close a loop is refused next to the dependency fields, and nothing is saved.
    row(page, task_name).locator("th a.name").click()
    page.select_option("#predecessor", label="Immersion report to the client")
    page.click("button:has-text('Add dependency')")
    expect(page.locator("#link-error")).to_contain_text("Immersion report to the client")
    expect(deps.locator("tbody tr")).to_have_count(2)
    accessible(page)

    # Removing it puts the task back where it was.
    deps.locator("tbody tr", has_text=new_predecessor).locator("button").click()
    expect(page.locator("#notice")).to_contain_text("Dependency removed")
    expect(deps.locator("tbody tr")).to_have_count(1)
    page.click("p.crumbs a")
    assert row(page, task_name).locator("td.start").inner_text() == before

    # Actual dates: a finish before the start is refused beside the field; a valid pair is kept.
    row(page, task_name).locator("th a.name").click()
    page.fill("#actualStart", "2026-03-10")
    page.fill("#actualFinish", "2026-03-02")
    page.click("button.primary")
    expect(page.locator("#actualFinish-error")).to_be_visible()
    page.fill("#actualFinish", "2026-03-20")
    page.click("button.primary")
    expect(page.locator("#notice")).to_contain_text("Saved")
    row(page, task_name).locator("th a.name").click()
    expect(page.locator("#actualStart")).to_have_value("2026-03-10")
    expect(page.locator("#actualFinish")).to_have_value("2026-03-20")
    page.screenshot(path=f"{SHOTS}/task-form.png", full_page=True)
    page.context.close()


def test_the_client_calendar_is_edited_with_messages_beside_the_days_and_reschedules_the_plans(browser):
    import subprocess
    page = new_page(browser)
    sign_in(page)
    page.click("nav >> text=Clients")
    page.click("table.grid a:has-text('Café Aurora')")
    page.click("a:has-text('Edit calendar')")
    expect(page.locator("h1")).to_have_text("Working calendar")
    expect(page.locator("#day_monday")).to_have_value("09:00–14:00")
    accessible(page)

    # Hours a person might type wrong, and a day that is not a date: each message stands beside its field.
    page.fill("#day_monday", "9 to 2")
    page.fill("#day_tuesday", "09:00–12:00, 11:00–14:00")
    page.fill("#holidays", "2026-12-25\nChristmas")
    page.click("button:has-text('Save calendar')")
    expect(page.locator("#day_monday-error")).to_contain_text("09:00–13:00")
    expect(page.locator("#holidays-error")).to_contain_text("“Christmas” is not a date")
    expect(page.locator("#day_tuesday")).to_have_value("09:00–12:00, 11:00–14:00")  # what was typed stays
    accessible(page)
    page.fill("#holidays", "2026-12-25")
    page.fill("#day_monday", "9:00-14:00")
    page.click("button:has-text('Save calendar')")
    expect(page.locator("#day_tuesday-error")).to_contain_text("overlap")

    # A good calendar: Fridays off, Christmas and a short Christmas Eve.
    page.fill("#day_tuesday", "09:00–14:00")
    page.fill("#day_friday", "")
    page.fill("#exceptions", "2026-12-24 09:00–12:00")
    page.click("button:has-text('Save calendar')")
    expect(page.locator("#notice")).to_contain_text("being rescheduled")
    calendar = page.locator("section[aria-labelledby=calendar-h]")
    expect(calendar.locator("tr", has_text="Fri")).to_contain_text("Not working")
    expect(calendar.locator("ul.holidays")).to_contain_text("25 Dec 2026")
    expect(calendar.locator("ul.exceptions")).to_contain_text("24 Dec 2026: 09:00–12:00")
    # The plans are rescheduled by the worker: one recompute job per active plan of the client is waiting for it.
    queued = subprocess.run(["psql", os.environ["TRELLIS_WEB_DB"], "-Atc",
                             "SELECT count(*) FROM trellis_jobs WHERE kind = 'plan.recompute' AND state = 'available'"],
                            capture_output=True, text=True, check=True).stdout.strip()
    assert int(queued) >= 1

    # A form opened before someone else's save does not overwrite it.
    page.click("a:has-text('Edit calendar')")
    other = new_page(browser)
    sign_in(other)
    other.goto(page.url)
    other.fill("#day_saturday", "10:00–12:00")
    other.click("button:has-text('Save calendar')")
    expect(other.locator("#notice")).to_be_visible()
    page.fill("#day_sunday", "10:00–11:00")
    page.click("button:has-text('Save calendar')")
    expect(page.locator(".alert.warn")).to_contain_text("Someone else changed this calendar")
    expect(page.locator("#day_saturday")).to_have_value("10:00–12:00")
    expect(page.locator("#day_sunday")).to_have_value("")
    page.screenshot(path=f"{SHOTS}/calendar-form.png", full_page=True)
    other.context.close()
    page.context.close()


def test_a_plan_is_started_from_a_template_for_a_client(browser):
    page = new_page(browser)
    sign_in(page)
    page.click("nav >> text=Clients")
    page.click("table.grid a:has-text('Café Aurora')")
    page.click("a:has-text('Start a plan from a template')")
    expect(page.locator("h1")).to_have_text("Templates")
    accessible(page)
    page.click("ul.cards a >> nth=0")
    expect(page.locator(".phase").first).to_be_visible()
    expect(page.locator("#client option:checked")).to_have_text("Café Aurora")  # chosen by the client page's link
    accessible(page)
    page.screenshot(path=f"{SHOTS}/template.png", full_page=True)
    # No start day: the message stands beside the field, what was chosen stays.
    page.fill("#name", "Café Aurora — second location")
    page.click("button:has-text('Create plan')")
    expect(page.locator("#starts-error")).to_be_visible()
    expect(page.locator("#name")).to_have_value("Café Aurora — second location")
    accessible(page)
    page.fill("#startsOn", "2027-03-01")
    page.click("button:has-text('Create plan')")
    expect(page.locator("#notice")).to_contain_text("Plan created")
    expect(page.locator("h1")).to_contain_text("Café Aurora — second location")
    # The plan starts on the client's calendar on the first working day on or after 1 March 2027 (a Monday).
    expect(page.locator("table.tasks tbody tr td.start").first).to_contain_text("1 Mar")
    page.goto(BASE + "/clients")
    page.click("table.grid a:has-text('Café Aurora')")
    expect(page.locator("ul.plans")).to_contain_text("second location")
    page.context.close()


def test_a_heatmap_cell_opens_that_persons_week_and_their_roles_and_time_off_are_edited(browser):
    page = new_page(browser)
    sign_in(page)
    page.click("nav >> text=Workload")
    ben = page.locator("table.heatmap tbody tr", has=page.locator("th", has_text="Ben Okafor"))
    cell = ben.locator("td.cell.over a").first
    iso = cell.get_attribute("href").split("week=")[1]
    cell.click()
    expect(page.locator("h1")).to_have_text("Ben Okafor")
    week = page.locator("section.week-detail")
    expect(week.locator("h2")).to_contain_text(f"Week {iso}")
    # Over-allocated that week: he holds more than one client's role in it, each named with its allocation.
    assert week.locator("h3:has-text('Holds') + ul li, h3:has-text('Holds') ~ ul.plain li").count() >= 2
    expect(page.locator("table.holdings")).to_be_visible()
    accessible(page)
    page.screenshot(path=f"{SHOTS}/person-week.png", full_page=True)

    # A role for a client: a wrong allocation is named beside the field, then a tentative one is added.
    roles_before = page.locator("table.holdings tbody tr").count()
    page.select_option("#a-client", label="Café Aurora")
    page.select_option("#a-role", index=1)
    page.fill("#a-amount", "150")
    page.fill("#a-starts", "2027-01-04")
    page.fill("#a-ends", "2027-02-26")
    page.click("button:has-text('Add role')")
    expect(page.locator("#a-amount-error")).to_contain_text("0.01 to 100")
    expect(page.locator("#a-starts")).to_have_value("2027-01-04")
    accessible(page)
    page.fill("#a-amount", "20")
    page.check("#a-soft")
    page.click("button:has-text('Add role')")
    expect(page.locator("#notice")).to_contain_text("Assignment added")
    expect(page.locator("table.holdings tbody tr")).to_have_count(roles_before + 1)
    expect(page.locator("table.holdings tbody tr", has_text="Café Aurora").last).to_contain_text("tentative")

    # Time off: the last day before the first is refused; a good week off shows on the heatmap as time off.
    page.fill("#offFrom", "2027-01-15")
    page.fill("#offTo", "2027-01-11")
    page.click("button:has-text('Book time off')")
    expect(page.locator("#offTo-error")).to_have_text("Must not be before the first day")
    page.fill("#offTo", "2027-01-22")
    page.fill("#reason", "Holiday")
    page.click("button:has-text('Book time off')")
    expect(page.locator("#notice")).to_contain_text("Time off added")
    expect(page.locator("ul.absences")).to_contain_text("Holiday")
    page.goto(BASE + "/workload?from=2027-W02")
    ben = page.locator("table.heatmap tbody tr", has=page.locator("th", has_text="Ben Okafor"))
    expect(ben.locator("td.cell").first).to_have_class(re.compile(r"\boff\b"))
    page.click("nav >> text=People")
    expect(page.locator("table.people")).to_contain_text("Ben Okafor")
    accessible(page)
    page.context.close()


def test_operations_cancels_a_waiting_job_shows_webhook_deliveries_and_creates_and_revokes_a_token(browser):
    import subprocess
    job = subprocess.run(["psql", os.environ["TRELLIS_WEB_DB"], "-Atqc", """
        INSERT INTO trellis_jobs (kind, queue, args, agency_id, state, run_at)
        VALUES ('export.bundle', 'exports', '{}', (SELECT id FROM agencies WHERE slug = 'demo'), 'scheduled', now() + interval '1 hour')
        RETURNING id""", ], capture_output=True, text=True, check=True).stdout.strip()
    subprocess.run(["psql", os.environ["TRELLIS_WEB_DB"], "-qc", """
        WITH hook AS (
            INSERT INTO webhooks (agency_id, id, url, events, secret, description)
            VALUES ((SELECT id FROM agencies WHERE slug = 'demo'), gen_random_uuid(), 'https://hooks.example.com/trellis',
                    '{plan.updated}', 'whsec_test', 'Reporting')
            RETURNING agency_id, id)
        INSERT INTO webhook_deliveries (agency_id, id, webhook_id, delivery_id, event, payload, attempt, status_code, duration_ms, succeeded, attempted_at)
        SELECT agency_id, gen_random_uuid(), id, gen_random_uuid(), 'plan.updated', '{}'::jsonb, 1, 503, 120, false, now() - interval '1 minute' FROM hook
        UNION ALL SELECT agency_id, gen_random_uuid(), id, gen_random_uuid(), 'plan.updated', '{}'::jsonb, 2, 200, 80, true, now() FROM hook;
        """], check=True)
    page = new_page(browser)
    sign_in(page)
    page.click("nav >> text=Operations")
    waiting = page.locator("ul.jobs.pending > li", has_text=f"job {job} ")
    expect(waiting).to_contain_text("scheduled")
    waiting.locator("button").click()
    expect(page.locator("#notice")).to_contain_text(f"Job {job} was cancelled")
    expect(page.locator("ul.jobs.pending > li", has_text=f"job {job} ")).to_have_count(0)

    hook = page.locator(".webhook", has_text="hooks.example.com")
    expect(hook.locator("table.deliveries tbody tr")).to_have_count(2)
    expect(hook.locator("table.deliveries")).to_contain_text("HTTP 503")
    expect(hook.locator("table.deliveries")).to_contain_text("HTTP 200")

    # A token: no name is refused beside the field; a named one shows its secret once, and the secret works.
    page.click("button:has-text('Create token')")
    expect(page.locator("#token-error")).to_be_visible()
    page.fill("#tokenName", "Reporting script")
    page.click("button:has-text('Create token')")
    secret = page.input_value("#secret")
    assert secret.startswith("trl_")
    accessible(page)
    page.screenshot(path=f"{SHOTS}/operations.png", full_page=True)
    me = page.request.get(BASE + "/v1/me", headers={"Authorization": f"Bearer {secret}", "Cookie": ""})
    assert me.status == 200
    page.goto(BASE + "/operations")
    expect(page.locator("#secret")).to_have_count(0)  # shown once
    page.locator("table.tokens tr", has_text="Reporting script").locator("button:has-text('Revoke')").click()
    expect(page.locator("#notice")).to_contain_text("revoked")
    expect(page.locator("table.tokens tr", has_text="Reporting script")).to_contain_text("revoked")
    assert page.request.get(BASE + "/v1/me", headers={"Authorization": f"Bearer {secret}", "Cookie": ""}).status == 401
    page.context.close()


def tab_to(page: Page, predicate: str, limit=250):
    """Presses Tab until the focused element satisfies the JavaScript predicate `el => …`; fails after `limit` presses."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"({predicate})(document.activeElement)"):
            # What has the keyboard's focus is drawn so: the outline of :focus-visible.
            assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
            return
    raise AssertionError(f"Tab never reached {predicate} on {page.url}")


def test_the_keyboard_alone_signs_in_reaches_a_plan_and_edits_a_task(browser):
    page = new_page(browser)
    page.goto(BASE + "/signin")
    tab_to(page, "el => el.id === 'agency'")
    page.keyboard.type(OWNER[0]); page.keyboard.press("Tab")
    page.keyboard.type(OWNER[1]); page.keyboard.press("Tab")
    page.keyboard.type(OWNER[2]); page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/today$"))
    # The first Tab offers to skip the navigation.
    tab_to(page, "el => el.classList.contains('skip')", limit=1)
    tab_to(page, "el => el.getAttribute('href') === '/clients'")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Clients")
    tab_to(page, f"el => el.tagName === 'A' && el.textContent.trim() === {CLIENT!r}")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text(CLIENT)
    tab_to(page, "el => el.matches('ul.plans a')")
    page.keyboard.press("Enter")
    expect(page.locator("#tasks")).to_be_visible()
    # The Gantt scrolls sideways, so it takes the focus on the way (arrow keys scroll it); then the task's name.
    tab_to(page, "el => el.matches('figure.gantt')")
    name = "Absorb the culture, values and code of ethics"
    tab_to(page, f"el => el.matches('a.name') && el.textContent === {name!r}")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text(name)
    tab_to(page, "el => el.id === 'percent'")
    page.keyboard.press("Control+A"); page.keyboard.type("60")
    tab_to(page, "el => el.matches('button.primary')")
    page.keyboard.press("Enter")
    expect(page.locator("#notice")).to_contain_text("Saved")
    expect(row(page, name).locator("td").nth(5)).to_have_text("60 %")
    page.context.close()
