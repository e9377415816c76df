-- Version 4: staff can take a parcel out of the locker in maintenance
-- (status `removed`; the reason is in the event log), and a parcel's
-- history, what staff did and the alarms are found without reading the
-- whole log.
--
-- SQLite cannot change a CHECK constraint, so `parcels` is rebuilt the way
-- SQLite documents: the migration runs with foreign keys off and is
-- checked with foreign_key_check before it commits (migrations.rs).

CREATE TABLE parcels_new (
    id INTEGER PRIMARY KEY,
    tracking TEXT NOT NULL,
    carrier TEXT,
    recipient_id INTEGER NOT NULL REFERENCES recipients (id),
    courier_id INTEGER REFERENCES couriers (id),
    compartment INTEGER REFERENCES compartments (number),
    size TEXT,
    status TEXT NOT NULL CHECK (status IN
        ('announced', 'deposited', 'collected', 'expired', 'retrieved', 'returned', 'cancelled', 'removed')),
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

CREATE INDEX events_by_parcel ON events (parcel_id) WHERE parcel_id IS NOT NULL;

-- The audit log's rare filters, newest first. The conditions are those of
-- store/events.rs (STAFF_ACTORS, ALARM_KINDS), term for term.
CREATE INDEX events_by_staff ON events (id)
    WHERE (substr(actor, 1, 6) = 'staff:' OR substr(actor, 1, 4) = 'cli:');
CREATE INDEX events_alarms ON events (id)
    WHERE (kind IN ('uncommanded_open', 'left_open', 'board_offline',
            'report_raised', 'locker_full', 'pickup_left_doors_open', 'dropoff_left_doors_open')
        OR (kind IN ('door_open_outcome', 'maintenance_open')
            AND json_extract(detail, '$.outcome') IN ('jammed', 'no_reply'))
        OR (kind = 'compartment_state' AND json_extract(detail, '$.to') = 'faulty'));
