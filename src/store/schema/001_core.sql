-- Version 1: the locker, its people and its parcels.
-- Times are milliseconds since the Unix epoch (UTC).

CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- One row per compartment ever configured. The layout (size, wiring,
-- position) is refreshed from the config at every start; the state is ours.
CREATE TABLE compartments (
    number INTEGER PRIMARY KEY CHECK (number > 0),
    size TEXT NOT NULL,
    board TEXT NOT NULL,
    channel INTEGER NOT NULL CHECK (channel > 0),
    col INTEGER NOT NULL,
    row INTEGER NOT NULL,
    height_mm INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'free'
        CHECK (state IN ('free', 'reserved', 'occupied', 'faulty', 'out_of_service')),
    state_reason TEXT,
    -- 0 once the compartment is no longer in the configuration.
    in_layout INTEGER NOT NULL DEFAULT 1,
    updated_at INTEGER NOT NULL
) STRICT;

-- Two compartments on one board channel would open each other's doors.
CREATE UNIQUE INDEX compartments_wiring ON compartments (board, channel) WHERE in_layout = 1;

CREATE TABLE couriers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    company TEXT NOT NULL,
    login_code TEXT UNIQUE,
    badge TEXT UNIQUE,
    active INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
) STRICT;

-- The resident directory.
CREATE TABLE recipients (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    unit TEXT,
    phone TEXT,
    email TEXT,
    needs_accessible INTEGER NOT NULL DEFAULT 0,
    active INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
) STRICT;

-- One code opens every parcel of one recipient that points at it.
CREATE TABLE pickup_codes (
    id INTEGER PRIMARY KEY,
    pin TEXT NOT NULL,
    qr_token TEXT NOT NULL UNIQUE,
    recipient_id INTEGER NOT NULL REFERENCES recipients (id),
    created_at INTEGER NOT NULL,
    used_at INTEGER,
    revoked_at INTEGER
) STRICT;

-- A PIN is unique among the codes that still open something.
CREATE UNIQUE INDEX pickup_codes_live_pin ON pickup_codes (pin)
    WHERE used_at IS NULL AND revoked_at IS NULL;

CREATE TABLE parcels (
    id INTEGER PRIMARY KEY,
    tracking TEXT NOT NULL,
    carrier TEXT,
    recipient_id INTEGER NOT NULL REFERENCES recipients (id),
    courier_id INTEGER REFERENCES couriers (id),
    compartment INTEGER REFERENCES compartments (number),
    size TEXT,
    status TEXT NOT NULL CHECK (status IN
        ('announced', 'deposited', 'collected', 'expired', 'retrieved', 'returned', 'cancelled')),
    pickup_code_id INTEGER REFERENCES pickup_codes (id),
    -- 0 when the courier left before confirming: staff should check.
    confirmed INTEGER NOT NULL DEFAULT 1,
    announced_at INTEGER,
    deposited_at INTEGER,
    expires_at INTEGER,
    -- When it left the locker (collected, retrieved, returned).
    closed_at INTEGER,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE INDEX parcels_tracking ON parcels (tracking);
-- The same parcel cannot be in the locker twice.
CREATE UNIQUE INDEX parcels_in_locker ON parcels (tracking) WHERE status IN ('deposited', 'expired');
CREATE INDEX parcels_by_compartment ON parcels (compartment) WHERE status IN ('deposited', 'expired');
CREATE INDEX parcels_by_code ON parcels (pickup_code_id);
