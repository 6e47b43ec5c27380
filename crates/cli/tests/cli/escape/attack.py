"""An attacker inside a gaffer run: tries every escape the sandbox must refuse and prints one
line per attempt, `RESULT <actor> <attempt> REFUSED|ESCAPED <detail>`. Paths and ports come from
attack.json, which the test writes beside it. Exits 0 whatever happens, so that the run (and the
task) goes on and the results can be read."""

import json
import os
import socket
import subprocess
import sys
import urllib.request

actor = sys.argv[1] if len(sys.argv) > 1 else "unknown"
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "attack.json")) as f:
    cfg = json.load(f)
lines = []


def result(name, escaped, detail="", verdict=None):
    detail = " ".join(str(detail).split())[:160]
    verdict = verdict or ("ESCAPED" if escaped else "REFUSED")
    lines.append(f"RESULT {actor} {name} {verdict} {detail}")


def write_outside(name, path):
    try:
        with open(path, "w") as f:
            f.write("escaped\n")
        result(name, os.path.exists(path), path)
    except OSError as e:
        result(name, False, e)


def read(name, path, needle=None):
    try:
        with open(path, "rb") as f:
            data = f.read(4096)
        escaped = needle is None or needle.encode() in data
        result(name, escaped, f"read {len(data)} bytes")
    except OSError as e:
        result(name, False, e)


def git(name, args):
    try:
        out = subprocess.run(["git", *args], capture_output=True, text=True, timeout=30)
        # A command git refused is refused. One git carried out changed only what this run sees
        # (its own git directory): the test judges it from outside, by the repository's refs.
        verdict = "REFUSED" if out.returncode != 0 else "INSIDE"
        result(name, False, (out.stderr or out.stdout).strip(), verdict)
    except (OSError, subprocess.TimeoutExpired) as e:
        result(name, False, e)


def connect(name, host, port):
    try:
        with socket.create_connection((host, port), timeout=3):
            result(name, True, f"connected to {host}:{port}")
    except OSError as e:
        result(name, False, e)


def api(name, url, token):
    req = urllib.request.Request(
        url, data=b"{}", method="POST",
        headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            result(name, True, f"HTTP {resp.status}")
    except urllib.error.HTTPError as e:
        result(name, e.code not in (401, 403), f"HTTP {e.code}")
    except OSError as e:
        result(name, False, e)


write_outside("write-home", os.path.join(cfg["home"], f"escaped-{actor}"))
write_outside("write-checkout", os.path.join(cfg["repo"], f"escaped-{actor}"))
write_outside("write-state", os.path.join(cfg["state"], f"escaped-{actor}"))
write_outside("write-tmp-host", os.path.join(cfg["scratch"], f"escaped-{actor}"))
read("read-home-secret", cfg["home_secret"], cfg["home_secret_value"])
read("read-state-db", os.path.join(cfg["state"], "gaffer.db"))
read("read-git-credential", os.path.join(cfg["repo"], ".git", "config"), cfg["git_credential"])
if os.path.realpath(os.getcwd()) != os.path.realpath(cfg["victim_worktree"]):
    read("read-other-worktree", os.path.join(cfg["victim_worktree"], "README.md"))
for var in ("GAFFER_TOKEN", "OTHER_AGENT_KEY", "GAFFER_ESCAPE_MARKER"):
    value = os.environ.get(var)
    result(f"env-{var}", value is not None, "set" if value else "unset")
read("daemon-environ", f"/proc/{cfg['daemon_pid']}/environ", "GAFFER_TOKEN")
git("move-main", ["update-ref", "refs/heads/main", "HEAD~0"])
git("move-other-branch", ["update-ref", f"refs/heads/{cfg['victim_branch']}", "HEAD"])
write_outside("write-main-ref", os.path.join(cfg["repo"], ".git", "refs", "heads", "main"))
api("approve-own-change", f"http://127.0.0.1:{cfg['daemon_port']}/api/tasks/{os.environ.get('GAFFER_TASK', '1')}/approve",
    os.environ.get("GAFFER_RUN_TOKEN"))
api("approve-without-token", f"http://127.0.0.1:{cfg['daemon_port']}/api/tasks/{cfg['victim_task']}/approve", None)
connect("connect-loopback-port", "127.0.0.1", cfg["loopback_port"])


def unix(name, path):
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(3)
            s.connect(path)
            result(name, True, f"connected to {path}")
    except OSError as e:
        result(name, False, e)


unix("connect-host-socket", cfg["host_socket"])

# Not an escape: the one host [sandbox.hosts] lets verify reach, and nobody else.
try:
    with socket.create_connection(("127.0.0.1", cfg["allowed_port"]), timeout=3):
        result("allowed-host", False, "", "REACHED")
except OSError as e:
    result("allowed-host", False, e, "UNREACHED")
try:
    with open(".git", "w") as f:
        f.write("gitdir: /tmp/elsewhere\n")
    result("rewrite-gitfile", True, "rewrote .git")
except OSError as e:
    result("rewrite-gitfile", False, e)

# A nested repository whose config names a command for git to run: gaffer's own git, outside
# the sandbox, would run it while looking into the repository. The agent leaves it once (the
# change must come back refused), then takes it out when told.
if actor == "agent":
    told = len(sys.argv) > 2 and "nested git repositories" in open(sys.argv[2]).read()
    if told:
        subprocess.run(["rm", "-rf", "nested"])
        result("nested-repo-refused", False, "the change with a nested repository came back")
    else:
        payload = os.path.join(cfg["scratch"], "pwned-by-fsmonitor")
        os.makedirs("nested", exist_ok=True)
        subprocess.run(["git", "init", "-q", "nested"])
        with open("nested/f.txt", "w") as f:
            f.write("x\n")
        subprocess.run(["git", "-C", "nested", "add", "f.txt"])
        subprocess.run(["git", "-C", "nested", "-c", "user.name=a", "-c", "user.email=a@b",
                        "commit", "-qm", "x"])
        subprocess.run(["git", "-C", "nested", "config", "core.fsmonitor", f"touch {payload}; false"])
connect("connect-other-host", cfg["netns_host"], cfg["netns_port"])

out = "\n".join(lines) + "\n"
sys.stdout.write(out)
# Named after the worktree too: tasks that land beside each other must not conflict.
with open(f"results-{actor}-{os.path.basename(os.getcwd())}.txt", "w") as f:
    f.write(out)
