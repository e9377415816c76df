-- Version 5: staff members with a PIN of their own, so that the audit log
-- says who did what in maintenance. Only argon2id hashes are kept. The
-- site's shared admin PIN stays where it was (meta `admin_pin_hash`).

CREATE TABLE staff_pins (
    name TEXT PRIMARY KEY,
    pin_hash TEXT NOT NULL,
    set_at INTEGER NOT NULL
) STRICT;
