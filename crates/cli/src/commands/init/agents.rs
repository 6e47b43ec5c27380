//! Which agents this machine already has: the `claude` and `codex` CLIs on `PATH`, and a local
//! OpenAI-compatible server on its usual port (Ollama at `OLLAMA_HOST` or 11434, LM Studio at
//! 1234) with the models it lists.

use crate::commands::doctor::locate;
use gaffer_config::{InitCrew, LocalModel};
use std::path::Path;
use std::time::Duration;

/// How long a local server may take to answer (it is on this machine, or not there at all).
const PROBE_TIMEOUT: Duration = Duration::from_millis(800);

pub fn find(root: &Path) -> InitCrew {
    let path = std::env::var_os("PATH");
    InitCrew {
        claude: locate("claude", root, path.as_deref()).is_some(),
        codex: locate("codex", root, path.as_deref()).is_some(),
        local: local_server(),
    }
}

/// The first local server that answers `GET /v1/models` with a model.
fn local_server() -> Option<LocalModel> {
    let ollama = std::env::var("OLLAMA_HOST")
        .ok()
        .filter(|h| !h.trim().is_empty())
        .map(|h| {
            let h = h.trim().trim_end_matches('/');
            let url = if h.starts_with("http://") || h.starts_with("https://") {
                h.to_string()
            } else {
                format!("http://{h}")
            };
            // Ollama's own default port when OLLAMA_HOST names only a host (`0.0.0.0`).
            let authority = url.split_once("://").map_or("", |(_, rest)| rest);
            if authority.contains(':') {
                url
            } else {
                format!("{url}:11434")
            }
        })
        .unwrap_or_else(|| "http://127.0.0.1:11434".to_string());
    let candidates = [
        (ollama, "Ollama"),
        ("http://127.0.0.1:1234".to_string(), "LM Studio"),
    ];
    let runtime = crate::commands::runtime().ok()?;
    let client = reqwest::Client::builder()
        .timeout(PROBE_TIMEOUT)
        .no_proxy()
        .build()
        .ok()?;
    runtime.block_on(async {
        for (origin, server) in candidates {
            let base_url = format!("{origin}/v1");
            let Ok(response) = client.get(format!("{base_url}/models")).send().await else {
                continue;
            };
            let Ok(body) = response.json::<serde_json::Value>().await else {
                continue;
            };
            let model = body["data"]
                .as_array()
                .and_then(|models| models.iter().find_map(|m| m["id"].as_str()));
            if let Some(model) = model {
                return Some(LocalModel {
                    base_url,
                    model: model.to_string(),
                    server: server.to_string(),
                });
            }
        }
        None
    })
}
