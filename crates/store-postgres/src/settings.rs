//! What a store needs to reach its database: the parsed URL, the schema, the NOTIFY channels,
//! and how the server is named in messages (never with its password).

use crate::notify::Channels;
use gaffer_store::{Result, StoreError};
use postgres::config::Host;
use std::time::Duration;

/// How long opening one connection may take before the server counts as unreachable (unless the
/// URL sets `connect_timeout`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest schema name: `gaffer_<schema>_events` must fit PostgreSQL's 63-byte identifiers.
const MAX_SCHEMA_LEN: usize = 49;

pub(crate) struct Settings {
    pub(crate) config: postgres::Config,
    /// `postgres://user@host:port/db`, for messages.
    pub(crate) server: String,
    pub(crate) schema: String,
    pub(crate) channels: Channels,
    /// Transactions run at the database server's time ([`crate::PgOptions::server_clock`]).
    pub(crate) server_clock: bool,
    /// The URL's password, scrubbed from any message that might repeat it.
    password: Option<String>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("server", &self.server)
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

/// How long a connection may sit idle before the kernel probes it.
const KEEPALIVE_IDLE: std::time::Duration = std::time::Duration::from_secs(30);
/// How long written data may stay unacknowledged before the connection is given up.
const TCP_USER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(45);

impl Settings {
    /// Parses a libpq-style URL (`postgres://user:password@host:port/db?options`, or
    /// `key=value` pairs) for a store in `schema`.
    pub(crate) fn new(url: &str, schema: &str, server_clock: bool) -> Result<Settings> {
        check_schema(schema)?;
        let mut config: postgres::Config = url.parse().map_err(|e: postgres::Error| {
            StoreError::Invalid(format!(
                "invalid PostgreSQL URL {}: {}",
                redact(url),
                scrub(&e.to_string(), textual_password(url).as_deref())
            ))
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("gaffer");
        }
        // A connection whose peer vanished (a partition, a server restart behind a load
        // balancer) must fail within a minute, not hang a call or deafen the listener for the
        // kernel's two hours: keepalives probe an idle one, and unacknowledged writes time out.
        if config.get_keepalives_idle() == std::time::Duration::from_secs(2 * 60 * 60) {
            config.keepalives_idle(KEEPALIVE_IDLE);
        }
        if config.get_tcp_user_timeout().is_none() {
            config.tcp_user_timeout(TCP_USER_TIMEOUT);
        }
        let password = config
            .get_password()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .filter(|p| !p.is_empty());
        Ok(Settings {
            server: describe(&config),
            schema: schema.to_string(),
            channels: Channels::for_schema(schema),
            server_clock,
            config,
            password,
        })
    }

    /// `message` with the password, if it appears, replaced by `***`.
    pub(crate) fn scrub(&self, message: &str) -> String {
        scrub(message, self.password.as_deref())
    }

    /// The error for a connection that could not be made or was lost.
    pub(crate) fn unavailable(&self, what: &str, e: &postgres::Error) -> StoreError {
        StoreError::Unavailable(self.scrub(&format!("{what} {}: {}", self.server, detail(e))))
    }

    /// The schema, quoted as an SQL identifier (its name is checked to need no escaping).
    pub(crate) fn quoted_schema(&self) -> String {
        format!("\"{}\"", self.schema)
    }
}

/// A schema name the store accepts: lowercase letters, digits and `_`, not starting with a
/// digit or `pg_`, at most 49 bytes. Such a name needs no quoting rules and makes a valid
/// channel name.
pub(crate) fn check_schema(schema: &str) -> Result<()> {
    let mut chars = schema.chars();
    let well_formed = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !well_formed || schema.len() > MAX_SCHEMA_LEN || schema.starts_with("pg_") {
        return Err(StoreError::Invalid(format!(
            "`{schema}` is not a schema name gaffer uses: lowercase letters, digits and `_`, \
             starting with a letter or `_` (not `pg_`), at most {MAX_SCHEMA_LEN} characters"
        )));
    }
    Ok(())
}

/// The error's message, with the server's own words (message, detail, hint) when it sent some.
pub(crate) fn detail(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut text = format!("{} ({})", db.message(), db.code().code());
            if let Some(d) = db.detail() {
                text.push_str(&format!("; {d}"));
            }
            if let Some(h) = db.hint() {
                text.push_str(&format!("; hint: {h}"));
            }
            text
        }
        None => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                text.push_str(&format!(": {s}"));
                source = s.source();
            }
            text
        }
    }
}

/// `postgres://user@host:port/db`, without the password.
fn describe(config: &postgres::Config) -> String {
    let user = config
        .get_user()
        .map(|u| format!("{u}@"))
        .unwrap_or_default();
    let ports = config.get_ports();
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let host = match h {
                Host::Tcp(name) => name.clone(),
                Host::Unix(path) => path.display().to_string(),
            };
            let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
            format!("{host}:{port}")
        })
        .collect();
    let hosts = if hosts.is_empty() {
        "localhost:5432".to_string()
    } else {
        hosts.join(",")
    };
    let db = config.get_dbname().or(config.get_user()).unwrap_or("");
    format!("postgres://{user}{hosts}/{db}")
}

/// `url` with its password (URL form `user:password@`, or `password=...`) replaced by `***`.
pub(crate) fn redact(url: &str) -> String {
    scrub(url, textual_password(url).as_deref())
}

/// The password as written in a URL that may not parse.
fn textual_password(url: &str) -> Option<String> {
    if let Some((_, rest)) = url.split_once("://") {
        // The driver reads credentials up to the first `@` (a password may hold `/`), and
        // also takes a `password=` query parameter.
        let from_userinfo = rest
            .split_once('@')
            .and_then(|(userinfo, _)| userinfo.split_once(':'))
            .map(|(_, password)| password)
            .filter(|p| !p.is_empty() && !p.contains('?'));
        if let Some(password) = from_userinfo {
            return Some(password.to_string());
        }
        let query = rest.split_once('?')?.1;
        return query
            .split('&')
            .find_map(|pair| pair.strip_prefix("password="))
            .filter(|p| !p.is_empty())
            .map(str::to_string);
    }
    let start = url.find("password=")? + "password=".len();
    let value: String = url[start..]
        .trim_start_matches('\'')
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '\'')
        .collect();
    (!value.is_empty()).then_some(value)
}

fn scrub(message: &str, password: Option<&str>) -> String {
    match password {
        Some(p) if !p.is_empty() => message.replace(p, "***"),
        _ => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn the_server_is_described_without_its_password() {
        let s = Settings::new(
            "postgres://alice:s3cr3t@db.example:6543/board",
            "public",
            false,
        )
        .unwrap();
        assert_eq!(s.server, "postgres://alice@db.example:6543/board");
        assert_eq!(s.scrub("bad password s3cr3t"), "bad password ***");
        assert_eq!(
            redact("postgres://alice:s3cr3t@db/x"),
            "postgres://alice:***@db/x"
        );
        assert_eq!(
            redact("host=db password=s3cr3t user=a"),
            "host=db password=*** user=a"
        );
        assert_eq!(redact("postgres://db/x"), "postgres://db/x");
    }

    #[test]
    fn a_bad_url_is_refused_without_its_password() {
        let err =
            Settings::new("postgres://alice:s3cr3t@db:notaport/x", "public", false).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, StoreError::Invalid(_)), "{text}");
        assert!(!text.contains("s3cr3t"), "{text}");
    }

    #[test]
    fn schema_names_are_checked() {
        for ok in ["public", "gaffer", "_t1", "board_2"] {
            check_schema(ok).unwrap();
        }
        for bad in [
            "",
            "1a",
            "Public",
            "a-b",
            "a\"b",
            "pg_temp",
            &"x".repeat(50),
        ] {
            assert!(check_schema(bad).is_err(), "{bad}");
        }
    }
}
