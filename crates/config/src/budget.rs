//! `[budget]`: what the agents may spend, in US dollars, as priced from what each run reports
//! (or from `[prices]`). Budgets stop work: before a run starts, gaffer checks them, and a run
//! that would go past one does not start; its task waits for a person with the reason.
//!
//! ```toml
//! [budget]
//! task_usd = 5.0     # per task, over all its runs, unless the task has its own budget
//! day_usd = 50.0     # per project and UTC day, over every run started that day
//! idle_usd = 1.0     # per UTC day for idle surveys (engine.idle)
//! ```

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;
use crate::file::At;
use crate::queue::RawNumber;
use crate::resolve::Check;

/// `[budget]`. `None`: no limit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BudgetSettings {
    /// What one task may spend over all its runs, unless the task sets its own (`gaffer task
    /// add --budget`). Default: no limit.
    pub task_usd: Option<f64>,
    /// What the project may spend per UTC day. Default: no limit.
    pub day_usd: Option<f64>,
    /// What idle surveys (`engine.idle`) may spend per UTC day. Default: $1.
    pub idle_usd: Option<f64>,
}

/// The default `budget.idle_usd`: idle work is cheap unless a person says otherwise.
pub const DEFAULT_IDLE_USD: f64 = 1.0;

impl Default for BudgetSettings {
    fn default() -> Self {
        BudgetSettings {
            task_usd: None,
            day_usd: None,
            idle_usd: Some(DEFAULT_IDLE_USD),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBudget {
    pub task_usd: Option<At<RawNumber>>,
    pub day_usd: Option<At<RawNumber>>,
    pub idle_usd: Option<At<RawNumber>>,
}

pub(crate) fn resolve(check: &Check<'_>, raw: &RawBudget) -> Result<BudgetSettings, ConfigError> {
    let amount = |value: &Option<At<RawNumber>>, key: &str| -> Result<Option<f64>, ConfigError> {
        let Some(at) = value else { return Ok(None) };
        let usd = at.get_ref().value();
        if usd.is_finite() && usd >= 0.0 {
            return Ok(Some(usd));
        }
        Err(check.error(
            at,
            key,
            format!(
                "{key} = {} must be an amount of US dollars, zero or more",
                check.written(at)
            ),
            format!("write e.g. {key} = 5.0, or remove the line for no limit"),
        ))
    };
    Ok(BudgetSettings {
        task_usd: amount(&raw.task_usd, "budget.task_usd")?,
        day_usd: amount(&raw.day_usd, "budget.day_usd")?,
        idle_usd: Some(amount(&raw.idle_usd, "budget.idle_usd")?.unwrap_or(DEFAULT_IDLE_USD)),
    })
}
