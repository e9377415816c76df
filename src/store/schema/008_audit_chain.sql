-- Version 8: the event log is hash-chained (see audit.rs): each event's
-- `chain` is `chain_link` of the previous event's chain and its own fields.
-- The events already there are chained here, oldest first.

ALTER TABLE events ADD COLUMN chain TEXT;

DROP TRIGGER events_no_update;
WITH RECURSIVE chained (id, chain) AS (
    SELECT 0, ''
    UNION ALL
    SELECT e.id, chain_link(c.chain, e.id, e.at, e.kind, e.actor, e.compartment, e.parcel_id, e.detail)
    FROM chained c JOIN events e ON e.id = (SELECT min(id) FROM events WHERE id > c.id)
)
UPDATE events SET chain = chained.chain FROM chained WHERE chained.id = events.id;
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only');
END;

-- A log that lost history is an alarm (the condition is ALARM_KINDS in
-- events.rs, term for term).
DROP INDEX events_alarms;
CREATE INDEX events_alarms ON events (id)
    WHERE (kind IN ('uncommanded_open', 'left_open', 'board_offline',
            'report_raised', 'locker_full', 'pickup_left_doors_open', 'dropoff_left_doors_open',
            'log_rolled_back')
        OR (kind IN ('door_open_outcome', 'maintenance_open')
            AND json_extract(detail, '$.outcome') IN ('jammed', 'no_reply'))
        OR (kind = 'compartment_state' AND json_extract(detail, '$.to') = 'faulty'));
