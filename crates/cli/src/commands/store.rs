//! `gaffer store`: the board's database. `migrate` brings it to this build's schema; `copy`
//! moves a board kept in SQLite (this project's state directory) to PostgreSQL, without loss,
//! so that several daemons and machines can share it.

use crate::cli::{StoreCopyArgs, StoreMigrateArgs};
use crate::context::Context;
use crate::daemon::{self, Running};
use crate::error::{CliError, CliResult, Kind};
use gaffer_config::StoreUrl;
use gaffer_core::Seq;
use gaffer_engine::StatePaths;
use gaffer_store::{EventFilter, SqliteStore, Store, UsageTotals};
use gaffer_store_postgres::PgStore;

/// Events moved per transaction by `copy`.
const PAGE: usize = 1000;

pub fn migrate(ctx: &Context, args: &StoreMigrateArgs) -> CliResult<()> {
    let settings = ctx.settings()?;
    let url = match &args.url {
        Some(url) => Some(parse_url(url)?),
        None => settings.store.url.clone(),
    };
    match url {
        Some(url) => {
            let schema = gaffer_engine::store::pg_options(&settings).schema;
            let report = gaffer_store_postgres::migrate_schema(url.expose(), &schema)?;
            if report.from == report.to {
                outln!(
                    "{url}: schema {} is at version {} (nothing to do)",
                    report.schema,
                    report.to
                )?;
            } else {
                outln!(
                    "{url}: schema {} migrated from version {} to {}",
                    report.schema,
                    report.from,
                    report.to
                )?;
            }
        }
        None => {
            let paths = sqlite_paths(ctx, &settings)?;
            std::fs::create_dir_all(paths.root())?;
            // Opening migrates (and refuses a file a newer gaffer wrote).
            SqliteStore::open_default(&paths.database())?;
            outln!(
                "{}: at version {}",
                paths.database().display(),
                SqliteStore::schema_version()
            )?;
        }
    }
    Ok(())
}

pub fn copy(ctx: &Context, args: &StoreCopyArgs) -> CliResult<()> {
    let settings = ctx.settings()?;
    let to = parse_url(&args.to)?;
    let paths = sqlite_paths(ctx, &settings)?;
    let file = paths.database();
    if !file.is_file() {
        return Err(CliError::new(
            Kind::NotFound,
            format!(
                "there is no board to copy: {} does not exist",
                file.display()
            ),
        )
        .hint("the board is created by the first `gaffer up` or `gaffer task add`"));
    }
    if daemon::read(&paths).is_some_and(|d| d.is_alive()) {
        return Err(CliError::new(
            Kind::Daemon,
            "the daemon is running on this board: it would change it during the copy",
        )
        .hint("stop it with `gaffer down`, copy, then start it again on the new store"));
    }
    // On a shared board the project is known by its remote's URL, not by this clone's path
    // (every daemon has a clone of its own): the copy renames it so.
    let git = gaffer_git::Git::open(ctx.dir())?;
    let root = gaffer_engine::main_worktree(&git)?;
    let local = gaffer_engine::project_key(&git, &settings, &root, false)?;
    if settings.project.remote.is_none() {
        return Err(CliError::new(
            Kind::Config,
            "a board shared in PostgreSQL needs project.remote: every daemon and worker moves \
             code through it, and it names the project",
        )
        .hint("set project.remote in gaffer.toml (e.g. remote = \"origin\"), then copy"));
    }
    let shared = gaffer_engine::project_key(&git, &settings, &root, true)?;
    let from = SqliteStore::open_default(&file)?;
    let dest = PgStore::open_with(
        to.expose(),
        &gaffer_engine::store::pg_options(&settings),
        std::sync::Arc::new(gaffer_store::SystemClock),
    )?;
    let mut rows = from.export_rows()?;
    for project in &mut rows.projects {
        if project.root == local {
            project.root = shared.clone();
        }
    }
    dest.import_rows(&rows).map_err(|e| match e {
        gaffer_store::StoreError::NotEmpty(what) => CliError::new(
            Kind::Conflict,
            format!("{to} already holds a board ({what}); nothing was copied"),
        )
        .hint("copy into an empty database, or into a schema of its own: [store] schema = \"name\" (or GAFFER_STORE__SCHEMA)"),
        other => other.into(),
    })?;
    // From here a failure leaves part of the board in the database: say how to start again.
    let partial = |e: CliError| {
        let hint = format!(
            "{to} now holds part of the board: drop and recreate that database (or its schema) \
             before copying again; {} is untouched",
            file.display()
        );
        CliError::new(e.kind, format!("the copy stopped halfway: {}", e.message)).hint(hint)
    };
    let mut after = Seq(0);
    let mut moved = 0usize;
    loop {
        let page = from
            .events_after(after, PAGE, &EventFilter::default())
            .map_err(|e| partial(e.into()))?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        dest.import_events(&page).map_err(|e| partial(e.into()))?;
        moved += page.len();
    }
    check_same(&rows, &from, &dest).map_err(partial)?;
    outln!(
        "copied {} to {to}: {} project(s), {} task(s), {} run(s), {} job(s), {} worker \
         token(s), {moved} event(s)",
        file.display(),
        rows.projects.len(),
        rows.tasks.len(),
        rows.runs.len(),
        rows.jobs.len(),
        rows.worker_tokens.len(),
    )?;
    outln!(
        "next: set [store] url in gaffer.toml (or GAFFER_STORE__URL) to that URL and start \
         `gaffer up`; {} stays as it was",
        file.display()
    )?;
    Ok(())
}

/// Reads both boards back: the same rows (projects as renamed), the same last event, the same
/// usage.
fn check_same(copied: &gaffer_store::BoardRows, from: &SqliteStore, to: &PgStore) -> CliResult<()> {
    let a = (from.last_seq()?, usage(from)?);
    let b = (to.export_rows()?, to.last_seq()?, usage(to)?);
    let same = copied.tasks == b.0.tasks
        && copied.runs == b.0.runs
        && copied.jobs == b.0.jobs
        && copied.projects == b.0.projects
        && copied.worker_tokens == b.0.worker_tokens
        && a.0 == b.1
        && a.1 == b.2;
    if same {
        return Ok(());
    }
    Err(CliError::new(
        Kind::Internal,
        "the copy does not read back as the original board",
    )
    .hint("report this; the SQLite board is untouched"))
}

fn usage(store: &dyn Store) -> CliResult<UsageTotals> {
    Ok(store.usage_totals(None)?)
}

fn parse_url(url: &str) -> CliResult<StoreUrl> {
    StoreUrl::parse(url).map_err(|message| {
        CliError::new(Kind::Usage, message)
            .hint("give a PostgreSQL URL, e.g. postgres://gaffer@db-host:5432/gaffer")
    })
}

/// Where this project's SQLite board lives (the state directory), without opening the store
/// the settings choose.
fn sqlite_paths(ctx: &Context, settings: &gaffer_config::Settings) -> CliResult<StatePaths> {
    let git = gaffer_git::Git::open(ctx.dir())?;
    Ok(StatePaths::resolve(&git, settings))
}
