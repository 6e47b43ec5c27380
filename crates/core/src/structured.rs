//! Structured role output: plans and review verdicts, parsed strictly.
//!
//! Their JSON Schemas are published in `crates/core/schemas/` and embedded here ([`PLAN_SCHEMA`],
//! [`VERDICT_SCHEMA`]) so prompts can quote them. Parsing accepts the object alone, inside a
//! fenced code block, or surrounded by prose, but the object itself must match the schema exactly:
//! unknown fields, a missing title, an unknown verdict or a dependency on a later subtask are
//! errors that say what is wrong (the engine re-asks once with that message).

use crate::task::Risk;
use serde::{Deserialize, Serialize};

pub const PLAN_SCHEMA: &str = include_str!("../schemas/plan.schema.json");
pub const VERDICT_SCHEMA: &str = include_str!("../schemas/verdict.schema.json");

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub subtasks: Vec<PlannedTask>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlannedTask {
    pub title: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub depends_on: Vec<usize>,
    #[serde(default)]
    pub write_scope: Vec<String>,
    #[serde(default)]
    pub read_scope: Vec<String>,
    #[serde(default)]
    pub risk: Risk,
    #[serde(default)]
    pub tier: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictKind {
    Approve,
    RequestChanges,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Verdict {
    pub verdict: VerdictKind,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub findings: Vec<Finding>,
    /// Best-of-N: the attempt the reviewer picks (its number as the prompt gives it); the
    /// verdict and findings are about that attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pick: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    #[serde(default)]
    pub file: Option<String>,
    #[serde(default)]
    pub line: Option<u32>,
    #[serde(default)]
    pub severity: Option<Risk>,
    pub text: String,
}

impl Verdict {
    pub fn approved(&self) -> bool {
        self.verdict == VerdictKind::Approve
    }

    /// The findings as text for a coder: one per line, `file:line [severity] text`.
    pub fn findings_text(&self) -> String {
        let mut out: Vec<String> = Vec::new();
        if !self.summary.trim().is_empty() {
            out.push(self.summary.trim().to_string());
        }
        for f in &self.findings {
            let place = match (&f.file, f.line) {
                (Some(file), Some(line)) => format!("{file}:{line} "),
                (Some(file), None) => format!("{file} "),
                _ => String::new(),
            };
            let severity = f.severity.map(|s| format!("[{s}] ")).unwrap_or_default();
            out.push(format!("{place}{severity}{}", f.text.trim()));
        }
        out.join("\n")
    }
}

/// Why an answer did not parse; shown to the agent when re-asking.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StructuredError(pub String);

/// The JSON object in an answer: the whole text, a fenced block, or the outermost braces.
fn json_object(text: &str) -> Result<&str, StructuredError> {
    let trimmed = text.trim();
    if trimmed.starts_with('{') && trimmed.ends_with('}') {
        return Ok(trimmed);
    }
    if let Some(start) = trimmed.find("```") {
        let after = &trimmed[start + 3..];
        let body_start = after.find('\n').map_or(0, |n| n + 1);
        if let Some(end) = after[body_start..].find("```") {
            let inner = after[body_start..body_start + end].trim();
            if inner.starts_with('{') {
                return Ok(inner);
            }
        }
    }
    match (trimmed.find('{'), trimmed.rfind('}')) {
        (Some(a), Some(b)) if a < b => Ok(&trimmed[a..=b]),
        _ => Err(StructuredError("the answer contains no JSON object".into())),
    }
}

pub fn parse_plan(text: &str) -> Result<Plan, StructuredError> {
    let plan: Plan = serde_json::from_str(json_object(text)?)
        .map_err(|e| StructuredError(format!("the plan does not match the schema: {e}")))?;
    if plan.subtasks.is_empty() {
        return Ok(plan);
    }
    for (i, sub) in plan.subtasks.iter().enumerate() {
        if sub.title.trim().is_empty() {
            return Err(StructuredError(format!("subtask {i} has an empty title")));
        }
        if let Some(bad) = sub.depends_on.iter().find(|d| **d >= i) {
            return Err(StructuredError(format!(
                "subtask {i} depends on {bad}, which is not an earlier subtask"
            )));
        }
    }
    Ok(plan)
}

pub fn parse_verdict(text: &str) -> Result<Verdict, StructuredError> {
    let verdict: Verdict = serde_json::from_str(json_object(text)?)
        .map_err(|e| StructuredError(format!("the verdict does not match the schema: {e}")))?;
    if let Some(f) = verdict.findings.iter().find(|f| f.text.trim().is_empty()) {
        return Err(StructuredError(format!("a finding has no text: {f:?}")));
    }
    Ok(verdict)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_parse_from_prose_and_fences() {
        let text = "Here is the plan:\n```json\n{\"subtasks\": [{\"title\": \"a\"}, {\"title\": \"b\", \"depends_on\": [0], \"risk\": \"high\"}]}\n```\n";
        let plan = parse_plan(text).unwrap();
        assert_eq!(plan.subtasks.len(), 2);
        assert_eq!(plan.subtasks[1].risk, Risk::High);
    }

    #[test]
    fn plans_are_strict() {
        assert!(parse_plan("no json here").is_err());
        assert!(parse_plan(r#"{"subtasks": [{"title": "a", "color": "red"}]}"#).is_err());
        assert!(parse_plan(r#"{"subtasks": [{"title": "a", "depends_on": [0]}]}"#).is_err());
        assert!(parse_plan(r#"{"subtasks": [{"title": " "}]}"#).is_err());
    }

    #[test]
    fn verdicts_are_strict() {
        let v = parse_verdict(r#"{"verdict": "request_changes", "findings": [{"file": "a.rs", "line": 3, "severity": "high", "text": "off by one"}]}"#).unwrap();
        assert!(!v.approved());
        assert_eq!(v.findings_text(), "a.rs:3 [high] off by one");
        assert!(parse_verdict(r#"{"verdict": "maybe"}"#).is_err());
        assert!(parse_verdict(r#"{"verdict": "approve", "extra": 1}"#).is_err());
        let picked = parse_verdict(r#"{"verdict": "approve", "pick": 2, "summary": "smaller"}"#);
        assert_eq!(picked.map(|v| v.pick), Ok(Some(2)));
        assert!(parse_verdict(r#"{"verdict": "approve", "pick": "two"}"#).is_err());
    }

    /// The published schemas name exactly the fields the parser accepts.
    #[test]
    fn schemas_match_the_types() {
        let plan: serde_json::Value = serde_json::from_str(PLAN_SCHEMA).unwrap();
        let item = &plan["properties"]["subtasks"]["items"]["properties"];
        let mut keys: Vec<&str> = item
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "body",
                "depends_on",
                "read_scope",
                "risk",
                "tier",
                "title",
                "write_scope"
            ]
        );
        let verdict: serde_json::Value = serde_json::from_str(VERDICT_SCHEMA).unwrap();
        let mut keys: Vec<&str> = verdict["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort();
        assert_eq!(keys, ["findings", "pick", "summary", "verdict"]);
        let finding = &verdict["properties"]["findings"]["items"]["properties"];
        let mut keys: Vec<&str> = finding
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort();
        assert_eq!(keys, ["file", "line", "severity", "text"]);
    }
}
