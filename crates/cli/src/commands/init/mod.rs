//! `gaffer init`: detect the project's build and test commands and the agents this machine
//! has, write a commented gaffer.toml whose crew runs as it stands.

mod agents;

use crate::cli::InitArgs;
use crate::context::Context;
use crate::error::{CliError, CliResult, Kind};

pub fn run(ctx: &Context, args: &InitArgs) -> CliResult<()> {
    let root = ctx.repo_root()?;
    let path = ctx.config_path()?;
    if path.exists() && !args.force {
        return Err(
            CliError::new(Kind::Usage, format!("{} already exists", path.display()))
                .hint("edit it, or run `gaffer init --force` to replace it"),
        );
    }
    let detected = gaffer_config::detect(&root);
    let name = root
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "project".into());
    let git = gaffer_git::Git::open(&root)?;
    let target = git
        .current_branch()
        .ok()
        .flatten()
        .unwrap_or_else(|| "main".to_string());
    let crew = agents::find(&root);
    let text = gaffer_config::init_template_with_crew(&name, detected.first(), &target, &crew);
    // What we write must load; a template bug should never leave a broken file behind.
    gaffer_config::parse_str(&text, &path)?;
    std::fs::write(&path, text)?;
    outln!("wrote {}", path.display())?;
    match detected.first() {
        Some(d) => {
            outln!("  detected {} ({})", d.kind, d.evidence)?;
            if let Some(build) = &d.build {
                outln!("  build: {build}")?;
            }
            outln!("  test:  {}", d.test)?;
            for other in detected.iter().skip(1) {
                outln!(
                    "  also found {} ({}); edit verify.command to use it",
                    other.kind,
                    other.evidence
                )?;
            }
        }
        None => outln!(
            "  no build system detected: set verify.command in {} to the command that tests the project",
            path.display()
        )?,
    }
    outln!("  target branch: {target}")?;
    if crew.is_empty() {
        outln!(
            "  no agent found (no claude or codex on PATH, no local model server): add one under \
             [agents] and name it in [roles]"
        )?;
    } else {
        let mut found = Vec::new();
        if crew.claude {
            found.push("claude".to_string());
        }
        if crew.codex {
            found.push("codex".to_string());
        }
        if let Some(local) = &crew.local {
            found.push(format!(
                "{} ({} at {})",
                local.model, local.server, local.base_url
            ));
        }
        outln!("  agents: {}", found.join(", "))?;
    }
    outln!("next: `gaffer doctor`, then `gaffer up`")?;
    Ok(())
}
