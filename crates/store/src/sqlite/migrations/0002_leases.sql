-- gaffer schema, version 2: named leases (who drives a project's merge queue when several
-- daemons share one board). A lease is held while expires_ms >= now, as a job's is.

CREATE TABLE leases (
    name       TEXT    PRIMARY KEY,
    owner      TEXT    NOT NULL,
    expires_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
) WITHOUT ROWID;
