//! What the `openai` and `anthropic` backends share: checking the configuration and starting
//! a run of the agent loop.

use crate::event::{RunHandle, RunRequest};
use crate::http::agent_loop::Run;
use crate::http::confine::Worktree;
use crate::http::options::HttpAgentOptions;
use crate::http::privacy::check_local;
use crate::http::provider::Provider;
use crate::http::session;
use crate::http::tools::ToolContext;
use crate::registry::AgentError;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// `run_command`'s timeout when the model gives none.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);
/// Events buffered between the run and its reader.
const EVENT_BUFFER: usize = 256;

/// A provider with its options and HTTP client.
pub(crate) struct HttpBackend {
    provider: Arc<dyn Provider>,
    options: Arc<HttpAgentOptions>,
    http: reqwest::Client,
}

impl HttpBackend {
    pub fn new(
        provider: Arc<dyn Provider>,
        options: HttpAgentOptions,
    ) -> Result<HttpBackend, AgentError> {
        let name = provider.name();
        let url = reqwest::Url::parse(&options.base_url).map_err(|e| {
            AgentError::Start(format!(
                "the {name} agent's base URL `{}` is not a valid URL: {e}",
                options.base_url
            ))
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(AgentError::Start(format!(
                "the {name} agent's base URL `{}` must start with http:// or https://",
                options.base_url
            )));
        }
        let mut builder = reqwest::Client::builder()
            .connect_timeout(options.request_timeout.min(Duration::from_secs(30)));
        if options.privacy_local {
            // A proxy from the environment could carry local traffic off the machine.
            builder = builder.no_proxy();
        }
        let http = builder
            .build()
            .map_err(|e| AgentError::Start(format!("cannot set up the HTTP client: {e}")))?;
        Ok(HttpBackend {
            provider,
            options: Arc::new(options),
            http,
        })
    }

    pub fn options(&self) -> &HttpAgentOptions {
        &self.options
    }

    pub fn start(
        &self,
        request: RunRequest,
        cancel: CancellationToken,
    ) -> Result<RunHandle, AgentError> {
        let name = self.provider.name();
        if self.options.privacy_local {
            check_local(&self.options.base_url).map_err(|reason| {
                AgentError::Start(format!(
                    "privacy = \"local\" refuses the {name} agent's endpoint {}: {reason}",
                    self.options.base_url
                ))
            })?;
        }
        let model = if request.model.is_empty() {
            self.options.model.clone()
        } else {
            request.model.clone()
        };
        if model.is_empty() {
            return Err(AgentError::Start(format!(
                "the {name} agent has no model; set one in its configuration"
            )));
        }
        if let Some(id) = &request.resume_session
            && !session::valid_id(id)
        {
            return Err(AgentError::Start(format!(
                "cannot resume `{id}`: not a session id of the {name} backend"
            )));
        }
        let worktree = Worktree::open(&request.worktree).map_err(|e| {
            AgentError::Start(format!(
                "cannot open the worktree {}: {e}",
                request.worktree.display()
            ))
        })?;
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            AgentError::Start("the HTTP agents must be started inside a Tokio runtime".into())
        })?;
        let (events, rx) = mpsc::channel(EVENT_BUFFER);
        let tools = ToolContext {
            worktree,
            env: request.env.clone(),
            cancel: cancel.clone(),
            command_timeout: COMMAND_TIMEOUT,
            confine: request.confine.clone(),
        };
        let (inbox, said) = crate::Inbox::channel();
        let run = Run {
            said: Some(said),
            provider: Arc::clone(&self.provider),
            options: Arc::clone(&self.options),
            http: self.http.clone(),
            model,
            request,
            tools,
            events,
        };
        runtime.spawn(run.execute(cancel));
        Ok(RunHandle {
            events: rx,
            process: None,
            inbox: Some(inbox),
        })
    }
}
