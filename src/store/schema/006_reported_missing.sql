-- Version 6: a parcel its recipient reported missing when its door opened
-- (status `missing`) is no longer recorded as collected; the report says
-- what staff found.
--
-- The CHECK constraint changes, so `parcels` is rebuilt as in version 4.

CREATE TABLE parcels_new (
    id INTEGER PRIMARY KEY,
    tracking TEXT NOT NULL,
    carrier TEXT,
    recipient_id INTEGER NOT NULL REFERENCES recipients (id),
    courier_id INTEGER REFERENCES couriers (id),
    compartment INTEGER REFERENCES compartments (number),
    size TEXT,
    status TEXT NOT NULL CHECK (status IN
        ('announced', 'deposited', 'collected', 'expired', 'retrieved', 'returned', 'cancelled', 'removed', 'missing')),
    pickup_code_id INTEGER REFERENCES pickup_codes (id),
    confirmed INTEGER NOT NULL DEFAULT 1,
    announced_at INTEGER,
    deposited_at INTEGER,
    expires_at INTEGER,
    closed_at INTEGER,
    updated_at INTEGER NOT NULL,
    return_requested_at INTEGER,
    return_reason TEXT
) STRICT;

INSERT INTO parcels_new (id, tracking, carrier, recipient_id, courier_id, compartment, size, status,
        pickup_code_id, confirmed, announced_at, deposited_at, expires_at, closed_at, updated_at,
        return_requested_at, return_reason)
    SELECT id, tracking, carrier, recipient_id, courier_id, compartment, size, status,
        pickup_code_id, confirmed, announced_at, deposited_at, expires_at, closed_at, updated_at,
        return_requested_at, return_reason
    FROM parcels;

DROP TABLE parcels;
ALTER TABLE parcels_new RENAME TO parcels;

CREATE INDEX parcels_tracking ON parcels (tracking);
CREATE UNIQUE INDEX parcels_in_locker ON parcels (tracking) WHERE status IN ('deposited', 'expired');
CREATE INDEX parcels_by_compartment ON parcels (compartment) WHERE status IN ('deposited', 'expired');
CREATE INDEX parcels_by_code ON parcels (pickup_code_id);
