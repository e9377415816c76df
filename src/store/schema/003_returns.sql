-- Version 3: staff can mark a parcel for return to the sender; the
-- carrier's courier then takes it back like an expired one.

ALTER TABLE parcels ADD COLUMN return_requested_at INTEGER;
ALTER TABLE parcels ADD COLUMN return_reason TEXT;
