-- Testers who consent to their confirmed labels being used to train the mode model.

-- name: research_testers
SELECT u.id, u.role_name
FROM sillage.users u JOIN sillage.consents c ON c.user_id = u.id
WHERE c.purpose = 'research_labels' AND c.revoked_at IS NULL
ORDER BY u.created_at, u.id;
