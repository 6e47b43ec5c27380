//! An idle survey (`flow.survey`): when the board has nothing to do, the planner looks at the
//! code read-only and answers with a plan whose subtasks are ideas. They become `proposal`
//! tasks ([`Effect::CreateChildren`]) that wait for a person to accept or decline them, and the
//! survey is done: it lands nothing, so it ends `merged` with a note saying what it filed.

use super::Step;
use crate::machine::types::Effect;
use crate::task::Status;

impl Step {
    pub(super) fn surveyed(&mut self, proposals: u32) {
        self.s.failures = 0;
        if proposals > 0 {
            self.fx.push(Effect::CreateChildren);
        }
        self.s.status = Status::Merged;
        self.s.note = Some(match proposals {
            0 => "the survey found nothing to propose".to_string(),
            1 => "the survey filed 1 proposal".to_string(),
            n => format!("the survey filed {n} proposals"),
        });
        self.fx.push(Effect::Cleanup {
            delete_branch: true,
        });
    }
}
