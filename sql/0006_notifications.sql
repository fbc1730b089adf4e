-- Notifications: the in-app inbox, signed webhooks and their delivery log, and the reminders already sent.

-- One row per notice to one member (reminders, digests, moved tasks).
CREATE TABLE notifications (
    agency_id   uuid NOT NULL REFERENCES agencies (id),
    id          uuid NOT NULL,
    member_id   uuid NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('task_starting', 'task_due', 'task_overdue', 'digest', 'task_moved')),
    title       text NOT NULL,
    body        text NOT NULL DEFAULT '',
    client_id   uuid,
    plan_id     uuid,
    task_id     uuid,
    created_at  timestamptz NOT NULL DEFAULT now(),
    read_at     timestamptz,
    PRIMARY KEY (agency_id, id),
    FOREIGN KEY (agency_id, member_id) REFERENCES members (agency_id, id) ON DELETE CASCADE,
    FOREIGN KEY (agency_id, client_id) REFERENCES clients (agency_id, id) ON DELETE CASCADE,
    FOREIGN KEY (agency_id, plan_id) REFERENCES plans (agency_id, id) ON DELETE CASCADE
);
CREATE INDEX notifications_inbox ON notifications (agency_id, member_id, created_at DESC, id);
CREATE INDEX notifications_unread ON notifications (agency_id, member_id) WHERE read_at IS NULL;
CREATE INDEX notifications_read_at ON notifications (read_at) WHERE read_at IS NOT NULL;

-- Endpoints an agency registered; the secret signs each delivery (HMAC-SHA256), so it is kept readable.
CREATE TABLE webhooks (
    agency_id   uuid NOT NULL REFERENCES agencies (id),
    id          uuid NOT NULL,
    url         text NOT NULL,
    secret      text NOT NULL,
    events      text[] NOT NULL DEFAULT '{}',
    active      boolean NOT NULL DEFAULT true,
    description text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agency_id, id)
);

-- Every attempt of every delivery: a delivery (delivery_id, one Trellis-Delivery header) has 1..n attempts.
CREATE TABLE webhook_deliveries (
    agency_id    uuid NOT NULL REFERENCES agencies (id),
    id           uuid NOT NULL,
    webhook_id   uuid NOT NULL,
    delivery_id  uuid NOT NULL,
    job_id       bigint,
    event        text NOT NULL,
    payload      jsonb NOT NULL,
    attempt      integer NOT NULL,
    status_code  integer,
    error        text,
    duration_ms  integer NOT NULL DEFAULT 0,
    succeeded    boolean NOT NULL DEFAULT false,
    attempted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agency_id, id),
    FOREIGN KEY (agency_id, webhook_id) REFERENCES webhooks (agency_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (agency_id, webhook_id, attempted_at DESC);
CREATE INDEX webhook_deliveries_attempted_at ON webhook_deliveries (attempted_at);

-- A reminder (task, kind, the scheduled instant it is about) is created once; the scan inserts here first.
CREATE TABLE reminders_sent (
    agency_id   uuid NOT NULL REFERENCES agencies (id),
    plan_id     uuid NOT NULL,
    task_id     uuid NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('task_starting', 'task_due', 'task_overdue')),
    instant     timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agency_id, plan_id, task_id, kind, instant),
    FOREIGN KEY (agency_id, plan_id) REFERENCES plans (agency_id, id) ON DELETE CASCADE
);

SELECT trellis_protect_tenant_table(t)
FROM unnest(ARRAY['notifications', 'webhooks', 'webhook_deliveries', 'reminders_sent']::regclass[]) AS t;
