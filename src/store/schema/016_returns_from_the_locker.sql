-- Version 16: a person returns or sends a parcel from the locker. A return
-- code (`parcels expect-return`, or the fleet) is a `pickup_codes` row
-- whose `return_codes` row names the expected parcel: announced, with
-- `return_requested_at` set, so that once it is in a compartment the
-- carrier's courier takes it back as any return.

CREATE TABLE return_codes (
    code_id INTEGER PRIMARY KEY REFERENCES pickup_codes (id),
    parcel_id INTEGER NOT NULL REFERENCES parcels (id)
) STRICT;

CREATE INDEX return_codes_by_parcel ON return_codes (parcel_id);
