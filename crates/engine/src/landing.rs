//! Where landed work goes (DESIGN §6, principle 5).
//!
//! gaffer moves the target branch only when nobody has it checked out. When the user's own
//! checkout is on the target, moving the ref under it would desynchronize their index and work
//! tree (their next `git status` would show gaffer's changes reversed). So gaffer lands on the
//! landing branch `gaffer/landed/<target>` instead, says so, and `gaffer pull` brings that into
//! the user's checkout when they ask, refusing if it would touch their uncommitted changes.
//!
//! The landing branch starts from the target and follows it: when the user's target contains
//! everything landed (they pulled, perhaps committed more), new work builds on the target again.

use crate::board::Board;
use crate::error::Result;
use gaffer_git::Oid;
use serde::Serialize;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Landing {
    /// The configured target branch.
    pub target: String,
    /// The branch gaffer advances: the target itself, or `gaffer/landed/<target>`.
    pub branch: String,
    /// The user's checkout that has the target checked out, when that is why gaffer lands
    /// elsewhere.
    pub checked_out_in: Option<PathBuf>,
}

impl Landing {
    pub fn resolve(board: &Board) -> Result<Landing> {
        let target = board.settings.project.target.clone();
        let user_checkout = board
            .git
            .checked_out_in(&target)?
            .filter(|path| !path.starts_with(board.paths.root()));
        // Land beside the target while the user has it checked out, and also while work
        // landed beside it has not reached it and cannot by a fast-forward (the user committed
        // on the target meanwhile): `gaffer pull` merges the two.
        let landed_apart = || -> Result<bool> {
            let landed = board
                .git
                .rev_parse_commit(&format!("refs/heads/{}", landing_branch(&target)))?;
            let tip = board
                .git
                .rev_parse_commit(&format!("refs/heads/{target}"))?;
            Ok(match (landed, tip) {
                (Some(landed), Some(tip)) => {
                    !board.git.is_ancestor(&landed, &tip)?
                        && !board.git.is_ancestor(&tip, &landed)?
                }
                _ => false,
            })
        };
        let branch = if user_checkout.is_some() || landed_apart()? {
            landing_branch(&target)
        } else {
            target.clone()
        };
        Ok(Landing {
            target,
            branch,
            checked_out_in: user_checkout,
        })
    }

    pub fn is_redirected(&self) -> bool {
        self.branch != self.target
    }

    pub fn refname(&self) -> String {
        format!("refs/heads/{}", self.branch)
    }

    /// The commit new work starts from and candidates build on, and the value the landing ref
    /// must still have when gaffer moves it (`None`: it must not exist yet).
    pub fn base(&self, board: &Board) -> Result<(Oid, Option<Oid>)> {
        let target_tip = board
            .git
            .rev_parse_commit(&format!("refs/heads/{}", self.target))?;
        if !self.is_redirected() {
            let tip = target_tip.ok_or_else(|| missing(&self.target))?;
            // Work that landed beside the target while the user had it checked out, and that
            // the target has not caught up with: build on it, so the target moves forward
            // through it instead of leaving it behind.
            let landed = board
                .git
                .rev_parse_commit(&format!("refs/heads/{}", landing_branch(&self.target)))?;
            if let Some(landed) = landed
                && !board.git.is_ancestor(&landed, &tip)?
                && board.git.is_ancestor(&tip, &landed)?
            {
                return Ok((landed, Some(tip)));
            }
            return Ok((tip.clone(), Some(tip)));
        }
        let landed = board.git.rev_parse_commit(&self.refname())?;
        match (landed, target_tip) {
            (None, Some(target)) => Ok((target, None)),
            (Some(landed), Some(target)) => {
                if board.git.is_ancestor(&landed, &target)? {
                    Ok((target, Some(landed)))
                } else {
                    Ok((landed.clone(), Some(landed)))
                }
            }
            (Some(landed), None) => Ok((landed.clone(), Some(landed))),
            (None, None) => Err(missing(&self.target)),
        }
    }
}

/// The branch gaffer lands on when the target is checked out by the user.
pub fn landing_branch(target: &str) -> String {
    format!("gaffer/landed/{target}")
}

fn missing(target: &str) -> crate::error::EngineError {
    crate::error::EngineError::Invalid(format!(
        "the target branch `{target}` does not exist; create it or set project.target in gaffer.toml"
    ))
}
