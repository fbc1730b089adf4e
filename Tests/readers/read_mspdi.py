#!/usr/bin/env python3
"""Reads an MSPDI (MS Project XML) file with MPXJ and prints what it understood as JSON.

Usage: read_mspdi.py FILE TZ
Dates are MSPDI local times; they are converted to UTC instants with the IANA zone TZ (zoneinfo),
so the caller can compare exact instants. Durations and lags are in minutes, converted by MPXJ
with the file's own minutes per day/week.
"""
import json
import sys
from datetime import timezone
from zoneinfo import ZoneInfo

import mpxj  # noqa: F401  (puts the MPXJ jars on the class path; must precede startJVM)
import jpype

jpype.startJVM()

from java.time import DayOfWeek  # noqa: E402
from org.mpxj import TimeUnit  # noqa: E402
from org.mpxj.mspdi import MSPDIReader  # noqa: E402

path, tz = sys.argv[1], ZoneInfo(sys.argv[2])
project = MSPDIReader().read(path)
props = project.getProjectProperties()


def instant(local):
    """A java.time.LocalDateTime (wall time in TZ) as a UTC ISO string."""
    if local is None:
        return None
    from datetime import datetime
    naive = datetime(local.getYear(), local.getMonthValue(), local.getDayOfMonth(),
                     local.getHour(), local.getMinute(), local.getSecond())
    return naive.replace(tzinfo=tz).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def minutes(duration):
    if duration is None:
        return None
    return round(float(duration.convertUnits(TimeUnit.MINUTES, props).getDuration()), 3)


def text(value):
    return None if value is None else str(value)


tasks = []
for task in project.getTasks():
    if task.getUniqueID() is None or int(task.getUniqueID()) == 0:
        continue  # MPXJ's synthetic project summary, if any
    links = []
    for rel in task.getPredecessors():
        links.append({
            "predecessorUID": int(rel.getPredecessorTask().getUniqueID()),
            "type": str(rel.getType()),
            "lagMinutes": minutes(rel.getLag()),
        })
    baseline = None
    if task.getBaselineStart() is not None:
        baseline = {"start": instant(task.getBaselineStart()), "finish": instant(task.getBaselineFinish()),
                    "durationMinutes": minutes(task.getBaselineDuration())}
    tasks.append({
        "uid": int(task.getUniqueID()),
        "id": int(task.getID()),
        "trellisID": text(task.getText(1)),
        "name": text(task.getName()),
        "outlineLevel": int(task.getOutlineLevel()),
        "outlineNumber": text(task.getOutlineNumber()),
        "wbs": text(task.getWBS()),
        "summary": bool(task.getSummary()),
        "milestone": bool(task.getMilestone()),
        "critical": bool(task.getCritical()),
        "start": instant(task.getStart()),
        "finish": instant(task.getFinish()),
        "durationMinutes": minutes(task.getDuration()),
        "totalSlackMinutes": minutes(task.getTotalSlack()),
        "percentComplete": None if task.getPercentageComplete() is None else float(task.getPercentageComplete()),
        "constraintType": text(task.getConstraintType()),
        "notes": text(task.getNotes()),
        "predecessors": links,
        "baseline": baseline,
    })

calendars = []
for cal in project.getCalendars():
    week = {}
    for day in DayOfWeek.values():
        hours = cal.getCalendarHours(day)
        ranges = [] if hours is None else [[str(r.getStart())[:5], str(r.getEnd())[:5]] for r in hours]
        minutes = 0 if hours is None else sum(int(r.getDurationAsMilliseconds()) for r in hours) // 60000
        week[str(day).lower()] = {"type": str(cal.getCalendarDayType(day)), "hours": ranges, "minutes": minutes}
    exceptions = []
    for ex in cal.getCalendarExceptions():
        exceptions.append({
            "from": str(ex.getFromDate()), "to": str(ex.getToDate()), "working": bool(ex.getWorking()),
            "hours": [[str(r.getStart())[:5], str(r.getEnd())[:5]] for r in ex],
        })
    calendars.append({"name": text(cal.getName()), "week": week, "exceptions": exceptions})

resources = [{"uid": int(r.getUniqueID()), "name": text(r.getName())}
             for r in project.getResources() if r.getUniqueID() is not None and int(r.getUniqueID()) != 0]
assignments = [{"taskUID": int(a.getTask().getUniqueID()), "resourceUID": int(a.getResource().getUniqueID()),
                "units": float(a.getUnits())}
               for a in project.getResourceAssignments() if a.getResource() is not None]

print(json.dumps({
    "name": text(props.getName()),
    "minutesPerDay": int(props.getMinutesPerDay()),
    "minutesPerWeek": int(props.getMinutesPerWeek()),
    "defaultCalendar": text(project.getDefaultCalendar().getName()) if project.getDefaultCalendar() else None,
    "start": instant(props.getStartDate()),
    "finish": instant(props.getFinishDate()),
    "tasks": tasks,
    "calendars": calendars,
    "resources": resources,
    "assignments": assignments,
}, indent=1))
