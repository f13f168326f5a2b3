-- Which calibration the stored sections show, so that a process started with another one maps them
-- again by itself.
--
-- The pipeline shows the sections it builds as `SILLAGE_CALIBRATION` says (migration 0028,
-- `core.calibration`); sections built before keep what they showed until they are mapped again,
-- which `sillage pipeline recalibrate` does. An operator who installs a calibration and forgets
-- that command would leave each tester's older weeks showing the old figures. This row says which
-- calibration every stored section was last mapped with: the API process's pipeline worker, when
-- it starts with another one, maps them in the background (`ingest.calibration`,
-- `recalibrate_if_changed`) and records it here when every tester is done; the command records it
-- too. NULL `model_version` (and slope and intercept): the model's own probabilities, as every
-- section stored before 0028 shows. A pass that stops half way (a restart) records nothing, and
-- the next start maps again; mapping again is idempotent.
CREATE TABLE sillage.shown_calibration (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    model_version text,
    slope double precision,
    intercept double precision,
    applied_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((model_version IS NULL) = (slope IS NULL) AND (slope IS NULL) = (intercept IS NULL))
);
INSERT INTO sillage.shown_calibration (singleton) VALUES (true);
GRANT SELECT, UPDATE ON sillage.shown_calibration TO sillage_app;
