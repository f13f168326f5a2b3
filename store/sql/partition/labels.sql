-- A tester's confirmed labels with the fixes they cover (runs inside the tester's partition).

-- name: labelled_fixes
-- With the mode each label's section showed when the tester answered, its probability, that
-- probability before calibration, the model version that gave it and why the app asked (NULL when
-- unknown), so that training weighs agreements as the history does and calibration fits on what
-- the model gave.
-- Not the labels of trips the tester hid: hiding keeps a trip out of everything shared. A section
-- lasts until the next one's first fix (sections tile their trip): that fix is the next section's,
-- not this label's.
-- The real (float4) columns go out as the decimals they were stored from (0.62, not 0.6200000047...).
SELECT l.id AS label_id, l.mode, l.shown_mode, l.shown_probability::numeric::float8 AS shown_probability,
       l.shown_uncalibrated::numeric::float8 AS shown_uncalibrated, l.shown_model_version,
       l.asked, l.audit_share::numeric::float8 AS audit_share, f.ts, f.lat, f.lon, f.accuracy_m, f.speed_mps,
       f.activity
FROM labels l JOIN fixes f ON f.ts >= l.started_at AND f.ts <= l.ended_at
WHERE NOT EXISTS (SELECT 1 FROM hidden_trips h WHERE h.started_at <= l.ended_at AND h.ended_at >= l.started_at)
  AND NOT (f.ts = l.ended_at AND EXISTS (SELECT 1 FROM sections s WHERE s.started_at = l.ended_at))
ORDER BY l.id, f.ts;
