//! `gaffer usage`: tokens and money, in total and by task, role, model, agent and day.

use crate::cli::UsageArgs;
use crate::context::Context;
use crate::error::{CliError, CliResult, Kind};
use crate::output;
use gaffer_store::{UsageDimension, UsageRow};

pub fn run(ctx: &Context, args: &UsageArgs) -> CliResult<()> {
    let board = ctx.board()?;
    let project = Some(board.project().id);
    let dimensions: Vec<UsageDimension> = match &args.by {
        Some(by) => vec![UsageDimension::parse(by).ok_or_else(|| {
            CliError::new(Kind::Usage, format!("cannot break usage down by `{by}`"))
                .hint("use one of: task, role, model, agent, day")
        })?],
        None => UsageDimension::ALL.to_vec(),
    };
    let total = board.usage_totals(project)?;
    let mut breakdowns = Vec::new();
    for by in dimensions {
        breakdowns.push((by, board.usage_breakdown(project, by)?));
    }
    if args.json {
        let by: serde_json::Map<String, serde_json::Value> = breakdowns
            .iter()
            .map(|(d, rows)| {
                (
                    d.as_str().to_string(),
                    serde_json::to_value(rows).unwrap_or_default(),
                )
            })
            .collect();
        return output::json(&serde_json::json!({ "total": total, "by": by }));
    }
    output::line(&format!(
        "total: {} runs, {} input + {} cached + {} output tokens, ${:.4}",
        total.runs,
        total.usage.input_tokens,
        total.usage.cached_tokens,
        total.usage.output_tokens,
        total.usage.cost_usd
    ))?;
    for (by, rows) in &breakdowns {
        output::line("")?;
        table(by.as_str(), rows)?;
    }
    Ok(())
}

fn table(title: &str, rows: &[UsageRow]) -> CliResult<()> {
    output::line(&format!(
        "{:<24} {:>5} {:>12} {:>12} {:>12} {:>10}",
        format!("by {title}"),
        "runs",
        "input",
        "cached",
        "output",
        "cost"
    ))?;
    if rows.is_empty() {
        output::line("  (no runs)")?;
    }
    for r in rows {
        output::line(&format!(
            "{:<24} {:>5} {:>12} {:>12} {:>12} {:>10.4}",
            r.key,
            r.runs,
            r.usage.input_tokens,
            r.usage.cached_tokens,
            r.usage.output_tokens,
            r.usage.cost_usd
        ))?;
    }
    Ok(())
}
