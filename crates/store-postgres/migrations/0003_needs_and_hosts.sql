-- gaffer schema, version 3 (PostgreSQL): what machine a job needs (its labels, a JSON array;
-- empty: any), and the machines that take jobs (daemons, workers): their labels and when they
-- were last seen.

ALTER TABLE jobs ADD COLUMN needs TEXT NOT NULL DEFAULT '[]';
-- A claimer without labels takes only jobs that need none: its claim walks these in claim order
-- (with the needs test outside the index, the planner sorted every claimable job instead).
CREATE INDEX jobs_claim_plain ON jobs (priority DESC, id)
    WHERE status IN ('queued', 'leased') AND needs = '[]';
CREATE INDEX jobs_claim_plain_kind ON jobs (kind, priority DESC, id)
    WHERE status IN ('queued', 'leased') AND needs = '[]';

CREATE TABLE hosts (
    name     TEXT    PRIMARY KEY,
    labels   TEXT    NOT NULL,          -- JSON array
    running  BIGINT  NOT NULL,          -- jobs it holds
    load     DOUBLE PRECISION,          -- one-minute load average, when known
    seen_ms  BIGINT  NOT NULL
);

-- Taking over a job marks its running runs lost: find them by job.
CREATE INDEX runs_job_running ON runs (job) WHERE status = 'running';
