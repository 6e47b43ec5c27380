-- gaffer schema, version 4: worker tokens (what a remote worker presents to take a project's
-- jobs; only the SHA-256 of the secret is kept, so a copy of the database gives no worker's
-- powers), and how many agent jobs each machine can run at once.

CREATE TABLE worker_tokens (
    id            INTEGER PRIMARY KEY,
    project       INTEGER NOT NULL REFERENCES projects(id),
    name          TEXT    NOT NULL,
    labels        TEXT    NOT NULL,          -- JSON array, sorted
    hash          TEXT    NOT NULL UNIQUE,   -- SHA-256 of the secret, lowercase hex
    created_ms    INTEGER NOT NULL,
    revoked_ms    INTEGER,
    last_used_ms  INTEGER                    -- written at most once a minute
);
CREATE INDEX worker_tokens_project ON worker_tokens (project, id);

ALTER TABLE hosts ADD COLUMN slots INTEGER;  -- agent jobs it can run at once, when it said
