-- A tester's confirmed labels with the fixes they cover (runs inside the tester's partition).

-- name: labelled_fixes
SELECT l.id AS label_id, l.mode, f.ts, f.lat, f.lon, f.accuracy_m, f.speed_mps, f.activity
FROM labels l JOIN fixes f ON f.ts >= l.started_at AND f.ts <= l.ended_at
ORDER BY l.id, f.ts;
