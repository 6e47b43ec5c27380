//! `gaffer worker token create|list|revoke`: the tokens remote workers present to take this
//! project's jobs (`Board::create_worker_token` and its kin). Through the running daemon when
//! there is one, as every write goes; else on the board directly. A token's secret is printed
//! once, by `create`: only its hash is kept, so `list` has none to show.

use super::runtime;
use crate::context::Context;
use crate::daemon::{self, Running};
use crate::error::{CliError, CliResult, Kind};
use crate::output;
use gaffer_api::{CreatedWorkerToken, NewWorkerTokenBody, Revoked, paths};
use gaffer_engine::{Board, EngineError};
use gaffer_store::WorkerToken;
use std::net::IpAddr;

/// Where a person is sent to find a token's id.
const LIST_HINT: &str = "`gaffer worker token list` shows the tokens and their ids";

pub fn create(ctx: &Context, labels: &[String], name: Option<&str>, json: bool) -> CliResult<()> {
    let labels = split_labels(labels);
    let board = ctx.board()?;
    let created: CreatedWorkerToken<WorkerToken> = match ctx.daemon(&board) {
        Some(client) => {
            let body = NewWorkerTokenBody {
                name: name.map(str::to_string),
                labels,
            };
            runtime()?.block_on(client.post(paths::WORKER_TOKENS, &body))?
        }
        None => {
            let (token, secret) = board.create_worker_token(name.unwrap_or_default(), &labels)?;
            CreatedWorkerToken { token, secret }
        }
    };
    if json {
        return output::json(&created);
    }
    let CreatedWorkerToken { token, secret } = &created;
    outln!(
        "made worker token {} ({}), for a worker {}",
        token.id,
        token.name,
        if token.labels.is_empty() {
            "without labels (it takes the jobs that need none)".to_string()
        } else {
            format!("labelled {}", token.labels.join(", "))
        }
    )?;
    outln!("its secret, shown this once (only its hash is kept, so it cannot be shown again):")?;
    outln!()?;
    outln!("  {secret}")?;
    outln!()?;
    let (host, port) = listening(ctx, &board)?;
    outln!("on the worker's machine, run:")?;
    outln!()?;
    outln!(
        "  GAFFER_WORKER_TOKEN={secret} gaffer worker --server http://{}:{port}",
        reachable_name(host)
    )?;
    if host.is_loopback() {
        outln!()?;
        outln!(
            "note: the daemon listens on {host} only, which another machine cannot reach: start \
             it with server.host = \"0.0.0.0\" (and the token server.token_env names) for remote \
             workers"
        )?;
    }
    Ok(())
}

pub fn list(ctx: &Context, json: bool) -> CliResult<()> {
    let board = ctx.board()?;
    let tokens: Vec<WorkerToken> = match ctx.daemon(&board) {
        Some(client) => runtime()?.block_on(client.get(paths::WORKER_TOKENS))?,
        None => board.worker_tokens()?,
    };
    if json {
        return output::json(&tokens);
    }
    if tokens.is_empty() {
        outln!("no worker tokens yet (make one with `gaffer worker token create --label LABEL`)")?;
        return Ok(());
    }
    let now = now_ms();
    outln!(
        "{:>4}  {:<24} {:<20} {:<10} {:<10} revoked",
        "id",
        "name",
        "labels",
        "created",
        "last used"
    )?;
    for t in &tokens {
        outln!(
            "{:>4}  {:<24} {:<20} {:<10} {:<10} {}",
            t.id,
            t.name,
            if t.labels.is_empty() {
                "-".to_string()
            } else {
                t.labels.join(",")
            },
            ago(t.created_ms, now),
            t.last_used_ms
                .map_or("never".to_string(), |at| ago(at, now)),
            t.revoked_ms.map_or("-".to_string(), |at| ago(at, now)),
        )?;
    }
    Ok(())
}

pub fn revoke(ctx: &Context, id: i64) -> CliResult<()> {
    let board = ctx.board()?;
    let revoked = match ctx.daemon(&board) {
        Some(client) => {
            let answer: Revoked = runtime()?
                .block_on(client.post(&paths::revoke_worker_token(id), &serde_json::json!({})))
                .map_err(|e| match e.kind {
                    Kind::NotFound => e.hint(LIST_HINT),
                    _ => e,
                })?;
            answer.revoked
        }
        None => board.revoke_worker_token(id).map_err(|e| match e {
            EngineError::NotFound(message) => {
                CliError::new(Kind::NotFound, message).hint(LIST_HINT)
            }
            other => other.into(),
        })?,
    };
    if revoked {
        outln!("revoked worker token {id}: its worker is refused from now on")
    } else {
        outln!("worker token {id} was revoked already; nothing changed")
    }
}

/// `--label gpu,linux --label big` as the labels `gpu`, `linux`, `big` (each trimmed; an empty
/// one is kept, for the board to refuse with its reason).
fn split_labels(labels: &[String]) -> Vec<String> {
    labels
        .iter()
        .flat_map(|l| l.split(','))
        .map(|l| l.trim().to_string())
        .collect()
}

/// The address and port the daemon listens on: the running one's, else the configured ones.
fn listening(ctx: &Context, board: &Board) -> CliResult<(IpAddr, String)> {
    if let Some(info) = daemon::read(board.paths()).filter(|i| i.is_alive()) {
        let host = info
            .host
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));
        return Ok((host, info.port.to_string()));
    }
    let server = ctx.settings()?.server;
    let port = match server.port {
        0 => "<port>".to_string(),
        port => port.to_string(),
    };
    Ok((server.host, port))
}

/// What a worker elsewhere calls this machine: the address the daemon listens on when it is one
/// address, else this machine's host name.
fn reachable_name(host: IpAddr) -> String {
    match host {
        IpAddr::V4(ip) if !ip.is_unspecified() && !ip.is_loopback() => ip.to_string(),
        IpAddr::V6(ip) if !ip.is_unspecified() && !ip.is_loopback() => format!("[{ip}]"),
        _ => nix::unistd::gethostname()
            .ok()
            .and_then(|name| name.into_string().ok())
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| "<this machine>".to_string()),
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// How long ago `at_ms` was, roughly: `12s ago`, `5m ago`, `3h ago`, `2d ago`.
fn ago(at_ms: i64, now_ms: i64) -> String {
    let s = (now_ms - at_ms).max(0) / 1000;
    match s {
        0..60 => format!("{s}s ago"),
        60..3_600 => format!("{}m ago", s / 60),
        3_600..86_400 => format!("{}h ago", s / 3_600),
        _ => format!("{}d ago", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_split_on_commas_and_trimmed() {
        let given = vec!["gpu, linux".to_string(), "big".to_string()];
        assert_eq!(split_labels(&given), ["gpu", "linux", "big"]);
        assert_eq!(split_labels(&["a,".to_string()]), ["a", ""]);
        assert!(split_labels(&[]).is_empty());
    }

    #[test]
    fn ages_are_rough() {
        assert_eq!(ago(0, 59_999), "59s ago");
        assert_eq!(ago(0, 60_000), "1m ago");
        assert_eq!(ago(0, 7_200_000), "2h ago");
        assert_eq!(ago(0, 3 * 86_400_000), "3d ago");
        assert_eq!(ago(10, 0), "0s ago");
    }

    #[test]
    fn a_single_address_names_the_machine() {
        assert_eq!(reachable_name("10.0.0.7".parse().unwrap()), "10.0.0.7");
        assert_eq!(reachable_name("fd00::7".parse().unwrap()), "[fd00::7]");
        assert!(!reachable_name("0.0.0.0".parse().unwrap()).is_empty());
    }
}
