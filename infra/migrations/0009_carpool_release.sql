-- Carpool potential in the sharing release (issue 8, "for the agglomeration").
--
-- Two released tables join the others in `released.cells`: `carpool_matches` (potential matches)
-- and `carpool_co2` (kg CO2e a year that shared journeys could save), each keyed by corridor
-- (origin zone, destination zone) and departure-time band. The band is a third dimension,
-- `dim_c` ('' for every other table). Same schema, same grants: `sillage_team` reads them like
-- the other released tables and nothing more.

ALTER TABLE released.cells ADD COLUMN dim_c text NOT NULL DEFAULT '';

ALTER TABLE released.cells DROP CONSTRAINT cells_pkey;
ALTER TABLE released.cells ADD PRIMARY KEY (release_id, table_name, dim_a, dim_b, dim_c);

ALTER TABLE released.cells DROP CONSTRAINT cells_table_name_check;
ALTER TABLE released.cells ADD CONSTRAINT cells_table_name_check CHECK (table_name IN (
    'mode_trips', 'mode_km', 'mode_co2', 'trips_by_hour', 'trips_by_weekday', 'od_flows',
    'avg_km_by_mode', 'carpool_matches', 'carpool_co2'));
