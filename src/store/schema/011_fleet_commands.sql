-- Version 11: commands from the fleet are carried out at most once. Each
-- command's id is kept with its outcome, so that a repeat (a broker
-- redelivering, an attacker replaying) is answered with the first answer
-- and changes nothing.

CREATE TABLE fleet_commands (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('applied', 'refused')),
    message TEXT NOT NULL
) STRICT;

-- The backend's own id for a resident (commands name residents by it).
ALTER TABLE recipients ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX recipients_external_id ON recipients (external_id) WHERE external_id IS NOT NULL;
