//! Examples of finding the secrets a diff adds.

use super::{Redactor, SecretHit};

const KEY: &str = "kv_7Hq2Lm9Xp4Rt";
const GH: &str = "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789";

fn redactor() -> Redactor {
    Redactor::new([("DEPLOY_KEY", KEY)]).expect("builds")
}

fn hit(path: &str, line: u32, what: &str) -> SecretHit {
    SecretHit {
        path: path.to_owned(),
        line,
        what: what.to_owned(),
    }
}

#[test]
fn added_lines_are_numbered_across_hunks_and_files() {
    let diff = format!(
        "diff --git a/src/config.rs b/src/config.rs
index 3b18e51..8f7a6b5 100644
--- a/src/config.rs
+++ b/src/config.rs
@@ -1,4 +1,5 @@
 fn main() {{
-    let key = \"{KEY}\";
+    let key = std::env::var(\"KEY\");
+    let old = \"{KEY}\";
     run();
 }}
@@ -20,3 +21,4 @@ fn other() {{
 a
-b
+token = \"{GH}\"
+c {KEY} d {GH} e {KEY}
 d
diff --git a/README.md b/README.md
index 1111111..2222222 100644
--- a/README.md
+++ b/README.md
@@ -7,0 +8,2 @@
+Set DEPLOY_KEY in your shell.
+Example: {KEY}
"
    );
    assert_eq!(
        redactor().find_added_secrets(&diff),
        vec![
            hit("src/config.rs", 3, "DEPLOY_KEY"),
            hit("src/config.rs", 22, "github token"),
            hit("src/config.rs", 23, "DEPLOY_KEY"),
            hit("src/config.rs", 23, "github token"),
            hit("README.md", 9, "DEPLOY_KEY"),
        ]
    );
}

#[test]
fn removed_and_context_lines_do_not_count() {
    let diff = format!(
        "diff --git a/x b/x
--- a/x
+++ b/x
@@ -1,3 +1,1 @@
 context {KEY}
-removed {KEY}
-{GH}
\\ No newline at end of file
"
    );
    assert!(redactor().find_added_secrets(&diff).is_empty());
}

#[test]
fn lines_that_look_like_headers_inside_a_hunk_are_content() {
    // An added line `++ b/evil {KEY}` shows as `+++ b/evil …`; a removed `-- a/x` as `--- a/x`.
    let diff = format!(
        "diff --git a/x b/x
--- a/x
+++ b/x
@@ -1,2 +1,2 @@
--- a/x
+++ b/evil {KEY}
 ok
"
    );
    assert_eq!(
        redactor().find_added_secrets(&diff),
        vec![hit("x", 1, "DEPLOY_KEY")]
    );
}

#[test]
fn new_deleted_binary_and_renamed_files() {
    let diff = format!(
        "diff --git a/gone.txt b/gone.txt
deleted file mode 100644
index 1234567..0000000
--- a/gone.txt
+++ /dev/null
@@ -1 +0,0 @@
-{KEY}
diff --git a/logo.png b/logo.png
new file mode 100644
index 0000000..3b18e51
Binary files /dev/null and b/logo.png differ
diff --git a/old name.txt b/new name.txt
similarity 100%
rename from old name.txt
rename to new name.txt
diff --git a/a.txt \"b/caf\\303\\251.txt\"
similarity 90%
rename from a.txt
rename to \"caf\\303\\251.txt\"
index 1234567..89abcde 100644
--- a/a.txt
+++ \"b/caf\\303\\251.txt\"
@@ -1,2 +1,2 @@
 same
-old
+{KEY}
diff --git a/fresh.env b/fresh.env
new file mode 100644
index 0000000..1234567
--- /dev/null
+++ b/fresh.env
@@ -0,0 +1,2 @@
+A=1
+B={KEY}
"
    );
    assert_eq!(
        redactor().find_added_secrets(&diff),
        vec![
            hit("café.txt", 2, "DEPLOY_KEY"),
            hit("fresh.env", 2, "DEPLOY_KEY")
        ]
    );
}

#[test]
fn a_binary_patch_is_not_read_as_lines() {
    let diff = format!(
        "diff --git a/blob b/blob
new file mode 100644
index 0000000000000000000000000000000000000000..3b18e512dba79e4c8300dd08aeb37f8e728b8dad
GIT binary patch
literal 12
+{KEY}
T{KEY}

literal 0
HcmV?d00001

"
    );
    assert!(redactor().find_added_secrets(&diff).is_empty());
}

#[test]
fn a_private_key_is_found_by_its_begin_line() {
    let diff = "diff --git a/id_rsa b/id_rsa
--- /dev/null
+++ b/id_rsa
@@ -0,0 +1,3 @@
+-----BEGIN OPENSSH PRIVATE KEY-----
+b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
+-----END OPENSSH PRIVATE KEY-----
";
    let hits = Redactor::new(Vec::<(String, String)>::new())
        .expect("builds")
        .find_added_secrets(diff);
    assert_eq!(hits, vec![hit("id_rsa", 1, "private key")]);
}

#[test]
fn a_hit_never_holds_the_value() {
    let diff = format!("--- a/x\n+++ b/x\n@@ -0,0 +1 @@\n+{KEY}\n");
    let hits = redactor().find_added_secrets(&diff);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].to_string(), "x:1: DEPLOY_KEY");
    let shown = format!("{hits:?}");
    assert!(!shown.contains(KEY), "{shown}");
}
