-- CO2 coaching: the adopted emission-factor registry (shared), and each tester's confirmed places
-- and personal yearly budget (in their own partition).
--
-- `sillage.settings` holds deployment-wide choices that operators make with the CLI, such as
-- `co2_registry_version` (`sillage co2 adopt VERSION`). It holds no personal data, so tester roles
-- may read it (the pipeline and profile changes read it inside a tester's transaction); only the
-- API login writes it.

CREATE TABLE sillage.settings (
    key text PRIMARY KEY CHECK (key ~ '^[a-z][a-z0-9_]*$'),
    value text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON sillage.settings FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE ON sillage.settings TO sillage_app;
GRANT SELECT ON sillage.settings TO sillage_tester;

-- Per tester: home and work as the tester confirmed or corrected them (guesses are recomputed
-- from stays on demand and never stored), and the yearly mobility budget they chose (no row:
-- the documented default).
SELECT sillage.add_partition_step('coaching', 40, $ddl$
    CREATE TABLE IF NOT EXISTS %1$I.places (
        kind text PRIMARY KEY CHECK (kind IN ('home', 'work')),
        lat double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
        lon double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
        updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE IF NOT EXISTS %1$I.goal (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        yearly_budget_kg double precision NOT NULL CHECK (yearly_budget_kg > 0),
        updated_at timestamptz NOT NULL DEFAULT now()
    );
    GRANT SELECT, INSERT, UPDATE, DELETE ON %1$I.places, %1$I.goal TO %2$I;
$ddl$);
