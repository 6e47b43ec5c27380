//! `gaffer pull`: bring landed work into the user's own checkout, only when asked, and never over
//! their uncommitted changes.

use crate::context::Context;
use crate::error::{CliError, CliResult, Kind};
use gaffer_git::PullOutcome;

pub fn run(ctx: &Context) -> CliResult<()> {
    let board = ctx.board()?;
    let landing = board.landing()?;
    let Some(checkout) = landing.checked_out_in.clone() else {
        outln!(
            "nothing to pull: {} is not checked out, so gaffer lands on it directly",
            landing.target
        )?;
        return Ok(());
    };
    let from = landing.refname();
    if board.git().rev_parse(&from)?.is_none() {
        outln!("nothing has landed yet")?;
        return Ok(());
    }
    match gaffer_git::pull_into_checkout(&checkout, &landing.target, &from, board.git().env()) {
        Ok(PullOutcome::UpToDate) => outln!("{} is up to date", landing.target),
        Ok(PullOutcome::FastForwarded { from, to }) => outln!(
            "fast-forwarded {} from {} to {}",
            landing.target,
            &from.as_str()[..10],
            &to.as_str()[..10]
        ),
        Ok(PullOutcome::Merged { commit }) => outln!(
            "merged landed work into {} ({})",
            landing.target,
            &commit.as_str()[..10]
        ),
        Err(gaffer_git::GitError::PullRefused(refused)) => {
            return Err(CliError::new(Kind::Git, format!("not pulling: {refused}"))
                .hint("commit or stash those changes, then run `gaffer pull` again"));
        }
        Err(e) => return Err(e.into()),
    }?;
    Ok(())
}
