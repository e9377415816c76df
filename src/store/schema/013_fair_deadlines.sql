-- Version 13: time a parcel could not be collected (the kiosk down, its
-- board offline, its compartment out of service) is given back to its
-- recipient. Each parcel remembers the end of the last outage given
-- back, so that overlapping outages are not counted twice.

ALTER TABLE parcels ADD COLUMN outage_credited_until INTEGER;
