//! One file per command; `run` parses the command line and dispatches.

mod act;
mod agent;
mod clean;
mod crew;
mod dashboard;
mod diff;
mod doctor;
mod down;
mod edit;
mod feed;
mod import;
mod init;
mod log;
mod mcp;
mod mock_llm;
mod plan;
mod pull;
mod queue;
mod revert;
mod status;
mod store;
mod task;
pub(crate) mod up;
mod usage;
mod worker_token;
mod workers;

use crate::cli::{
    AgentCommand, Cli, Command, QueueCommand, StoreCommand, TaskCommand, TokenCommand,
    WorkerCommand,
};
use crate::context::Context;
use crate::error::{CliError, CliResult, Kind};
pub use act::{attach_task, attached_lines, perform};
use clap::Parser;
use gaffer_api::Action;
use std::process::ExitCode;

pub fn run() -> CliResult<ExitCode> {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                Kind::Usage.code()
            } else {
                0
            };
            let _ = e.print();
            return Ok(ExitCode::from(code));
        }
    };
    init_tracing();
    let ctx = Context::from_cli(&cli)?;
    let Some(command) = cli.command else {
        // A person at a terminal gets the interactive shell; anything else, the status.
        if crate::shell::is_interactive() {
            return crate::shell::run(&ctx).map(|_| ExitCode::SUCCESS);
        }
        return status::run(&ctx, false).map(|_| ExitCode::SUCCESS);
    };
    match command {
        Command::Init(args) => init::run(&ctx, &args),
        Command::Doctor(args) => doctor::run(&ctx, &args),
        Command::Up(args) => up::run(&ctx, &args),
        Command::Down(args) => down::run(&ctx, args.clean),
        Command::Clean(args) => clean::run(&ctx, args.json),
        Command::Store(StoreCommand::Migrate(args)) => store::migrate(&ctx, &args),
        Command::Store(StoreCommand::Copy(args)) => store::copy(&ctx, &args),
        Command::Dashboard => dashboard::run(&ctx),
        Command::Task(TaskCommand::Add(args)) => task::add(&ctx, *args),
        Command::Task(TaskCommand::Import(args)) => import::run(&ctx, &args),
        Command::Plan(args) => plan::run(&ctx, &args),
        Command::Task(TaskCommand::List(args)) => task::list(&ctx, &args),
        Command::Task(TaskCommand::Show(args)) => task::show(&ctx, &args),
        Command::Task(TaskCommand::Cancel(args)) => act::run(
            &ctx,
            args.id,
            Action::Cancel {
                reason: Some(args.reason),
            },
        ),
        Command::Task(TaskCommand::Retry(args)) => {
            act::run(&ctx, args.id, Action::Retry { fresh: args.fresh })
        }
        Command::Task(TaskCommand::Edit(args)) => edit::run(&ctx, *args),
        Command::Task(TaskCommand::Budget(args)) => crew::set_budget(&ctx, args.id, &args.usd),
        Command::Budget(args) => crew::budget(&ctx, &args),
        Command::Accept(args) => crew::accept(&ctx, &args),
        Command::Decline(args) => crew::decline(&ctx, &args),
        Command::Status(args) => status::run(&ctx, args.json),
        Command::Workers(args) => workers::run(&ctx, args.json),
        Command::Worker(args) => match args.command {
            Some(WorkerCommand::Token(TokenCommand::Create { labels, name, json })) => {
                worker_token::create(&ctx, &labels, name.as_deref(), json)
            }
            Some(WorkerCommand::Token(TokenCommand::List { json })) => {
                worker_token::list(&ctx, json)
            }
            Some(WorkerCommand::Token(TokenCommand::Revoke { id })) => {
                worker_token::revoke(&ctx, id)
            }
            None => match args.server {
                Some(server) => crate::worker::run(
                    &ctx,
                    &crate::worker::WorkerRun {
                        server,
                        token: args.token,
                        labels: args.labels,
                        dir: args.dir,
                        remote: args.remote,
                    },
                ),
                None => Err(CliError::new(
                    Kind::Usage,
                    "`gaffer worker` needs the daemon to work for (--server URL)",
                )
                .hint(
                    "`gaffer worker --server http://host:7420` with GAFFER_WORKER_TOKEN set runs \
                     a worker; `gaffer worker token create --label gpu` makes its token",
                )),
            },
        },
        Command::Queue(args) => match args.command {
            Some(QueueCommand::Move(args)) => queue::move_task(&ctx, &args),
            None => queue::run(&ctx, args.json),
        },
        Command::Revert(args) => revert::run(&ctx, &args),
        Command::Feed(args) => feed::run(&ctx, &args),
        Command::Log(args) => log::run(&ctx, &args),
        Command::Diff(args) => diff::run(&ctx, args.id),
        Command::Pending(args) => status::pending(&ctx, args.json),
        Command::Approve(args) => act::run(&ctx, args.id, Action::Approve),
        Command::Reject(args) => act::run(
            &ctx,
            args.id,
            Action::Reject {
                reason: args.reason,
                cancel: args.cancel,
            },
        ),
        Command::Answer(args) => act::run(&ctx, args.id, Action::Answer { text: args.text }),
        Command::Say(args) => act::say(&ctx, args.id, args.text.join(" ")),
        Command::Attach(args) => act::attach(&ctx, args.id, args.json),
        Command::Release(args) => act::release(&ctx, args.id),
        Command::Pull => pull::run(&ctx),
        Command::Usage(args) => usage::run(&ctx, &args),
        Command::Agent(AgentCommand::Run(args)) => agent::run(&ctx, &args),
        Command::MockLlm(args) => mock_llm::run(&args),
        Command::Demo(args) => crate::demo::run(&args),
        Command::Mcp(args) => mcp::run(&ctx, &args),
    }
    .map(|_| ExitCode::SUCCESS)
}

/// gaffer's own log goes to standard error, filtered by `GAFFER_LOG` (default: warnings).
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("GAFFER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal: not in daemon.log, pipes or captured output.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// A current-thread runtime for commands that talk HTTP or run the engine briefly.
pub fn runtime() -> CliResult<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::new(Kind::Internal, format!("cannot start the runtime: {e}")))
}

/// Parses a task id given on the command line.
pub fn task_id(id: i64) -> gaffer_core::TaskId {
    gaffer_core::TaskId(id)
}
