//! Who holds a lease: every engine's owner name starts with its daemon's prefix,
//! `daemon:<hostname>:<hash of the canonical state directory>:`, then `<pid>:<start time>`.
//!
//! The daemon's lock on its state directory guarantees one live daemon per prefix, so any other
//! owner with this prefix is a dead instance of this very daemon: recovery releases those jobs
//! and no one else's. Several daemons sharing one board (each with its own state directory, on
//! one machine or several) thus never take each other's live work at start; their dead
//! instances' jobs move by lease expiry instead.

use std::path::Path;

/// The owner prefix of the daemon whose state directory is `state_dir`. Its hash covers the
/// directory's path and an id made once for it (`instance-id` in it): machines cloned from one
/// image have the same host name and often the same paths, and must still never see each
/// other as their own dead instances.
pub fn daemon_prefix(state_dir: &Path) -> String {
    let canonical = std::fs::canonicalize(state_dir).unwrap_or_else(|_| state_dir.to_path_buf());
    let mut identity = canonical.as_os_str().as_encoded_bytes().to_vec();
    identity.extend_from_slice(instance_id(state_dir).as_bytes());
    format!("daemon:{}:{:016x}:", hostname(), fnv1a(&identity))
}

/// The random id of this state directory, made at its first use; empty when it cannot be
/// read or made (the path alone then tells daemons apart, as before).
fn instance_id(state_dir: &Path) -> String {
    let file = state_dir.join("instance-id");
    if let Ok(id) = std::fs::read_to_string(&file) {
        return id.trim().to_string();
    }
    let Ok(id) = crate::run_access::random_secret() else {
        return String::new();
    };
    // `create_new`: of two daemons racing here (only one can hold the directory's lock), the
    // loser reads the winner's id.
    use std::io::Write;
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&file)
        .and_then(|mut f| f.write_all(id.as_bytes()));
    match written {
        Ok(()) => id,
        Err(_) => std::fs::read_to_string(&file)
            .map(|id| id.trim().to_string())
            .unwrap_or_default(),
    }
}

/// Owners written by gaffer before owners named their daemon: on a board no other daemon uses,
/// they can only be dead instances of this one.
pub(crate) const LEGACY_PREFIX: &str = "local:";

fn hostname() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .unwrap_or_default();
    // Owner names are split on ':' by nobody, but keep them one readable token.
    let name: String = name
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() { "host".into() } else { name }
}

/// FNV-1a, 64 bits: stable across Rust versions and builds (std's hashers are not promised to
/// be), so a daemon upgraded in place still recognizes its own dead instances.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn the_prefix_names_the_host_and_the_state_directory() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let pa = daemon_prefix(a.path());
        assert!(pa.starts_with("daemon:") && pa.ends_with(':'), "{pa}");
        assert_eq!(pa, daemon_prefix(&a.path().join(".").join("")));
        assert_ne!(pa, daemon_prefix(b.path()));
        assert!(!pa.starts_with(LEGACY_PREFIX));
    }

    #[test]
    fn fnv1a_is_the_published_function() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
