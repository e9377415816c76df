-- Version 7: codes are kept only as keyed hashes (`code_hash`, an SQL
-- function the store registers with the locker's secret; see secret.rs),
-- so that the database file alone opens no door.
--
-- A code its recipient has not been sent yet is kept sealed (`seal`) in
-- `undelivered_codes` until the message is delivered or the code is
-- spent; the recipient messages in the event log carry the code's id, not
-- the code. The receipt-signing key is sealed too.

ALTER TABLE pickup_codes RENAME COLUMN pin TO pin_hash;
ALTER TABLE pickup_codes RENAME COLUMN qr_token TO token_hash;

CREATE TABLE undelivered_codes (
    code_id INTEGER PRIMARY KEY REFERENCES pickup_codes (id),
    -- seal('<pin> <qr token>')
    sealed TEXT NOT NULL
) STRICT;

-- Nothing has been sent to anyone before this version (there was no
-- delivery yet): every code that still opens something is undelivered.
INSERT INTO undelivered_codes (code_id, sealed)
    SELECT id, seal(pin_hash || ' ' || token_hash) FROM pickup_codes
    WHERE used_at IS NULL AND revoked_at IS NULL;

UPDATE pickup_codes SET pin_hash = code_hash(pin_hash), token_hash = code_hash(token_hash);

ALTER TABLE couriers RENAME COLUMN login_code TO login_code_hash;
ALTER TABLE couriers RENAME COLUMN badge TO badge_hash;
UPDATE couriers SET login_code_hash = code_hash(login_code_hash), badge_hash = code_hash(badge_hash);

INSERT INTO meta (key, value)
    SELECT 'receipt_signing_key_sealed', seal(value) FROM meta WHERE key = 'receipt_signing_key';
DELETE FROM meta WHERE key = 'receipt_signing_key';

-- The plain codes copied into recipient messages so far. The log is
-- append-only; this one rewrite, in the migration, is the exception.
DROP TRIGGER events_no_update;
UPDATE events SET detail = json_remove(detail, '$.pin', '$.qr')
    WHERE kind = 'recipient_notification';
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only');
END;

-- A code that opens nothing any more need not be delivered.
CREATE TRIGGER spent_codes_are_forgotten
    AFTER UPDATE OF used_at, revoked_at ON pickup_codes
    WHEN NEW.used_at IS NOT NULL OR NEW.revoked_at IS NOT NULL
BEGIN
    DELETE FROM undelivered_codes WHERE code_id = NEW.id;
END;
