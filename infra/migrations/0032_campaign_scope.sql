-- Releases and team accounts scoped to a campaign.
--
-- A release pooled the testers of every campaign, and every team account read every release:
-- in a national programme one city's mobility team read aggregates that mixed in another city's
-- testers, who had agreed to share with their own agglomeration. A release may now be made of one
-- campaign's testers (`campaign_id`; NULL: every campaign, as before), and a team account may be
-- scoped to one campaign (NULL: every release, a national team). The database enforces the scope:
-- the dashboard reads as `sillage_team` after setting `sillage.team_campaign` to the account's
-- campaign id, or to '*' for an account of every campaign; row-level security then shows only the
-- releases of that campaign (unset or empty: none), and their cells and zones.

ALTER TABLE released.releases ADD COLUMN campaign_id uuid REFERENCES sillage.campaigns (id);
-- The campaign's name when the release was made: the dashboard shows it without reading
-- `sillage.campaigns` (the team role has no access to the `sillage` schema).
ALTER TABLE released.releases ADD COLUMN campaign_name text;
ALTER TABLE released.releases ADD CHECK ((campaign_id IS NULL) = (campaign_name IS NULL));
-- A period is released once per scope (releasing it again would let noise be averaged away).
ALTER TABLE released.releases DROP CONSTRAINT releases_period_kind_period_start_key;
ALTER TABLE released.releases ADD CONSTRAINT releases_period_scope_key
    UNIQUE NULLS NOT DISTINCT (period_kind, period_start, campaign_id);

ALTER TABLE sillage.team_accounts ADD COLUMN campaign_id uuid REFERENCES sillage.campaigns (id);

CREATE FUNCTION released.in_team_scope(p_campaign uuid) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog AS $fn$
    SELECT CASE coalesce(current_setting('sillage.team_campaign', true), '')
        WHEN '' THEN false
        WHEN '*' THEN true
        ELSE p_campaign IS NOT NULL AND p_campaign::text = current_setting('sillage.team_campaign', true)
    END
$fn$;
REVOKE ALL ON FUNCTION released.in_team_scope(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION released.in_team_scope(uuid) TO sillage_team, sillage_app;

ALTER TABLE released.releases ENABLE ROW LEVEL SECURITY;
CREATE POLICY releases_app ON released.releases TO sillage_app USING (true) WITH CHECK (true);
CREATE POLICY releases_team ON released.releases FOR SELECT TO sillage_team
    USING (released.in_team_scope(campaign_id));

ALTER TABLE released.cells ENABLE ROW LEVEL SECURITY;
CREATE POLICY cells_app ON released.cells TO sillage_app USING (true) WITH CHECK (true);
CREATE POLICY cells_team ON released.cells FOR SELECT TO sillage_team
    USING (EXISTS (SELECT 1 FROM released.releases r WHERE r.id = release_id));

ALTER TABLE released.zones ENABLE ROW LEVEL SECURITY;
CREATE POLICY zones_app ON released.zones TO sillage_app USING (true) WITH CHECK (true);
CREATE POLICY zones_team ON released.zones FOR SELECT TO sillage_team
    USING (EXISTS (SELECT 1 FROM released.releases r WHERE r.id = release_id));
