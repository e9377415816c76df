-- Version 14: a recipient may let someone else collect: a second code,
-- one-time and revocable, for the same parcels (`delegations` names
-- them). It is a `pickup_codes` row like any code, kept only as hashes.

CREATE TABLE delegations (
    code_id INTEGER NOT NULL REFERENCES pickup_codes (id),
    parcel_id INTEGER NOT NULL REFERENCES parcels (id),
    -- Who will collect, when the recipient said.
    name TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (code_id, parcel_id)
) STRICT;

CREATE INDEX delegations_by_parcel ON delegations (parcel_id);
