//! How a run's processes are confined: the environment they start from and the sandbox around
//! them. Every backend that starts a process passes its command through
//! [`Confinement::apply`] just before spawning it, so no backend can forget either half.
//!
//! The environment: with [`Confinement::new`], gaffer's own environment is never inherited; the
//! process gets the base environment the engine computed (PATH, locale, a home of the agent's
//! own, the toolchain locations, `GAFFER_TASK`/`GAFFER_RUN`) and then whatever the backend sets
//! (its own configuration directory, the API key of its own agent, the agent's `env` table).
//! Nothing else of the daemon's environment — the server token, other agents' keys, the
//! user's other variables — reaches the run.
//!
//! The sandbox: when the host has one (see `gaffer_sandbox`), the command runs under bubblewrap
//! with the run's [`Policy`]; without one, it runs unconfined (and the engine says so loudly).

use gaffer_core::secrets::Redactor;
use gaffer_proc::{CommandSpec, ProcError};
use gaffer_sandbox::{Policy, Sandbox};
use std::borrow::Cow;
use std::sync::Arc;

/// The environment and sandbox of one run's processes. `Default` is no confinement at all: the
/// process inherits gaffer's environment and runs on the host (`gaffer agent run`, tests).
#[derive(Debug, Clone, Default)]
pub struct Confinement {
    /// The environment processes start from; `None`: gaffer's own, inherited.
    env: Option<Vec<(String, String)>>,
    sandbox: Option<(Arc<Sandbox>, Arc<Policy>)>,
    /// The secrets to redact from whatever the backend keeps of the run (its raw logs).
    redactor: Option<Redactor>,
    /// Ports of the run's private network and where each is relayed (`host:port`): the only
    /// places its processes can connect to (their model, gaffer's API).
    relays: Vec<(u16, String)>,
}

/// Stops a run's relays when dropped (when the run's process has ended).
#[derive(Debug, Default)]
pub struct Relays {
    cancel: Option<tokio_util::sync::CancellationToken>,
}

impl Drop for Relays {
    fn drop(&mut self) {
        if let Some(cancel) = &self.cancel {
            cancel.cancel();
        }
    }
}

impl Confinement {
    /// Processes start from `env` alone, inside `sandbox` under `policy` when both are given and
    /// the sandbox confines (a `none` sandbox only sets the environment).
    pub fn new(env: Vec<(String, String)>, sandbox: Option<(Arc<Sandbox>, Policy)>) -> Confinement {
        Confinement {
            env: Some(env),
            sandbox: sandbox
                .filter(|(s, _)| s.is_confined())
                .map(|(s, p)| (s, Arc::new(p))),
            redactor: None,
            relays: Vec::new(),
        }
    }

    /// The same, with processes in a private network where each `(port, target)` listens on
    /// `127.0.0.1:port` and is relayed to `target` (`host:port`) from gaffer's network; the
    /// sandbox's policy must say `Network::Private`.
    pub fn relaying(self, relays: Vec<(u16, String)>) -> Confinement {
        Confinement { relays, ..self }
    }

    /// Starts relaying the listeners the spawned process came with (see
    /// [`Confinement::relaying`]); they stop when the returned guard is dropped. A listener
    /// without a target is closed (its connections are refused).
    pub fn start_relays(&self, listeners: Vec<(u16, std::net::TcpListener)>) -> Relays {
        if listeners.is_empty() {
            return Relays::default();
        }
        let cancel = tokio_util::sync::CancellationToken::new();
        for (port, listener) in listeners {
            let Some((_, target)) = self.relays.iter().find(|(p, _)| *p == port) else {
                continue;
            };
            let (target, cancel) = (target.clone(), cancel.clone());
            tokio::spawn(async move {
                if let Err(e) = gaffer_sandbox::relay(listener, target.clone(), cancel).await {
                    tracing::warn!(%target, "cannot relay port {port}: {e}");
                }
            });
        }
        Relays {
            cancel: Some(cancel),
        }
    }

    /// The same, and what the backend keeps of the run (raw logs) is redacted with `redactor`.
    pub fn redacting(self, redactor: Redactor) -> Confinement {
        Confinement {
            redactor: Some(redactor),
            ..self
        }
    }

    /// `value` as the backend may keep it: every string in it redacted (see
    /// [`Redactor::scrub`]); unchanged without a redactor.
    pub fn scrub<T>(&self, value: &T) -> T
    where
        T: serde::Serialize + serde::de::DeserializeOwned + Clone,
    {
        match &self.redactor {
            Some(redactor) => redactor.scrub(value),
            None => value.clone(),
        }
    }

    /// `text` as the backend may keep it: every secret the run's redactor knows replaced.
    pub fn redact<'t>(&self, text: &'t str) -> Cow<'t, str> {
        match &self.redactor {
            Some(r) => r.redact(text),
            None => Cow::Borrowed(text),
        }
    }

    /// Whether the run's processes are inside a sandbox.
    pub fn is_sandboxed(&self) -> bool {
        self.sandbox.is_some()
    }

    /// The policy the run's processes are confined by, when sandboxed.
    pub fn policy(&self) -> Option<&Policy> {
        self.sandbox.as_ref().map(|(_, p)| p.as_ref())
    }

    /// The variable `name` of the base environment, if it sets one.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.env
            .as_ref()?
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `spec` as the run must start it: its environment is the base environment followed by
    /// what `spec` sets (which wins), and it runs inside the sandbox. A program that cannot be
    /// found is a spawn error here, as it would be unconfined (inside the sandbox it would only
    /// show as bwrap's exit status).
    pub fn apply(&self, mut spec: CommandSpec) -> Result<CommandSpec, ProcError> {
        if let Some(base) = &self.env {
            spec.env_clear = true;
            spec.env = base.iter().cloned().chain(spec.env).collect();
        }
        let Some((sandbox, policy)) = &self.sandbox else {
            return Ok(spec);
        };
        if policy.network() == gaffer_sandbox::Network::Private {
            spec.private_net = Some(gaffer_proc::PrivateNet::ports(
                self.relays.iter().map(|(port, _)| *port),
            ));
        }
        if let Err(source) = gaffer_proc::program_path(&spec) {
            return Err(ProcError::Spawn {
                program: spec.program.clone(),
                source,
            });
        }
        Ok(sandbox.wrap(spec, policy))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_base_environment_comes_first_and_replaces_gaffers() {
        let confine = Confinement::new(
            vec![
                ("PATH".into(), "/usr/bin:/bin".into()),
                ("A".into(), "base".into()),
            ],
            None,
        );
        let spec = confine
            .apply(CommandSpec::new("sh", "/").env("A", "mine"))
            .unwrap();
        assert!(spec.env_clear);
        assert_eq!(
            spec.env,
            [
                ("PATH".to_string(), "/usr/bin:/bin".to_string()),
                ("A".to_string(), "base".to_string()),
                ("A".to_string(), "mine".to_string()),
            ]
        );
        assert_eq!(confine.var("A"), Some("base"));
        assert!(!confine.is_sandboxed());
    }

    #[test]
    fn no_confinement_changes_nothing() {
        let spec = CommandSpec::new("sh", "/").env("A", "1");
        assert_eq!(Confinement::default().apply(spec.clone()).unwrap(), spec);
    }
}
