//! Throughput of redaction and diff scanning on 1 MB of mixed text. Prints MB/s; asserts nothing.
//! Run with `cargo bench -p gaffer-core --bench secrets`.

use std::hint::black_box;
use std::time::Instant;

use gaffer_core::secrets::Redactor;

const SIZE: usize = 1 << 20;

/// A deterministic mix of prose, code, JSON, ids, multibyte text and now and then a secret.
fn mixed_text(with_secrets: bool) -> String {
    let clean = [
        "The coder ran `cargo test` and 42 tests passed in 3.1s.\n",
        "commit 3b18e512dba79e4c8300dd08aeb37f8e728b8dad\n",
        "{\"type\":\"tool_use\",\"id\":\"123e4567-e89b-12d3-a456-426614174000\",\"input\":{\"path\":\"src/lib.rs\"}}\n",
        "    let skeleton = task_runner.start(&mut ctx)?; // naïve café 日本語\n",
        "Authorization: Bearer ${TOKEN}\n",
    ];
    let secrets = [
        "export OPENAI_API_KEY=sk-proj-Zq3xV9kLm2Pw8RtY6uB1nC4dE7fG0hJ5\n",
        "token tok_9f8e7d6c5b4a3210 used\n",
        "remote https://x:ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789@github.com/o/r\n",
    ];
    let mut text = String::with_capacity(SIZE + 256);
    let mut state: u32 = 0x9e37_79b9;
    while text.len() < SIZE {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let pick = (state >> 16) as usize;
        if with_secrets && pick.is_multiple_of(50) {
            text.push_str(secrets[pick % secrets.len()]);
        } else {
            text.push_str(clean[pick % clean.len()]);
        }
    }
    text
}

fn as_diff(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut diff = format!(
        "diff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1,0 +1,{} @@\n",
        lines.len()
    );
    for line in lines {
        diff.push('+');
        diff.push_str(line);
        diff.push('\n');
    }
    diff
}

fn measure(what: &str, bytes: usize, mut f: impl FnMut()) {
    f(); // warm up (compiles the shapes)
    let rounds = 20;
    let start = Instant::now();
    for _ in 0..rounds {
        f();
    }
    let secs = start.elapsed().as_secs_f64();
    let mb = (bytes * rounds) as f64 / 1e6;
    println!("{what:<40} {:>8.1} MB/s", mb / secs);
}

fn main() {
    let known = (0..20).map(|i| (format!("SECRET_{i}"), format!("value-{i:04}-abcdefghij")));
    let redactor = Redactor::new(known)
        .and_then(|r| r.with_value("OPENAI_API_KEY", "sk-proj-Zq3xV9kLm2Pw8RtY6uB1nC4dE7fG0hJ5"))
        .and_then(|r| r.with_value("SERVER_TOKEN", "tok_9f8e7d6c5b4a3210"));
    let Ok(redactor) = redactor else {
        eprintln!("cannot build the redactor");
        return;
    };
    let clean = mixed_text(false);
    let dirty = mixed_text(true);
    measure("redact, 1 MB, no secret", clean.len(), || {
        black_box(redactor.redact(black_box(&clean)));
    });
    measure(
        "redact, 1 MB, a secret every ~50 lines",
        dirty.len(),
        || {
            black_box(redactor.redact(black_box(&dirty)));
        },
    );
    let diff = as_diff(&dirty);
    measure("find_added_secrets, 1 MB diff", diff.len(), || {
        black_box(redactor.find_added_secrets(black_box(&diff)));
    });
}
