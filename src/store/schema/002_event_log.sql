-- Version 2: the append-only event and audit log, the sync outbox, and
-- reports raised at the kiosk.

CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    -- Who: "kiosk", "courier:3", "staff:maintenance", "recipient", "cli:root".
    actor TEXT NOT NULL,
    compartment INTEGER,
    parcel_id INTEGER,
    -- JSON object with the details of this kind of event.
    detail TEXT NOT NULL DEFAULT '{}'
) STRICT;

CREATE INDEX events_by_kind ON events (kind, at);
CREATE INDEX events_by_compartment ON events (compartment, at);

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only');
END;

CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only');
END;

-- Events waiting to reach the fleet backend.
CREATE TABLE outbox (
    event_id INTEGER PRIMARY KEY REFERENCES events (id),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    sent_at INTEGER
) STRICT;

CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE sent_at IS NULL;

CREATE TABLE reports (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    compartment INTEGER,
    parcel_id INTEGER REFERENCES parcels (id),
    note TEXT,
    reported_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    handled_at INTEGER,
    handled_by TEXT
) STRICT;
