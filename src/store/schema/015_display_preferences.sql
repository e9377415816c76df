-- Version 15: a recipient's larger text and high contrast, remembered
-- from the visit they chose them in and applied once their code is
-- known, like the reachable compartments (`needs_accessible`).

ALTER TABLE recipients ADD COLUMN large_text INTEGER NOT NULL DEFAULT 0;
ALTER TABLE recipients ADD COLUMN high_contrast INTEGER NOT NULL DEFAULT 0;
