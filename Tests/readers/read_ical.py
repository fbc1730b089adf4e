#!/usr/bin/env python3
"""Reads an iCalendar file with the `icalendar` package, strictly, and prints its events as JSON.

Usage: read_ical.py FILE
Fails (exit 1) when any component recorded parse errors, a line is not CRLF-terminated or is longer
than 75 octets, or a TZID has no VTIMEZONE. Each event's DTSTART/DTEND is printed as a UTC instant
twice: resolved by icalendar (which prefers the system's zone of that name) and resolved with the
file's own VTIMEZONE only, so a wrong VTIMEZONE cannot hide behind the system tz database.
"""
import json
import sys
from datetime import datetime, timezone

from icalendar import Calendar

raw = open(sys.argv[1], "rb").read()
problems = []

lines = raw.split(b"\r\n")
if lines[-1] != b"":
    problems.append("the file does not end with CRLF")
for n, line in enumerate(lines[:-1], 1):
    if b"\n" in line or b"\r" in line:
        problems.append(f"line {n}: bare CR or LF")
    if len(line) > 75:
        problems.append(f"line {n}: {len(line)} octets")

cal = Calendar.from_ical(raw)
for component in cal.walk():
    for error in getattr(component, "errors", []):
        problems.append(f"{component.name}: {error}")

zones = {str(tz["TZID"]): tz.to_tz(lookup_tzid=False) for tz in cal.walk("VTIMEZONE")}


def utc(value):
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def own_zone(prop):
    """The instant of a DTSTART/DTEND read with the file's VTIMEZONE."""
    tzid = prop.params.get("TZID")
    if tzid is None:
        return utc(prop.dt)
    if tzid not in zones:
        problems.append(f"TZID {tzid} has no VTIMEZONE")
        return None
    naive = prop.dt.replace(tzinfo=None)
    zone = zones[tzid]
    return utc(zone.localize(naive) if hasattr(zone, "localize") else naive.replace(tzinfo=zone))


events = []
for ev in cal.walk("VEVENT"):
    start = ev["DTSTART"]
    end = ev.get("DTEND")
    categories = []
    if "CATEGORIES" in ev:
        cats = ev["CATEGORIES"]
        for c in (cats if isinstance(cats, list) else [cats]):
            categories += [str(x) for x in c.cats]
    events.append({
        "uid": str(ev["UID"]),
        "sequence": int(ev.get("SEQUENCE", 0)),
        "summary": str(ev["SUMMARY"]),
        "description": str(ev.get("DESCRIPTION", "")),
        "categories": categories,
        "dtstamp": utc(ev["DTSTAMP"].dt),
        "tzid": start.params.get("TZID"),
        "start": utc(start.dt),
        "end": utc(end.dt) if end is not None else utc(start.dt),
        "startByVTimezone": own_zone(start),
        "endByVTimezone": own_zone(end) if end is not None else own_zone(start),
    })

def ical(prop):
    value = prop.to_ical()
    return value.decode() if isinstance(value, bytes) else value


result = {
    "calname": str(cal.get("X-WR-CALNAME", "")),
    "prodid": str(cal.get("PRODID", "")),
    "version": str(cal.get("VERSION", "")),
    "timezones": [{"tzid": str(tz["TZID"]),
                   "observances": [{"kind": o.name, "dtstart": ical(o["DTSTART"]),
                                    "from": ical(o["TZOFFSETFROM"]), "to": ical(o["TZOFFSETTO"])}
                                   for o in tz.subcomponents]}
                  for tz in cal.walk("VTIMEZONE")],
    "events": events,
    "problems": problems,
}
print(json.dumps(result, indent=1, ensure_ascii=False))
sys.exit(1 if problems else 0)
