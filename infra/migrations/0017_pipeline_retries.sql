-- A tester whose pipeline step fails is tried again later, not first in every round.
--
-- The worker takes due testers oldest first. A step that raised left the tester's range as it
-- was (nothing is lost: the transaction rolled back), due since the same old time, so the same
-- failing testers came first again at every poll: with as many of them as a round takes (50),
-- nobody else was ever processed. `failures` counts a tester's failed steps since their last
-- success; each failure puts the range off by a delay that doubles (1 min, 2, 4, ... up to 1 h,
-- `PipelineParams.retry_after_s` and `retry_max_s`). A successful step resets it. New fixes still
-- make the range due at once (the data changed), without resetting the count.

ALTER TABLE sillage.pipeline_dirty
    ADD COLUMN failures integer NOT NULL DEFAULT 0 CHECK (failures >= 0);
