-- Work calendars, onboarding templates, plans with tasks, dependencies and baselines.

-- A client engagement's working calendar (weekly intervals, zone, holidays, exceptions) as the domain
-- encodes it; null means the part-time default (Mon–Fri 09:00–14:00) in the client's time zone.
ALTER TABLE clients ADD COLUMN calendar jsonb;

CREATE TABLE templates (
    agency_id   uuid NOT NULL REFERENCES agencies (id),
    id          uuid NOT NULL,
    name        text NOT NULL,
    body        jsonb NOT NULL,
    version     integer NOT NULL DEFAULT 1,
    archived_at timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agency_id, id)
);

CREATE TABLE plans (
    agency_id     uuid NOT NULL REFERENCES agencies (id),
    id            uuid NOT NULL,
    client_id     uuid NOT NULL,
    name          text NOT NULL,
    template_name text,
    starts_at     timestamptz NOT NULL,
    version       integer NOT NULL DEFAULT 1,
    archived_at   timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agency_id, id),
    FOREIGN KEY (agency_id, client_id) REFERENCES clients (agency_id, id)
);
CREATE INDEX plans_by_client ON plans (agency_id, client_id, created_at);

CREATE TYPE constraint_kind AS ENUM (
    'startNoEarlierThan', 'startNoLaterThan', 'finishNoEarlierThan', 'finishNoLaterThan', 'mustStartOn', 'mustFinishOn');
CREATE TYPE dependency_kind AS ENUM ('FS', 'SS', 'FF', 'SF');

CREATE TABLE plan_tasks (
    agency_id        uuid NOT NULL,
    plan_id          uuid NOT NULL,
    id               uuid NOT NULL,
    position         integer NOT NULL,
    parent_id        uuid,
    name             text NOT NULL,
    duration_minutes integer NOT NULL CHECK (duration_minutes >= 0),
    role_key         text,
    assignee_id      uuid,
    checklist        jsonb NOT NULL DEFAULT '[]',
    constraint_kind  constraint_kind,
    constraint_at    timestamptz,
    percent_complete smallint NOT NULL DEFAULT 0 CHECK (percent_complete BETWEEN 0 AND 100),
    actual_start     timestamptz,
    actual_finish    timestamptz,
    -- iCalendar SEQUENCE: raised whenever the task's scheduled dates move.
    ical_sequence    integer NOT NULL DEFAULT 0,
    ical_start       timestamptz,
    ical_finish      timestamptz,
    PRIMARY KEY (agency_id, plan_id, id),
    FOREIGN KEY (agency_id, plan_id) REFERENCES plans (agency_id, id) ON DELETE CASCADE,
    FOREIGN KEY (agency_id, plan_id, parent_id) REFERENCES plan_tasks (agency_id, plan_id, id),
    FOREIGN KEY (agency_id, assignee_id) REFERENCES members (agency_id, id),
    CHECK ((constraint_kind IS NULL) = (constraint_at IS NULL))
);
CREATE INDEX plan_tasks_by_assignee ON plan_tasks (agency_id, assignee_id) WHERE assignee_id IS NOT NULL;

CREATE TABLE plan_dependencies (
    agency_id      uuid NOT NULL,
    plan_id        uuid NOT NULL,
    predecessor_id uuid NOT NULL,
    successor_id   uuid NOT NULL,
    kind           dependency_kind NOT NULL DEFAULT 'FS',
    lag_minutes    integer NOT NULL DEFAULT 0,
    PRIMARY KEY (agency_id, plan_id, predecessor_id, successor_id),
    FOREIGN KEY (agency_id, plan_id, predecessor_id) REFERENCES plan_tasks (agency_id, plan_id, id) ON DELETE CASCADE,
    FOREIGN KEY (agency_id, plan_id, successor_id) REFERENCES plan_tasks (agency_id, plan_id, id) ON DELETE CASCADE,
    CHECK (predecessor_id <> successor_id)
);

CREATE TABLE plan_baselines (
    agency_id  uuid NOT NULL,
    plan_id    uuid NOT NULL,
    name       text NOT NULL,
    -- {taskId: {"start": …, "finish": …, "durationMinutes": …}} as scheduled when saved.
    tasks      jsonb NOT NULL,
    finish     timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agency_id, plan_id, name),
    FOREIGN KEY (agency_id, plan_id) REFERENCES plans (agency_id, id) ON DELETE CASCADE
);

SELECT trellis_protect_tenant_table(t)
FROM unnest(ARRAY['templates', 'plans', 'plan_tasks', 'plan_dependencies', 'plan_baselines']::regclass[]) AS t;
