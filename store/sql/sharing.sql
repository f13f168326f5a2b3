-- Sharing: consents (changes and history), the release job, the privacy ledger, the released
-- tables (read by the dashboard under the `sillage_team` role), team accounts and sessions.

-- name: consents_for_update
-- The tester's consent rows, locked so a release deciding who takes part waits for the change.
SELECT purpose, terms_version, granted_at, revoked_at
FROM sillage.consents WHERE user_id = $1 ORDER BY purpose FOR UPDATE;

-- name: revoke_consent
WITH revoked AS (
    UPDATE sillage.consents SET revoked_at = $3
    WHERE user_id = $1 AND purpose = $2 AND revoked_at IS NULL
    RETURNING user_id, purpose, terms_version
)
INSERT INTO sillage.consent_events (user_id, purpose, action, terms_version, at)
SELECT user_id, purpose, 'revoke', terms_version, $3 FROM revoked
RETURNING id;

-- name: consent_history
SELECT purpose, action, terms_version, at FROM sillage.consent_events WHERE user_id = $1 ORDER BY at, id;

-- name: sharing_testers
-- Who may be in a release of a period ending at $1: share_aggregates granted before the period's
-- end and not revoked now; and, for a tester who revoked it once, since when it has held without a
-- break (the first grant after their last revocation): their trips before are never read. $2: only
-- the testers of that campaign (NULL: of every campaign).
SELECT u.id, u.role_name,
       (SELECT min(g.at) FROM sillage.consent_events g
        WHERE g.user_id = u.id AND g.purpose = 'share_aggregates' AND g.action = 'grant'
          AND g.at >= r.last_revoked) AS shares_since
FROM sillage.consents c JOIN sillage.users u ON u.id = c.user_id
CROSS JOIN LATERAL (SELECT max(e.at) AS last_revoked FROM sillage.consent_events e
                    WHERE e.user_id = u.id AND e.purpose = 'share_aggregates' AND e.action = 'revoke') r
WHERE c.purpose = 'share_aggregates' AND c.granted_at < $1 AND c.revoked_at IS NULL
  AND ($2::uuid IS NULL OR u.campaign_id = $2)
ORDER BY u.id;

-- name: still_sharing
-- Of the testers $1, those whose consent still holds, locked until the release commits: a
-- revocation made meanwhile waits, and takes effect from the next release.
SELECT user_id FROM sillage.consents
WHERE purpose = 'share_aggregates' AND user_id = ANY($1::uuid[]) AND revoked_at IS NULL
FOR SHARE;

-- name: still_carpooling
-- Of the testers $1 whose carpool corridors a release counted, those still consenting to carpool
-- matching, locked like still_sharing.
SELECT user_id FROM sillage.consents
WHERE purpose = 'carpool_matching' AND user_id = ANY($1::uuid[]) AND revoked_at IS NULL
FOR SHARE;

-- name: budget_spent
SELECT user_id, sum(epsilon) AS spent FROM sillage.privacy_ledger
WHERE user_id = ANY($1::uuid[]) AND spent_at >= $2
GROUP BY user_id;

-- name: release_exists
SELECT id FROM released.releases
WHERE period_kind = $1 AND period_start = $2 AND campaign_id IS NOT DISTINCT FROM $3;

-- name: released_in_other_scope
-- Whether the period was released in the other kind of scope: per campaign when $3 (pooled) is
-- true, pooled when it is false.
SELECT 1 FROM released.releases
WHERE period_kind = $1 AND period_start = $2 AND (campaign_id IS NULL) <> $3
LIMIT 1;

-- name: insert_release
INSERT INTO released.releases (period_kind, period_start, period_end, released_at, epsilon, k,
                               participants, caps, tables, zones_source, mechanism, campaign_id,
                               campaign_name)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10, $11, $12, $13)
RETURNING id;

-- name: insert_cell
INSERT INTO released.cells (release_id, table_name, dim_a, dim_b, dim_c, value) VALUES ($1, $2, $3, $4, $5, $6);

-- name: insert_zone
INSERT INTO released.zones (release_id, zone_id, name, geometry, centroid_lat, centroid_lon)
VALUES ($1, $2, $3, $4::jsonb, $5, $6);

-- name: insert_ledger
INSERT INTO sillage.privacy_ledger (user_id, release_id, epsilon, spent_at) VALUES ($1, $2, $3, $4);

-- name: ledger_users
SELECT user_id FROM sillage.privacy_ledger WHERE release_id = $1 ORDER BY user_id;

-- name: last_release_start
SELECT max(period_start) FROM released.releases
WHERE period_kind = $1 AND campaign_id IS NOT DISTINCT FROM $2;

-- name: list_releases
-- As the team: row-level security keeps the releases out of the account's scope (0032).
SELECT id, period_kind, period_start, period_end, released_at, epsilon, k, participants,
       caps::text AS caps, tables::text AS tables, zones_source, mechanism, campaign_id, campaign_name
FROM released.releases
WHERE ($1::text IS NULL OR period_kind = $1)
ORDER BY period_start DESC, period_kind, campaign_name NULLS FIRST
LIMIT $2;

-- name: release_cells
SELECT table_name, dim_a, dim_b, dim_c, value FROM released.cells
WHERE release_id = $1 AND ($2::text IS NULL OR table_name = $2)
ORDER BY table_name, dim_a, dim_b, dim_c;

-- name: release_zones
SELECT zone_id, name, geometry::text AS geometry, centroid_lat, centroid_lon
FROM released.zones WHERE release_id = $1 ORDER BY zone_id;

-- name: co2_trend
-- The newest $2 releases of a kind and of one scope ($3: a campaign, NULL: every campaign pooled),
-- oldest first (for the chart), with their CO2 summed over the published modes; NULL for a
-- release whose every mode_co2 cell was withheld, so that the chart shows the gap instead of
-- joining its neighbours.
SELECT period_start, period_end, co2_kg FROM (
    SELECT r.period_start, r.period_end, sum(c.value) AS co2_kg
    FROM released.releases r
    LEFT JOIN released.cells c ON c.release_id = r.id AND c.table_name = 'mode_co2'
    WHERE r.period_kind = $1 AND r.campaign_id IS NOT DISTINCT FROM $3
    GROUP BY r.id
    ORDER BY r.period_start DESC
    LIMIT $2
) newest
ORDER BY period_start;

-- name: campaign_stats
-- Per campaign only (never per person): enrolments, devices seen in the last 7 days, last upload.
-- $1: only that campaign (an admin of one campaign), NULL: every campaign.
SELECT c.id, c.name, c.invite_code, c.enrolment_open, c.created_at,
       count(DISTINCT u.id) AS enrolments,
       count(DISTINCT d.id) FILTER (
           WHERE d.revoked_at IS NULL AND d.last_seen_at > now() - interval '7 days') AS active_devices,
       max(d.last_seen_at) AS last_upload
FROM sillage.campaigns c
LEFT JOIN sillage.users u ON u.campaign_id = c.id
LEFT JOIN sillage.devices d ON d.user_id = u.id
WHERE $1::uuid IS NULL OR c.id = $1
GROUP BY c.id
ORDER BY c.created_at, c.name;

-- name: insert_team_account
-- Creates the account, or resets an existing one's role and password (enabling it again) and ends
-- its open sessions: a session opened with the old password must not outlive the reset.
-- $4: the campaign whose releases it reads (NULL: every campaign's); an existing account's is
-- changed only when $5 is true (a password reset keeps the account's scope). Returns the scope.
WITH account AS (
    INSERT INTO sillage.team_accounts AS t (email, role, password_hash, campaign_id) VALUES ($1, $2, $3, $4)
    ON CONFLICT (email) DO UPDATE SET role = EXCLUDED.role, password_hash = EXCLUDED.password_hash,
        campaign_id = CASE WHEN $5 THEN EXCLUDED.campaign_id ELSE t.campaign_id END, disabled_at = NULL
    RETURNING id, (xmax = 0) AS created, campaign_id
), ended AS (
    DELETE FROM sillage.team_sessions s USING account a WHERE s.account_id = a.id AND NOT a.created
)
SELECT a.id, a.created, c.name AS campaign FROM account a LEFT JOIN sillage.campaigns c ON c.id = a.campaign_id;

-- name: scope_team_account
-- Changes an account's scope ($2: a campaign, NULL: every campaign), its password and sessions kept:
-- the dashboard reads the scope from the account at every request.
UPDATE sillage.team_accounts SET campaign_id = $2 WHERE email = $1 RETURNING id;

-- name: team_account_by_email
SELECT a.id, a.email, a.role, a.password_hash, a.campaign_id, c.name AS campaign_name
FROM sillage.team_accounts a LEFT JOIN sillage.campaigns c ON c.id = a.campaign_id
WHERE a.email = $1 AND a.disabled_at IS NULL;

-- name: disable_team_account
-- Disables the account and ends its sessions at once; returns nothing if it was not active.
WITH disabled AS (
    UPDATE sillage.team_accounts SET disabled_at = $2
    WHERE email = $1 AND disabled_at IS NULL
    RETURNING id
), ended AS (
    DELETE FROM sillage.team_sessions s USING disabled WHERE s.account_id = disabled.id
)
SELECT id FROM disabled;

-- name: list_team_accounts
SELECT a.email, a.role, a.created_at, a.disabled_at, c.name AS campaign,
       count(s.token_sha256) FILTER (WHERE s.expires_at > $1) AS open_sessions
FROM sillage.team_accounts a LEFT JOIN sillage.team_sessions s ON s.account_id = a.id
LEFT JOIN sillage.campaigns c ON c.id = a.campaign_id
GROUP BY a.id, c.name ORDER BY a.email;

-- name: rehash_team_password
UPDATE sillage.team_accounts SET password_hash = $2 WHERE id = $1;

-- name: insert_team_session
INSERT INTO sillage.team_sessions (token_sha256, account_id, csrf_token, expires_at) VALUES ($1, $2, $3, $4);

-- name: team_session
SELECT a.id, a.email, a.role, a.campaign_id, c.name AS campaign_name, s.csrf_token
FROM sillage.team_sessions s JOIN sillage.team_accounts a ON a.id = s.account_id
LEFT JOIN sillage.campaigns c ON c.id = a.campaign_id
WHERE s.token_sha256 = $1 AND s.expires_at > $2 AND a.disabled_at IS NULL;

-- name: delete_team_session
DELETE FROM sillage.team_sessions WHERE token_sha256 = $1 OR expires_at <= $2;

-- name: take_login_token
-- One login attempt from the bucket $1 of $2 tokens refilled at $3 a second (`login_tokens`);
-- refused, and nothing taken, when less than one token is there. Atomic under concurrent logins:
-- the update locks the row. Returns whether it was refused, and the tokens left.
INSERT INTO sillage.login_throttle AS b (key_sha256, tokens, refused, at)
VALUES ($1, $2::float8 - 1, false, $4)
ON CONFLICT (key_sha256) DO UPDATE SET
    tokens = sillage.login_tokens(b.tokens, b.at, $2, $3, $4)
        - CASE WHEN sillage.login_tokens(b.tokens, b.at, $2, $3, $4) >= 1 THEN 1 ELSE 0 END,
    refused = sillage.login_tokens(b.tokens, b.at, $2, $3, $4) < 1,
    at = greatest(b.at, $4)
RETURNING refused, tokens;

-- name: give_back_login_token
-- An attempt that turned out not to count (the login succeeded, or the other bucket refused it).
UPDATE sillage.login_throttle SET tokens = least($2::float8, tokens + 1) WHERE key_sha256 = $1;

-- name: sweep_login_throttle
-- Buckets untouched since $1 (full again by then).
DELETE FROM sillage.login_throttle WHERE at < $1;

-- name: release_by_id
SELECT id, period_kind, period_start, period_end, released_at, epsilon, k, participants,
       caps::text AS caps, tables::text AS tables, zones_source, mechanism, campaign_id, campaign_name
FROM released.releases WHERE id = $1;

-- name: campaign_by_name
SELECT id, name FROM sillage.campaigns WHERE name = $1;

-- name: campaigns
-- Every campaign (the scheduler's releases by campaign), oldest first.
SELECT id, name FROM sillage.campaigns ORDER BY created_at, name;

-- name: set_team_scope
-- The releases the team role may read in this transaction (row-level security, migration 0032):
-- a campaign's id, or '*' for every release.
SELECT set_config('sillage.team_campaign', $1, true);
