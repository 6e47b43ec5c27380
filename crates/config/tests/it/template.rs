use std::path::Path;

use gaffer_config::{Detected, Settings, default_settings, detect, init_template, parse_str};

/// What a template must parse back to: the defaults with the given name, target and commands.
fn expected(name: &str, target: &str, detected: Option<&Detected>) -> Settings {
    let mut settings = default_settings();
    settings.project.name = name.to_string();
    settings.project.target = target.to_string();
    settings.verify.command = detected.map(Detected::verify_command);
    settings.verify.setup = detected.and_then(|d| d.setup.clone());
    settings.source = Some(Path::new("gaffer.toml").to_path_buf());
    settings
}

fn round_trip(name: &str, target: &str, detected: Option<&Detected>) {
    let text = init_template(name, detected, target);
    match parse_str(&text, Path::new("gaffer.toml")) {
        Ok(settings) => assert_eq!(settings, expected(name, target, detected), "{text}"),
        Err(error) => panic!("the template does not parse:\n{error}\n\n{text}"),
    }
}

#[test]
fn the_template_parses_back_for_every_ecosystem() {
    let ecosystems: &[&[(&str, &str)]] = &[
        &[("Cargo.toml", "[package]\n")],
        &[
            ("package.json", r#"{"scripts":{"build":"tsc"}}"#),
            ("pnpm-lock.yaml", ""),
        ],
        &[("package.json", "{}"), ("yarn.lock", "")],
        &[("package.json", "{}"), ("package-lock.json", "")],
        &[("pyproject.toml", ""), ("uv.lock", "")],
        &[("pytest.ini", "")],
        &[("go.mod", "")],
        &[("Makefile", "test:\n\ttrue\n")],
    ];
    for files in ecosystems {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in *files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let found = detect(dir.path());
        assert!(!found.is_empty(), "{files:?}");
        for detected in &found {
            round_trip("myproj", "main", Some(detected));
        }
    }
}

#[test]
fn the_template_parses_back_without_detection_and_with_odd_names() {
    round_trip("myproj", "main", None);
    round_trip("my \"quoted\" project\\", "release/2.0", None);
    let tricky = Detected {
        kind: "make",
        build: None,
        test: "make test ARGS='-k \"slow\"'".into(),
        setup: Some("./scripts/bootstrap\tall".into()),
        evidence: "found a Makefile".into(),
    };
    round_trip("x", "trunk", Some(&tricky));
}

#[test]
fn the_template_for_a_cargo_project() {
    let detected = Detected {
        kind: "cargo",
        build: Some("cargo build".into()),
        test: "cargo test".into(),
        setup: None,
        evidence: "found Cargo.toml".into(),
    };
    insta::assert_snapshot!(init_template("myproj", Some(&detected), "main"));
}
