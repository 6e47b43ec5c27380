//! Test hosts with networks of their own: Linux network namespaces joined by a bridge, so that
//! a test can run servers, daemons and workers "on different machines", cut one host off the
//! network and put it back. Each host is a namespace with one veth link to a bridge that lives
//! in a namespace of its own (nothing is added to the machine's own network), and an address
//! `10.<net>.0.<n>/24`.
//!
//! Needs root and `ip` (iproute2). [`Network::new`] returns `None` after saying so on stderr
//! when they are missing, except under CI (`CI` set), where that is a failure: no test skips
//! silently there. Dropping the [`Network`] kills every process left in its hosts and deletes
//! the namespaces.

use std::net::Ipv4Addr;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU8, Ordering};

/// A bridge and the hosts plugged into it.
#[derive(Debug)]
pub struct Network {
    /// The namespace holding the bridge.
    switch: String,
    hosts: Vec<Host>,
}

/// One host: a network namespace with an address on the test network.
#[derive(Debug, Clone)]
pub struct Host {
    /// The namespace's name (`ip netns exec <name> …`).
    pub name: String,
    pub addr: Ipv4Addr,
    /// The host's end of its link, seen from the switch: down means cut off.
    port: String,
}

impl Network {
    /// A network of `hosts` hosts (at most 200), or `None` when this machine cannot make one
    /// outside CI.
    pub fn new(hosts: usize) -> Option<Network> {
        match Network::create(hosts) {
            Ok(network) => Some(network),
            Err(why) if std::env::var_os("CI").is_some() => {
                panic!("the multi-host tests cannot run under CI: {why}")
            }
            Err(why) => {
                eprintln!("\n!!! SKIPPING a multi-host test: {why}\n");
                None
            }
        }
    }

    fn create(count: usize) -> Result<Network, String> {
        if count == 0 || count > 200 {
            return Err(format!("{count} hosts: between 1 and 200"));
        }
        if !nix_is_root() {
            return Err("network namespaces need root".to_string());
        }
        // Short, unique names (interface names have at most 15 bytes): the process id and a
        // counter, which also picks the subnet.
        static NEXT: AtomicU8 = AtomicU8::new(0);
        let net = NEXT.fetch_add(1, Ordering::SeqCst);
        let tag = format!("g{}n{net}", std::process::id() % 100_000);
        let switch = format!("{tag}sw");
        let mut network = Network {
            switch: switch.clone(),
            hosts: Vec::new(),
        };
        ip(&["netns", "add", &switch])?;
        ip_in(&switch, &["link", "add", "br0", "type", "bridge"])?;
        ip_in(&switch, &["link", "set", "br0", "up"])?;
        for i in 0..count {
            let n = u8::try_from(i + 1).map_err(|e| e.to_string())?;
            let name = format!("{tag}h{n}");
            let port = format!("{tag}p{n}");
            let addr = Ipv4Addr::new(10, 200u8.wrapping_add(net % 50), 0, n);
            ip(&["netns", "add", &name])?;
            network.hosts.push(Host {
                name: name.clone(),
                addr,
                port: port.clone(),
            });
            ip(&[
                "link", "add", &port, "type", "veth", "peer", "name", "eth0", "netns", &name,
            ])?;
            ip(&["link", "set", &port, "netns", &switch])?;
            ip_in(&switch, &["link", "set", &port, "master", "br0"])?;
            ip_in(&switch, &["link", "set", &port, "up"])?;
            ip_in(
                &name,
                &["addr", "add", &format!("{addr}/24"), "dev", "eth0"],
            )?;
            ip_in(&name, &["link", "set", "eth0", "up"])?;
            ip_in(&name, &["link", "set", "lo", "up"])?;
        }
        Ok(network)
    }

    pub fn hosts(&self) -> &[Host] {
        &self.hosts
    }

    pub fn host(&self, i: usize) -> &Host {
        &self.hosts[i]
    }

    /// Cuts `host` off the network: its link goes down at the switch; connections in flight
    /// stall, new ones fail.
    pub fn cut(&self, host: &Host) {
        if let Err(e) = ip_in(&self.switch, &["link", "set", &host.port, "down"]) {
            panic!("cannot cut {} off: {e}", host.name);
        }
    }

    /// Puts `host` back on the network.
    pub fn restore(&self, host: &Host) {
        if let Err(e) = ip_in(&self.switch, &["link", "set", &host.port, "up"]) {
            panic!("cannot put {} back: {e}", host.name);
        }
    }
}

impl Host {
    /// `program` run inside this host's namespace.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name]).arg(program);
        cmd
    }

    /// The processes running in this host.
    pub fn pids(&self) -> Vec<i32> {
        let out = Command::new("ip")
            .args(["netns", "pids", &self.name])
            .stderr(Stdio::null())
            .output();
        out.map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect()
        })
        .unwrap_or_default()
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        for host in &self.hosts {
            for pid in host.pids() {
                let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            }
            let _ = ip(&["netns", "del", &host.name]);
        }
        let _ = ip(&["netns", "del", &self.switch]);
    }
}

fn nix_is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run ip (install iproute2): {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn ip_in(namespace: &str, args: &[&str]) -> Result<(), String> {
    let mut all = vec!["netns", "exec", namespace, "ip"];
    all.extend_from_slice(args);
    ip(&all)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A host reaches another through the bridge; cut off, it does not; restored, it does again.
    #[test]
    fn hosts_talk_through_the_bridge_and_can_be_cut_off() {
        let Some(network) = Network::new(3) else {
            return;
        };
        let (a, b) = (network.host(0), network.host(1));
        let serve = format!(
            "import socket\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
             s.bind(('{}', 7070))\ns.listen()\nwhile True:\n  c,_=s.accept()\n  c.send(b'pong')\n  c.close()\n",
            a.addr
        );
        let mut server = a
            .command("python3")
            .args(["-c", &serve])
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let reach = |host: &Host| -> bool {
            let script = format!(
                "import socket,sys\ntry:\n  s=socket.create_connection(('{}',7070),timeout=1)\n  \
                 sys.stdout.write(s.recv(4).decode())\nexcept Exception as e:\n  sys.stdout.write('no')\n",
                a.addr
            );
            let out = host
                .command("python3")
                .args(["-c", &script])
                .output()
                .unwrap();
            String::from_utf8_lossy(&out.stdout) == "pong"
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !reach(b) {
            assert!(std::time::Instant::now() < deadline, "b never reached a");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        network.cut(b);
        assert!(!reach(b), "a cut-off host still reaches the others");
        assert!(reach(network.host(2)), "the others lost the network too");
        network.restore(b);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !reach(b) {
            assert!(std::time::Instant::now() < deadline, "b is still cut off");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let _ = server.kill();
        let _ = server.wait();
    }
}
