//! `ask_person {question}`: ends the run with a question for a person.

use super::{ToolEffect, ToolError, args};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
struct Args {
    question: String,
}

pub fn run(input: &Value) -> Result<ToolEffect, ToolError> {
    let args: Args = args::parse(super::ASK_PERSON, input)?;
    let question = args.question.trim();
    if question.is_empty() {
        return Err(ToolError::InvalidArgs {
            tool: super::ASK_PERSON.into(),
            message: "the question is empty".into(),
        });
    }
    Ok(ToolEffect::Question(question.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_question_ends_the_run() {
        assert_eq!(
            run(&json!({"question": " Which port? "})).unwrap(),
            ToolEffect::Question("Which port?".into())
        );
        assert!(run(&json!({"question": "  "})).is_err());
    }
}
