-- Campaigns, testers, devices and consents: the shared `sillage` schema.

-- name: create_campaign
INSERT INTO sillage.campaigns (name, invite_code, fixes_retention_days, trips_retention_days)
VALUES ($1, $2, $3, $4)
RETURNING id, name, invite_code, created_at;

-- name: campaign_by_invite
SELECT id, name, enrolment_open FROM sillage.campaigns WHERE invite_code = $1;

-- name: provision_user
SELECT sillage.provision_user($1);

-- name: insert_user
INSERT INTO sillage.users (id, campaign_id, role_name) VALUES ($1, $2, $3);

-- name: insert_device
INSERT INTO sillage.devices (user_id, secret_sha256, label) VALUES ($1, $2, $3)
RETURNING id, created_at;

-- name: device_principal
SELECT d.id AS device_id, d.user_id, d.secret_sha256, d.revoked_at, d.last_seen_at, u.role_name,
       u.paused_at
FROM sillage.devices d JOIN sillage.users u ON u.id = d.user_id
WHERE d.id = $1;

-- name: touch_device
UPDATE sillage.devices SET last_seen_at = now() WHERE id = $1;

-- name: list_devices
SELECT id, label, created_at, last_seen_at, revoked_at
FROM sillage.devices WHERE user_id = $1 ORDER BY created_at, id;

-- name: active_devices_for_update
-- Locked in id order, so revocations of one tester's devices take turns and always see how many remain.
SELECT id FROM sillage.devices WHERE user_id = $1 AND revoked_at IS NULL ORDER BY id FOR UPDATE;

-- name: revoke_device
UPDATE sillage.devices SET revoked_at = now()
WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL
RETURNING id;

-- name: grant_consent
INSERT INTO sillage.consents (user_id, purpose, terms_version, granted_at)
VALUES ($1, $2, $3, $4)
ON CONFLICT (user_id, purpose) DO UPDATE
SET terms_version = EXCLUDED.terms_version, granted_at = EXCLUDED.granted_at, revoked_at = NULL;

-- name: consent_event
INSERT INTO sillage.consent_events (user_id, purpose, action, terms_version, at)
VALUES ($1, $2, $3, $4, $5);

-- name: list_consents
SELECT purpose, terms_version, granted_at, revoked_at
FROM sillage.consents WHERE user_id = $1 ORDER BY purpose;
