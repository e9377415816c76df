-- Version 12: items handed out to named people (an office's laptops,
-- badges, gifts). Staff import them (`parcels import`): each is a parcel
-- announced for its person with its compartment already reserved, loaded
-- in maintenance door by door, and collected with a code like any parcel.

-- What the item is, as the import named it.
ALTER TABLE parcels ADD COLUMN item TEXT;
-- The organisation's asset tag, for the register (`parcels register`).
ALTER TABLE parcels ADD COLUMN asset_tag TEXT;
-- The deadline the import asked for; the storage period applies without.
ALTER TABLE parcels ADD COLUMN deadline_at INTEGER;

-- The items waiting to be loaded, each holding its compartment.
CREATE INDEX parcels_to_load ON parcels (compartment)
    WHERE status = 'announced' AND item IS NOT NULL;

-- A person may collect with their staff badge where the directory says
-- whose it is: kept as a keyed hash, like every code.
ALTER TABLE recipients ADD COLUMN badge_hash TEXT;
CREATE UNIQUE INDEX recipients_badge ON recipients (badge_hash)
    WHERE badge_hash IS NOT NULL AND active = 1;

-- How a parcel was collected: `code`, `badge`.
ALTER TABLE parcels ADD COLUMN collected_with TEXT;
