//! `gaffer.toml`: the project's committed configuration, resolved once, at the edge, into typed
//! [`Settings`].
//!
//! Three layers, lowest first: the file, then `GAFFER_*` environment variables, then command-line
//! flags (see [`Overrides`]). Every section of the file is optional and every key has a default,
//! except `verify.command`, which the pipeline needs before it can merge anything (see
//! [`Settings::verify_command`]).
//!
//! ```
//! use std::path::Path;
//!
//! let settings = gaffer_config::parse_str(
//!     "[verify]\ncommand = \"cargo test\"\n\n[engine]\nconcurrency = 8\n",
//!     Path::new("/src/myproj/gaffer.toml"),
//! )?;
//! assert_eq!(settings.project.name, "myproj");
//! assert_eq!(settings.engine.concurrency, 8);
//! assert_eq!(settings.verify_command()?, "cargo test");
//! # Ok::<(), gaffer_config::ConfigError>(())
//! ```
//!
//! Invalid configuration is an error that names the file, the line and the key, and says how to
//! fix it; a value set by a variable or flag is blamed on that variable or flag:
//!
//! ```text
//! gaffer.toml:7: engine.heartbeat = "40s" must be shorter than engine.lease (30s)
//!   hint: lower engine.heartbeat or raise engine.lease
//! ```
//!
//! Every key with its default and meaning is in `gaffer.example.toml` next to this crate's
//! manifest; [`init_template`] writes a commented file for a new project, using what [`detect`]
//! finds in its directory.
//!
//! This crate reads only the configuration file it is given and, for detection, the directory it
//! is given. It never looks at the process environment itself: the caller passes the variables.

mod agent;
mod agent_settings;
mod backends;
mod budget;
mod crew;
mod detect;
mod document;
mod duration;
mod error;
mod file;
mod init_crew;
mod labels;
mod notify;
mod overrides;
mod prices;
mod privacy;
mod queue;
mod resolve;
mod risk;
mod sandbox;
mod scope;
mod secrets;
mod settings;
mod source;
mod store;
mod suggest;
mod template;

use std::path::Path;

pub use agent_settings::{
    AgentSettings, BackendSettings, COMMAND_PLACEHOLDERS, ClaudeSettings, CodexSandbox,
    CodexSettings, CommandSettings, Credentials, DEFAULT_RETRIES, HttpSettings, MAX_TURNS_RANGE,
    PermissionMode, RETRIES_RANGE, ScriptedSettings,
};
pub use backends::{ANTHROPIC, BACKENDS, Backend, BackendInfo, OPENAI, Provider, Runs};
pub use budget::{BudgetSettings, DEFAULT_IDLE_USD};
pub use detect::{Detected, detect};
pub use duration::format_duration;
pub use error::ConfigError;
pub use init_crew::{InitCrew, LocalModel};
pub use notify::{
    CommandHookSettings, DEFAULT_BATCH, DEFAULT_COMMAND_TIMEOUT, NotifyEvent, NotifySettings,
    WebhookKind, WebhookSettings,
};
pub use overrides::{ENV_PREFIX, ENV_SHORTCUTS, Overrides, env_var_name, flag_name};
pub use prices::Price;
pub use privacy::{PrivacyMode, PrivacySettings};
pub use queue::{
    AUTO_BATCH_MAX, BATCH_RANGE, HEAVY_SLOTS_RANGE, HostSettings, MAX_CANDIDATES_RANGE, QueueBatch,
    QueueSettings, QueueStrategy, RecentOutcomes, default_heavy_slots,
};
pub use risk::{LabelRiskRule, PathRiskRule, Risk, RiskSettings, compile_glob};
pub use sandbox::{
    HostsSettings, NetworkSettings, SandboxModeSetting, SandboxSettings, host_and_port,
};
pub use scope::{ScopeEnforce, ScopeSettings};
pub use secrets::SecretsSettings;
pub use settings::{
    DEFAULT_PORT, DEFAULT_PROJECT_NAME, DEFAULT_TARGET, DEFAULT_TOKEN_ENV, EngineSettings,
    ExtraReviewer, LimitSettings, ProjectSettings, ReviewPathRule, ReviewSettings, RoleSettings,
    ServerSettings, Settings, VerifySettings,
};
pub use store::{StoreSettings, StoreUrl};
pub use template::{init_template, init_template_with_crew};

use source::{Layer, Source};

/// The file name gaffer looks for at the repository root.
pub const FILE_NAME: &str = "gaffer.toml";

/// Loads the settings: the file at `path` (if given and present), then `env`, then `flags`.
///
/// A missing file is not an error: the result is the defaults with the overrides applied, and
/// [`Settings::source`] is `None`. The project name defaults to the name of the directory `path`
/// is in, even when the file does not exist.
pub fn load(
    path: Option<&Path>,
    env: &Overrides,
    flags: &Overrides,
) -> Result<Settings, ConfigError> {
    let text = match path {
        Some(path) => match std::fs::read_to_string(path) {
            Ok(text) => Some(text),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(ConfigError::Io {
                    path: path.to_path_buf(),
                    source,
                });
            }
        },
        None => None,
    };
    let layers: Vec<Layer> = env
        .values
        .iter()
        .map(|(key, value)| (env_var_name(key), key, value))
        .chain(
            flags
                .values
                .iter()
                .map(|(key, value)| (flag_name(key), key, value)),
        )
        .map(|(source_name, key, value)| Layer {
            source_name,
            key: key.trim().to_string(),
            value: value.clone(),
        })
        .collect();
    let file = path.zip(text.as_deref());
    resolve_layers(file, &layers, project_name_for(path))
}

/// Parses configuration text as if read from `origin`, with no overrides.
pub fn parse_str(text: &str, origin: &Path) -> Result<Settings, ConfigError> {
    resolve_layers(Some((origin, text)), &[], project_name_for(Some(origin)))
}

/// The settings of an empty `gaffer.toml`.
pub fn default_settings() -> Settings {
    Settings::default()
}

fn resolve_layers(
    file: Option<(&Path, &str)>,
    layers: &[Layer],
    default_name: String,
) -> Result<Settings, ConfigError> {
    let source = Source::new(file, layers);
    let raw = document::parse(&source)?;
    resolve::resolve(raw, &source, default_name)
}

/// The name of the directory holding the configuration file, or [`DEFAULT_PROJECT_NAME`].
fn project_name_for(path: Option<&Path>) -> String {
    let Some(path) = path else {
        return DEFAULT_PROJECT_NAME.to_string();
    };
    let absolute;
    let path = if path.parent().is_some_and(|p| p.as_os_str().is_empty()) {
        absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        absolute.as_path()
    } else {
        path
    };
    path.parent()
        .and_then(Path::file_name)
        .map(|name| name.to_string_lossy().into_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| DEFAULT_PROJECT_NAME.to_string())
}
