//! `[store]`: where the board (tasks, runs, events, jobs) is kept.
//!
//! ```toml
//! [store]
//! url = "postgres://gaffer@db.internal:5432/gaffer"   # default: SQLite in the state directory
//! ```
//!
//! Without a URL the board is one SQLite file in the project's state directory: nothing to set
//! up, one machine. A PostgreSQL URL puts it in a database that several daemons and workers on
//! several machines share. The URL may carry a password; it is never shown (see [`StoreUrl`]).

use std::fmt;

use serde::{Deserialize, Serialize, Serializer};

use crate::error::ConfigError;
use crate::file::At;
use crate::resolve::Check;

/// `[store]`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct StoreSettings {
    /// A PostgreSQL URL; `None`: the embedded SQLite file in the state directory.
    pub url: Option<StoreUrl>,
    /// The PostgreSQL schema holding this project's board (one board per schema). Default:
    /// `public`.
    pub schema: Option<String>,
}

/// A PostgreSQL connection URL (`postgres://` or `postgresql://`). Its `Debug`, `Display` and
/// serialized forms hide the password; [`StoreUrl::expose`] gives the URL to connect with.
#[derive(Clone, PartialEq, Eq)]
pub struct StoreUrl(String);

impl StoreUrl {
    /// Checks that `url` is a PostgreSQL URL; the error says what is expected.
    pub fn parse(url: &str) -> Result<StoreUrl, String> {
        let url = url.trim();
        let rest = url
            .strip_prefix("postgres://")
            .or_else(|| url.strip_prefix("postgresql://"))
            .ok_or_else(|| {
                format!(
                    "`{}` is not a PostgreSQL URL",
                    StoreUrl(url.to_string()).redacted()
                )
            })?;
        let authority = rest.split(['/', '?']).next().unwrap_or_default();
        let host = authority.rsplit('@').next().unwrap_or_default();
        if host.is_empty() && !rest.contains("host=") {
            return Err(format!(
                "`{}` names no host",
                StoreUrl(url.to_string()).redacted()
            ));
        }
        Ok(StoreUrl(url.to_string()))
    }

    /// The URL to connect with, password included. Never print it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The password written in the URL, if any (so that it can be redacted wherever it shows):
    /// in `user:password@` (up to the first `@`, as the driver reads it: a password may hold
    /// `/`), or a `password=` query parameter.
    pub fn password(&self) -> Option<&str> {
        let rest = self.0.split_once("://")?.1;
        let from_userinfo = rest
            .split_once('@')
            .and_then(|(userinfo, _)| userinfo.split_once(':'))
            .map(|(_, password)| password)
            .filter(|p| !p.is_empty() && !p.contains('?'));
        if from_userinfo.is_some() {
            return from_userinfo;
        }
        rest.split_once('?')?
            .1
            .split('&')
            .find_map(|pair| pair.strip_prefix("password="))
            .filter(|p| !p.is_empty())
    }

    /// The URL with its password replaced by `***`.
    pub fn redacted(&self) -> String {
        match self.password() {
            Some(password) => self.0.replace(password, "***"),
            None => self.0.clone(),
        }
    }
}

impl fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreUrl({:?})", self.redacted())
    }
}

impl fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl Serialize for StoreUrl {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.redacted())
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStore {
    pub url: Option<At<String>>,
    pub schema: Option<At<String>>,
}

pub(crate) fn resolve(check: &Check<'_>, raw: &RawStore) -> Result<StoreSettings, ConfigError> {
    let schema = match &raw.schema {
        None => None,
        Some(at) => {
            let name = at.get_ref().trim();
            let mut chars = name.chars();
            let ok = chars
                .next()
                .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
                && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                && name.len() <= 49
                && !name.starts_with("pg_");
            if !ok {
                return Err(check.error(
                    at,
                    "store.schema",
                    format!("store.schema = {} is not a schema name", check.written(at)),
                    "write lowercase letters, digits and `_` (not starting with a digit or \
                     `pg_`, at most 49 characters), e.g. schema = \"my_project\""
                        .to_string(),
                ));
            }
            Some(name.to_string())
        }
    };
    let Some(at) = &raw.url else {
        return Ok(StoreSettings { url: None, schema });
    };
    let written = at.get_ref();
    if written.trim().is_empty() {
        // An empty URL (e.g. `GAFFER_STORE__URL=`) keeps the embedded default.
        return Ok(StoreSettings { url: None, schema });
    }
    let url = StoreUrl::parse(written).map_err(|message| {
        check.error(
            at,
            "store.url",
            format!("store.url: {message}"),
            "write a PostgreSQL URL such as url = \"postgres://gaffer@db-host:5432/gaffer\", \
             or remove the line to keep the board in SQLite"
                .to_string(),
        )
    })?;
    Ok(StoreSettings {
        url: Some(url),
        schema,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_password_never_shows() {
        let url = StoreUrl::parse("postgres://gaffer:s3cret@db:5432/board").unwrap();
        assert_eq!(url.password(), Some("s3cret"));
        assert_eq!(url.to_string(), "postgres://gaffer:***@db:5432/board");
        assert!(!format!("{url:?}").contains("s3cret"));
        assert_eq!(
            serde_json::to_string(&url).unwrap(),
            "\"postgres://gaffer:***@db:5432/board\""
        );
        assert_eq!(url.expose(), "postgres://gaffer:s3cret@db:5432/board");
    }

    #[test]
    fn passwords_with_slashes_or_in_the_query_never_show() {
        let url = StoreUrl::parse("postgres://u:ab/cd+ef@db/x").unwrap();
        assert_eq!(url.password(), Some("ab/cd+ef"));
        assert_eq!(url.to_string(), "postgres://u:***@db/x");
        let url = StoreUrl::parse("postgres://u@db/x?sslmode=disable&password=s3cret").unwrap();
        assert_eq!(url.password(), Some("s3cret"));
        assert!(!url.to_string().contains("s3cret"), "{url}");
    }

    #[test]
    fn urls_without_password_or_with_a_socket_are_taken() {
        let url = StoreUrl::parse("postgresql://gaffer@db/board").unwrap();
        assert_eq!(url.password(), None);
        assert_eq!(url.redacted(), "postgresql://gaffer@db/board");
        assert!(StoreUrl::parse("postgres:///board?host=/run/postgresql").is_ok());
    }

    #[test]
    fn other_schemes_and_missing_hosts_are_refused() {
        assert!(
            StoreUrl::parse("mysql://x@y/z")
                .unwrap_err()
                .contains("not a PostgreSQL URL")
        );
        assert!(
            StoreUrl::parse("/var/lib/gaffer.db")
                .unwrap_err()
                .contains("not a PostgreSQL URL")
        );
        assert!(
            StoreUrl::parse("postgres://u:pw@/db")
                .unwrap_err()
                .contains("names no host")
        );
        assert!(
            !StoreUrl::parse("postgres://u:pw@/db")
                .unwrap_err()
                .contains("pw")
        );
    }
}
