-- A data disk so full that the kiosk let go of its reserve is an alarm
-- (the condition is ALARM_KINDS in events.rs, term for term).
DROP INDEX events_alarms;
CREATE INDEX events_alarms ON events (id)
    WHERE (kind IN ('uncommanded_open', 'left_open', 'board_offline',
            'report_raised', 'locker_full', 'pickup_left_doors_open', 'dropoff_left_doors_open',
            'log_rolled_back', 'disk_nearly_full')
        OR (kind IN ('door_open_outcome', 'maintenance_open')
            AND json_extract(detail, '$.outcome') IN ('jammed', 'no_reply'))
        OR (kind = 'compartment_state' AND json_extract(detail, '$.to') = 'faulty'));
