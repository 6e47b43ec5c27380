-- gaffer schema, version 3: what machine a job needs (its labels, a JSON array; empty: any),
-- and the machines that take jobs (daemons, workers): their labels and when they were last seen.

ALTER TABLE jobs ADD COLUMN needs TEXT NOT NULL DEFAULT '[]';

CREATE TABLE hosts (
    name     TEXT    PRIMARY KEY,
    labels   TEXT    NOT NULL,          -- JSON array
    running  INTEGER NOT NULL,          -- jobs it holds
    load     REAL,                      -- one-minute load average, when known
    seen_ms  INTEGER NOT NULL
) WITHOUT ROWID;

-- Taking over a job marks its running runs lost: find them by job.
CREATE INDEX runs_job_running ON runs (job) WHERE status = 'running';
