//! `gaffer usage`: tokens and money, in total and by task, role, model, agent and day.

use crate::cli::UsageArgs;
use crate::context::Context;
use crate::error::{CliError, CliResult, Kind};
use crate::output;
use gaffer_store::UsageDimension;

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
    output::lines(&crate::render::usage(&total, &breakdowns))
}
