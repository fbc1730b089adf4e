-- The client portal. A client stakeholder signs in with a share link an agency member made for them (no password):
-- the link names a portal member (a client viewer of one client, made from the client's contact), is stored hashed,
-- expires, and can be revoked. Tasks can be marked as waiting on the client (an approval, a document to send); the
-- portal lets the client mark them done with a comment.

ALTER TABLE plan_tasks
    ADD COLUMN client_action boolean NOT NULL DEFAULT false,
    ADD COLUMN client_done_at timestamptz,
    ADD COLUMN client_comment text CHECK (length(client_comment) <= 2000);

-- A portal member made from a contact; the contact's removal leaves the member (and its history) without the link.
ALTER TABLE members ADD COLUMN contact_id uuid;
ALTER TABLE members ADD CONSTRAINT members_contact_fkey
    FOREIGN KEY (agency_id, contact_id) REFERENCES client_contacts (agency_id, id) ON DELETE SET NULL (contact_id);
CREATE UNIQUE INDEX members_one_per_contact ON members (agency_id, contact_id) WHERE contact_id IS NOT NULL;

CREATE TABLE share_links (
    agency_id    uuid NOT NULL REFERENCES agencies (id),
    id           uuid NOT NULL,
    client_id    uuid NOT NULL,
    contact_id   uuid NOT NULL,
    member_id    uuid NOT NULL,
    secret_hash  bytea NOT NULL UNIQUE,
    created_by   uuid NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    last_used_at timestamptz,
    revoked_at   timestamptz,
    PRIMARY KEY (agency_id, id),
    FOREIGN KEY (agency_id, client_id) REFERENCES clients (agency_id, id) ON DELETE CASCADE,
    FOREIGN KEY (agency_id, contact_id) REFERENCES client_contacts (agency_id, id) ON DELETE CASCADE,
    FOREIGN KEY (agency_id, member_id) REFERENCES members (agency_id, id) ON DELETE CASCADE
);
CREATE INDEX share_links_by_client ON share_links (agency_id, client_id);
ALTER TABLE share_links ENABLE ROW LEVEL SECURITY;
ALTER TABLE share_links FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON share_links
    USING (agency_id = trellis_current_agency()) WITH CHECK (agency_id = trellis_current_agency());
GRANT SELECT, INSERT, UPDATE, DELETE ON share_links TO trellis_api, trellis_app;

-- A link is redeemed before the agency is known: a definer function finds it by the secret's hash, notes its use and
-- returns the member to sign in, only while it is neither expired nor revoked.
CREATE FUNCTION trellis_redeem_share_link(p_hash bytea)
RETURNS TABLE (agency_id uuid, member_id uuid, client_id uuid)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public AS $$
BEGIN
    RETURN QUERY
        UPDATE share_links s SET last_used_at = now()
         WHERE s.secret_hash = p_hash AND s.revoked_at IS NULL AND s.expires_at > now()
        RETURNING s.agency_id, s.member_id, s.client_id;
END
$$;
GRANT SELECT, UPDATE ON share_links TO trellis_definer;
ALTER FUNCTION trellis_redeem_share_link(bytea) OWNER TO trellis_definer;
REVOKE ALL ON FUNCTION trellis_redeem_share_link(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION trellis_redeem_share_link(bytea) TO trellis_api;

-- The notice an assignee gets when the client marks their task done.
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check
    CHECK (kind IN ('task_starting', 'task_due', 'task_overdue', 'digest', 'task_moved', 'client_done'));
