-- gaffer schema, version 1.
-- Timestamps are milliseconds since the Unix epoch. JSON columns hold serde_json text.

CREATE TABLE projects (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    root        TEXT    NOT NULL UNIQUE,
    target      TEXT    NOT NULL,
    created_ms  INTEGER NOT NULL
);

CREATE TABLE tasks (
    id          INTEGER PRIMARY KEY,
    project     INTEGER NOT NULL REFERENCES projects(id),
    title       TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    priority    INTEGER NOT NULL,
    labels      TEXT    NOT NULL,          -- JSON array of strings
    parent      INTEGER REFERENCES tasks(id),
    blocked_by  TEXT    NOT NULL,          -- JSON array of task ids (also in task_deps)
    write_scope TEXT    NOT NULL,          -- JSON array of globs
    read_scope  TEXT    NOT NULL,          -- JSON array of globs
    budget_usd  REAL,
    branch      TEXT    NOT NULL,
    plan        TEXT,                      -- JSON, the planner's structured plan
    state       TEXT    NOT NULL,          -- JSON TaskState, the machine's truth
    status      TEXT    NOT NULL,          -- state.status, copied for filtering
    version     INTEGER NOT NULL,
    created_ms  INTEGER NOT NULL,
    updated_ms  INTEGER NOT NULL
);
CREATE INDEX tasks_project_status ON tasks(project, status);
CREATE INDEX tasks_status ON tasks(status);
CREATE INDEX tasks_parent ON tasks(parent) WHERE parent IS NOT NULL;

-- The dependency graph, both ways: "what blocks X" and "what does X unblock".
CREATE TABLE task_deps (
    task        INTEGER NOT NULL REFERENCES tasks(id),
    depends_on  INTEGER NOT NULL REFERENCES tasks(id),
    PRIMARY KEY (task, depends_on)
) WITHOUT ROWID;
CREATE INDEX task_deps_depends_on ON task_deps(depends_on);

CREATE TABLE jobs (
    id               INTEGER PRIMARY KEY,
    project          INTEGER NOT NULL REFERENCES projects(id),
    task             INTEGER REFERENCES tasks(id),
    kind             TEXT    NOT NULL,     -- JobSpec::kind(), for routing
    spec             TEXT    NOT NULL,     -- JSON JobSpec
    priority         INTEGER NOT NULL,
    status           TEXT    NOT NULL,     -- queued | leased | done | failed | cancelled
    attempts         INTEGER NOT NULL DEFAULT 0,
    max_attempts     INTEGER NOT NULL,
    lease_owner      TEXT,
    lease_expires_ms INTEGER,
    process          TEXT,                 -- JSON, the process running it
    error            TEXT,
    exhausted        INTEGER NOT NULL DEFAULT 0,  -- failed by running out of attempts
    acknowledged     INTEGER NOT NULL DEFAULT 0,  -- ... and the engine has dealt with it
    created_ms       INTEGER NOT NULL,
    updated_ms       INTEGER NOT NULL
);
-- Claiming: the best job of one kind, or of any kind, in one index seek.
CREATE INDEX jobs_claim_kind ON jobs(status, kind, priority DESC, id);
CREATE INDEX jobs_claim_any ON jobs(status, priority DESC, id);
CREATE INDEX jobs_task ON jobs(task, status) WHERE task IS NOT NULL;
CREATE INDEX jobs_exhausted ON jobs(id) WHERE exhausted = 1 AND acknowledged = 0;

CREATE TABLE runs (
    id            INTEGER PRIMARY KEY,
    project       INTEGER NOT NULL REFERENCES projects(id),
    task          INTEGER NOT NULL REFERENCES tasks(id),
    job           INTEGER REFERENCES jobs(id),
    role          TEXT    NOT NULL,
    tier          INTEGER NOT NULL,
    agent         TEXT    NOT NULL,
    backend       TEXT    NOT NULL,
    model         TEXT    NOT NULL,
    worktree      TEXT    NOT NULL,
    session_id    TEXT,
    status        TEXT    NOT NULL,        -- running | succeeded | failed | lost | cancelled
    outcome       TEXT,
    input_tokens  INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cached_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd      REAL    NOT NULL DEFAULT 0,
    started_ms    INTEGER NOT NULL,
    ended_ms      INTEGER
);
CREATE INDEX runs_task ON runs(task);
CREATE INDEX runs_project ON runs(project);
CREATE INDEX runs_running ON runs(task) WHERE status = 'running';

-- The append-only log. AUTOINCREMENT: a sequence number is never reused, even after the
-- newest rows are gone, so a reader's cursor always means the same thing.
CREATE TABLE events (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms   INTEGER NOT NULL,
    project INTEGER,
    task    INTEGER,
    run     INTEGER,
    kind    TEXT    NOT NULL,
    data    TEXT    NOT NULL               -- JSON
);
CREATE INDEX events_task ON events(task, seq) WHERE task IS NOT NULL;
CREATE INDEX events_run ON events(run, seq) WHERE run IS NOT NULL;
CREATE INDEX events_project ON events(project, seq) WHERE project IS NOT NULL;
