-- Version 10: messages to recipients are delivered by the locker itself
-- (email, webhook) or by the fleet backend.
--
-- Every recipient message in the event log gets a `deliveries` row, by
-- trigger, in the same transaction: no message can be recorded and then
-- forgotten. `channels_done` lists the channels that took it (`email`,
-- `webhook`, `fleet`); the row is delivered once every channel the
-- recipient can be reached on has it, or `unreachable` when there is none.

ALTER TABLE recipients ADD COLUMN language TEXT;

CREATE TABLE deliveries (
    event_id INTEGER PRIMARY KEY REFERENCES events (id),
    recipient_id INTEGER NOT NULL REFERENCES recipients (id),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    channels_done TEXT NOT NULL DEFAULT '',
    last_error TEXT,
    delivered_at INTEGER,
    unreachable_at INTEGER
) STRICT;

CREATE INDEX deliveries_due ON deliveries (next_attempt_at)
    WHERE delivered_at IS NULL AND unreachable_at IS NULL;

CREATE TRIGGER recipient_messages_are_delivered
    AFTER INSERT ON events WHEN NEW.kind = 'recipient_notification'
BEGIN
    INSERT INTO deliveries (event_id, recipient_id, next_attempt_at)
        VALUES (NEW.id, json_extract(NEW.detail, '$.recipient'), NEW.at);
END;

-- Messages recorded before this version whose code still waits to be
-- sent: nothing was ever sent before.
INSERT INTO deliveries (event_id, recipient_id, next_attempt_at)
    SELECT e.id, json_extract(e.detail, '$.recipient'), e.at FROM events e
    WHERE e.kind = 'recipient_notification'
      AND json_extract(e.detail, '$.code') IN (SELECT code_id FROM undelivered_codes);

-- A reminder before the deadline goes once per parcel.
ALTER TABLE parcels ADD COLUMN reminded_at INTEGER;

-- A recipient no channel reaches is an alarm for staff (the condition is
-- ALARM_KINDS in events.rs, term for term).
DROP INDEX events_alarms;
CREATE INDEX events_alarms ON events (id)
    WHERE (kind IN ('uncommanded_open', 'left_open', 'board_offline',
            'report_raised', 'locker_full', 'pickup_left_doors_open', 'dropoff_left_doors_open',
            'log_rolled_back', 'disk_nearly_full', 'recipient_unreachable')
        OR (kind IN ('door_open_outcome', 'maintenance_open')
            AND json_extract(detail, '$.outcome') IN ('jammed', 'no_reply'))
        OR (kind = 'compartment_state' AND json_extract(detail, '$.to') = 'faulty'));
