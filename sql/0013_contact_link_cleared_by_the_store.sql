-- Citus refuses ON DELETE SET NULL (or SET DEFAULT) on a foreign key that holds the distribution column, even with a
-- column list: a portal member's link to its contact (0010) is cleared by the store instead, in the transaction that
-- deletes the contact (PeopleStore.deleteContact), and the key itself is a plain one.
ALTER TABLE members DROP CONSTRAINT members_contact_fkey;
ALTER TABLE members ADD CONSTRAINT members_contact_fkey
    FOREIGN KEY (agency_id, contact_id) REFERENCES client_contacts (agency_id, id);
