//! The `/etc/hosts` a sandbox may get instead of the host's: names of the services relayed
//! into a private network (a model's API, say) resolve to its loopback, so a client connects
//! to the relay under the service's real name and TLS still checks the real certificate.
//!
//! `/etc/resolv.conf` stays as it is: in a private network no DNS server is reachable, so
//! every other name fails to resolve, as it should.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use crate::error::SandboxError;

/// Longest DNS name.
const MAX_NAME: usize = 253;

/// Writes a hosts file at `path` mapping each name to its address, after the usual
/// `localhost` lines, and returns the file's canonical path.
pub(crate) fn write(path: &Path, entries: &[(String, IpAddr)]) -> Result<PathBuf, SandboxError> {
    let text = render(entries)?;
    let failed = |source| SandboxError::HostsFile {
        path: path.to_path_buf(),
        source,
    };
    std::fs::write(path, text).map_err(failed)?;
    path.canonicalize().map_err(failed)
}

fn render(entries: &[(String, IpAddr)]) -> Result<String, SandboxError> {
    let mut text = String::from(
        "# Written by gaffer for a sandboxed process.\n\
         127.0.0.1\tlocalhost\n\
         ::1\tlocalhost ip6-localhost ip6-loopback\n",
    );
    for (name, addr) in entries {
        check_name(name)?;
        // Writing to a String cannot fail.
        let _ = writeln!(text, "{addr}\t{name}");
    }
    Ok(text)
}

/// A name must be a host name: nothing that could start another field, line or comment.
fn check_name(name: &str) -> Result<(), SandboxError> {
    let valid = !name.is_empty()
        && name.len() <= MAX_NAME
        && !name.starts_with(['-', '.'])
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'));
    if valid {
        Ok(())
    } else {
        Err(SandboxError::InvalidHostName {
            name: name.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_localhost_then_each_entry() {
        let text = render(&[
            ("api.anthropic.com".into(), [127, 0, 0, 1].into()),
            ("api.openai.com".into(), "::1".parse().unwrap()),
        ])
        .unwrap();
        let lines: Vec<&str> = text.lines().skip(1).collect();
        assert_eq!(
            lines,
            [
                "127.0.0.1\tlocalhost",
                "::1\tlocalhost ip6-localhost ip6-loopback",
                "127.0.0.1\tapi.anthropic.com",
                "::1\tapi.openai.com",
            ]
        );
    }

    #[test]
    fn names_that_are_not_host_names_are_refused() {
        let long = "a".repeat(MAX_NAME + 1);
        for name in [
            "",
            "a b",
            "a\n1.2.3.4 evil",
            "#x",
            "-x",
            ".x",
            "é.com",
            &long,
        ] {
            let err = render(&[(name.into(), [127, 0, 0, 1].into())]).unwrap_err();
            assert!(
                matches!(&err, SandboxError::InvalidHostName { name: n } if n == name),
                "{name:?}: {err}"
            );
        }
        assert!(render(&[("my_host-1.example".into(), [10, 0, 0, 1].into())]).is_ok());
    }

    #[test]
    fn writes_the_file_and_returns_its_canonical_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hosts");
        let written = write(&path, &[("x.test".into(), [127, 0, 0, 1].into())]).unwrap();
        assert_eq!(written, path.canonicalize().unwrap());
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .ends_with("127.0.0.1\tx.test\n")
        );
        let err = write(&dir.path().join("no/such/dir/hosts"), &[]).unwrap_err();
        assert!(matches!(err, SandboxError::HostsFile { .. }), "{err}");
    }
}
