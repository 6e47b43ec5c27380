//! The simulated engine the planner's tests drive: the real machine of every task, branches
//! that break the target or conflict, flaky verify, targets that move, results in any order,
//! people who cancel, and crashes between the inputs of one plan.

use super::super::*;
use crate::machine::{Effect, Flow, Limits, RunResult, TaskState, VerifyPurpose, transition};
use crate::task::{Risk, Role};
use proptest::prelude::*;
use std::collections::{BTreeMap, HashMap, HashSet};

pub(super) fn oid(s: &str) -> ObjectId {
    ObjectId::new(s)
}

/// What one task is, unknown to the queue.
#[derive(Debug, Clone)]
pub(super) struct Spec {
    pub(super) priority: Priority,
    pub(super) deps: Vec<usize>,
    /// Its first version breaks the target (its coder fixes it when sent back).
    pub(super) guilty: bool,
}

/// Contents of a tree: task → version of its branch (external changes have ids ≥ 1000).
pub(super) type Contents = BTreeMap<usize, u32>;

pub(super) fn tree_of(contents: &Contents) -> ObjectId {
    let parts: Vec<String> = contents.iter().map(|(t, v)| format!("{t}.{v}")).collect();
    oid(&format!("t:{}", parts.join(",")))
}

#[derive(Debug, Clone)]
pub(super) enum Job {
    Run {
        task: usize,
        role: Role,
    },
    Verify {
        task: usize,
        commit: ObjectId,
        purpose: VerifyPurpose,
    },
}

pub(super) struct Sim {
    pub(super) specs: Vec<Spec>,
    /// Unordered pairs of tasks whose branches conflict textually.
    pub(super) conflicts: Vec<(usize, usize)>,
    pub(super) states: Vec<TaskState>,
    pub(super) arrival: Vec<i64>,
    pub(super) version: Vec<u32>,
    pub(super) resolved: Vec<bool>,
    pub(super) clock: i64,
    pub(super) commits: HashMap<ObjectId, Contents>,
    pub(super) tip: ObjectId,
    pub(super) next_id: u32,
    pub(super) jobs: Vec<Job>,
    pub(super) land_job: Option<Landing>,
    pub(super) passed_trees: HashSet<ObjectId>,
    pub(super) runs_of: HashMap<ObjectId, u32>,
    pub(super) flaky: HashSet<ObjectId>,
    pub(super) external_moves: u32,
    pub(super) limits: Limits,
    // What happened, for the final checks.
    pub(super) ejected: Vec<usize>,
    pub(super) resolver_runs: Vec<usize>,
    pub(super) landed_order: Vec<usize>,
    /// The most tasks tested as one candidate (changes during a run, as `batch = "auto"` does).
    pub(super) batch: usize,
    /// How each version of a branch left the queue: landed, ejected, or sent to a resolver.
    pub(super) outcomes: HashMap<(usize, u32), Vec<&'static str>>,
    /// Verify runs of candidates, and how many of them tested a batch.
    pub(super) candidate_verifies: u32,
    pub(super) batches_built: u32,
    pub(super) bisections: u32,
    /// Every candidate whose id is a multiple of this fails its first verify (0: none).
    pub(super) flaky_every: u32,
    /// The tasks of each failed batch (by its commit), as the planner bisected it.
    pub(super) groups: HashMap<ObjectId, Vec<usize>>,
    /// The engine crashes after this many more inputs of the plan it carries out, leaving the
    /// rest undone (`None`: it does not).
    pub(super) crash_after: Option<usize>,
    /// Tasks a person cancelled in the queue.
    pub(super) cancelled: Vec<usize>,
}

impl Sim {
    pub(super) fn new(specs: Vec<Spec>, conflicts: Vec<(usize, usize)>) -> Sim {
        let n = specs.len();
        let limits = Limits {
            failures_per_tier: 2,
            tiers: 1,
            review_rounds: 2,
            plan_rounds: 2,
            merge_attempts: 3,
            // The simulated verify is the same for branches and candidates.
            skip_identical_candidates: true,
        };
        let flow = Flow {
            plan: false,
            plan_review: false,
            review: false,
            approval_at: None,
            best_of: 0,
            survey: false,
            prepared: false,
        };
        let root = oid("root");
        let mut sim = Sim {
            specs,
            conflicts,
            states: vec![TaskState::new(flow, Risk::Low, 0); n],
            arrival: vec![0; n],
            version: vec![0; n],
            resolved: vec![false; n],
            clock: 0,
            commits: HashMap::from([(root.clone(), Contents::new())]),
            tip: root,
            next_id: 0,
            jobs: Vec::new(),
            land_job: None,
            passed_trees: HashSet::new(),
            runs_of: HashMap::new(),
            flaky: HashSet::new(),
            external_moves: 0,
            limits,
            ejected: Vec::new(),
            resolver_runs: Vec::new(),
            landed_order: Vec::new(),
            batch: 1,
            outcomes: HashMap::new(),
            candidate_verifies: 0,
            batches_built: 0,
            bisections: 0,
            flaky_every: 5,
            groups: HashMap::new(),
            crash_after: None,
            cancelled: Vec::new(),
        };
        // Tasks start at once, whatever they depend on: the queue must keep the order itself.
        for i in 0..n {
            sim.apply(i, Input::Promote);
            sim.apply(i, Input::Start);
        }
        sim
    }

    pub(super) fn fresh(&mut self, prefix: &str) -> ObjectId {
        self.next_id += 1;
        oid(&format!("{prefix}{}", self.next_id))
    }

    pub(super) fn tip_contents(&self) -> &Contents {
        &self.commits[&self.tip]
    }

    pub(super) fn guilty(&self, task: usize, version: u32) -> bool {
        task < self.specs.len() && self.specs[task].guilty && version == 1
    }

    pub(super) fn partners(&self, task: usize) -> Vec<usize> {
        self.conflicts
            .iter()
            .filter_map(|&(a, b)| {
                if a == task {
                    Some(b)
                } else if b == task {
                    Some(a)
                } else {
                    None
                }
            })
            .collect()
    }

    /// Whether `task`'s branch conflicts with a tree holding `contents`.
    pub(super) fn conflicts_with(&self, task: usize, contents: &Contents) -> bool {
        !self.resolved[task] && self.partners(task).iter().any(|p| contents.contains_key(p))
    }

    /// Records how the current version of `task`'s branch left the queue.
    pub(super) fn outcome(&mut self, task: usize, how: &'static str) {
        self.outcomes
            .entry((task, self.version[task]))
            .or_default()
            .push(how);
    }

    pub(super) fn merged(&self, task: usize) -> bool {
        self.states[task].status == Status::Merged
    }

    /// Applies an input the simulated engine knows to be valid, and queues its effects.
    pub(super) fn apply(&mut self, task: usize, input: Input) {
        let (next, effects) = match transition(&self.states[task], &input, &self.limits) {
            Ok(r) => r,
            Err(e) => panic!(
                "task {task}: {input:?} refused in {:?}: {e}",
                self.states[task].status
            ),
        };
        let was_queued = self.states[task].status == Status::Queued;
        let was_in_queue = matches!(self.states[task].status, Status::Queued | Status::Merging);
        if was_in_queue && matches!(input, Input::Conflict { .. }) {
            self.outcome(task, "resolver");
        }
        self.states[task] = next;
        if self.states[task].status == Status::Queued && !was_queued {
            self.arrival[task] = self.clock;
        }
        for effect in effects {
            match effect {
                Effect::StartRun { role, .. } => self.jobs.push(Job::Run { task, role }),
                Effect::Verify { commit, purpose } => self.jobs.push(Job::Verify {
                    task,
                    commit,
                    purpose,
                }),
                Effect::CancelJobs => self.jobs.retain(|j| match j {
                    Job::Run { task: t, .. } | Job::Verify { task: t, .. } => *t != task,
                }),
                Effect::Cleanup { .. }
                | Effect::FreshBranch
                | Effect::Notify(_)
                | Effect::CreateChildren => {}
                // No best-of tasks in this simulation.
                Effect::StartAttempt { .. }
                | Effect::VerifyAttempt { .. }
                | Effect::SettleAttempts { .. } => {}
            }
        }
    }

    /// The engine crashed: the inputs of the plan it was carrying out stop here.
    fn crashed(&self) -> bool {
        self.crash_after == Some(0)
    }

    /// Applies an input of the plan being carried out, unless the engine crashed first (then
    /// `false`: nothing more of the plan happens).
    fn planned(&mut self, task: usize, input: Input) -> bool {
        match self.crash_after {
            Some(0) => return false,
            Some(n) => self.crash_after = Some(n - 1),
            None => {}
        }
        self.apply(task, input);
        true
    }

    pub(super) fn view(&self) -> View {
        let entries = (0..self.specs.len())
            .filter_map(|i| {
                let s = &self.states[i];
                let in_queue = matches!(s.status, Status::Queued | Status::Merging);
                in_queue.then(|| Entry {
                    task: TaskId(i as i64),
                    priority: self.specs[i].priority,
                    arrival: match &s.queue {
                        Some(slot) => slot.since_ms,
                        None => self.arrival[i],
                    },
                    waiting_on: self.specs[i]
                        .deps
                        .iter()
                        .filter(|d| !self.merged(**d))
                        .map(|d| TaskId(*d as i64))
                        .collect(),
                    slot: s.queue.clone(),
                    place: s.place.as_ref().map(|p| p.rank),
                    candidate: if s.status == Status::Merging {
                        s.candidate.clone()
                    } else {
                        None
                    },
                })
            })
            .collect();
        View {
            tip: self.tip.clone(),
            entries,
            max_train: 4,
            batch: self.batch,
            landed: (0..self.specs.len())
                .filter(|i| self.merged(*i))
                .map(|i| TaskId(i as i64))
                .collect(),
        }
    }

    /// The queue's engine: plan, carry out, plan again, until only a landing (or nothing) is left.
    pub(super) fn drive(&mut self) -> Result<(), TestCaseError> {
        if self.land_job.is_some() {
            return Ok(());
        }
        for _ in 0..(self.specs.len() * 6 + 10) {
            let view = self.view();
            let actions = plan(&view);
            self.check_join_order(&view, &actions)?;
            let mut acted = false;
            let mut landing = None;
            for action in actions {
                match action {
                    Action::Land(l) => landing = Some(l),
                    Action::Build { tasks, onto } => {
                        let tasks: Vec<usize> = tasks.iter().map(|t| t.0 as usize).collect();
                        self.build_unit(&tasks, onto)?;
                        acted = true;
                    }
                    other => {
                        if let Action::Bisect { tasks, group, .. } = &other {
                            self.bisections += 1;
                            let tasks = tasks.iter().map(|t| t.0 as usize).collect();
                            self.groups.insert(group.clone(), tasks);
                        }
                        for (task, input) in other.inputs() {
                            let i = task.0 as usize;
                            if self.crashed() {
                                break;
                            }
                            if input == Input::Eject {
                                self.check_guilty(i)?;
                            }
                            self.planned(i, input);
                            acted = true;
                        }
                    }
                }
                if self.crashed() {
                    // Restarted: the next round plans from what the tasks hold.
                    self.crash_after = None;
                    return Ok(());
                }
            }
            if !acted {
                self.land_job = landing;
                self.check_cap(&view)?;
                return self.check_suspects();
            }
        }
        Err(TestCaseError::fail("the planner kept asking for more"))
    }

    /// Builds the candidate of `tasks`: one task as [`Sim::build`], a batch as one commit of
    /// their branches applied in order, up to the first that does not apply (built next, alone).
    pub(super) fn build_unit(
        &mut self,
        tasks: &[usize],
        onto: ObjectId,
    ) -> Result<(), TestCaseError> {
        let base = self
            .commits
            .get(&onto)
            .cloned()
            .ok_or_else(|| TestCaseError::fail(format!("build on unknown {onto}")))?;
        let mut contents = base;
        let mut included = Vec::new();
        for &task in tasks {
            prop_assert!(
                self.states[task].status == Status::Merging
                    && self.states[task].candidate.is_none(),
                "task {task} built while {:?} with {:?}",
                self.states[task].status,
                self.states[task].candidate
            );
            if self.conflicts_with(task, &contents) {
                break;
            }
            contents.insert(task, self.version[task]);
            included.push(task);
        }
        if included.len() < 2 {
            return self.build(tasks[0], onto);
        }
        let commit = self.fresh("b");
        let tree = tree_of(&contents);
        self.commits.insert(commit.clone(), contents);
        if self.flaky_every > 0 && self.next_id.is_multiple_of(self.flaky_every) {
            self.flaky.insert(commit.clone());
        }
        self.batches_built += 1;
        let batch: Vec<TaskId> = included.iter().map(|t| TaskId(*t as i64)).collect();
        let last = included.len() - 1;
        for (k, &task) in included.iter().enumerate() {
            self.planned(
                task,
                Input::BatchReady {
                    commit: commit.clone(),
                    tree: tree.clone(),
                    onto: onto.clone(),
                    batch: batch.clone(),
                    lead: k == last,
                    change: None,
                },
            );
        }
        Ok(())
    }

    pub(super) fn build(&mut self, task: usize, onto: ObjectId) -> Result<(), TestCaseError> {
        let base = self
            .commits
            .get(&onto)
            .cloned()
            .ok_or_else(|| TestCaseError::fail(format!("build on unknown {onto}")))?;
        if self.conflicts_with(task, &base) {
            let tip = self.tip_contents().clone();
            if self.conflicts_with(task, &tip) {
                self.planned(
                    task,
                    Input::Conflict {
                        files: vec!["f".into()],
                    },
                );
            } else {
                self.planned(
                    task,
                    Input::Park {
                        onto,
                        files: vec!["f".into()],
                    },
                );
            }
            return Ok(());
        }
        let mut contents = base;
        contents.insert(task, self.version[task]);
        let commit = self.fresh("m");
        let tree = tree_of(&contents);
        self.commits.insert(commit.clone(), contents);
        if self.flaky_every > 0 && self.next_id.is_multiple_of(self.flaky_every) {
            self.flaky.insert(commit.clone());
        }
        self.planned(task, Input::CandidateReady { commit, tree, onto });
        Ok(())
    }

    pub(super) fn run_job(&mut self, index: usize) -> Result<(), TestCaseError> {
        match self.jobs.remove(index) {
            Job::Run { task, role } => {
                self.version[task] += 1;
                if role == Role::Resolver {
                    // The resolver merged the target into the branch.
                    self.resolved[task] = true;
                    self.resolver_runs.push(task);
                }
                let head = oid(&format!("h{task}.{}", self.version[task]));
                self.apply(
                    task,
                    Input::RunFinished {
                        role,
                        result: RunResult::Code { head, risk: None },
                    },
                );
            }
            Job::Verify {
                task,
                commit,
                purpose: VerifyPurpose::Branch,
            } => {
                // The branch passes its own tests; only merged with others can it break them.
                let tip = self.tip_contents().clone();
                let conflicts = if self.conflicts_with(task, &tip) {
                    vec!["f".into()]
                } else {
                    vec![]
                };
                self.apply(
                    task,
                    Input::VerifyFinished {
                        commit,
                        tree: oid(&format!("branch-tree-{task}.{}", self.version[task])),
                        passed: true,
                        summary: String::new(),
                        conflicts,
                    },
                );
            }
            Job::Verify {
                task,
                commit,
                purpose: VerifyPurpose::Candidate,
            } => {
                let contents = self.commits[&commit].clone();
                let tree = tree_of(&contents);
                self.candidate_verifies += 1;
                let runs = {
                    let runs = self.runs_of.entry(commit.clone()).or_insert(0);
                    *runs += 1;
                    *runs
                };
                let broken = contents.iter().any(|(&t, &v)| self.guilty(t, v));
                let flaky_now = runs == 1 && self.flaky.contains(&commit);
                let passed = !broken && !flaky_now;
                if passed {
                    self.passed_trees.insert(tree.clone());
                }
                self.apply(
                    task,
                    Input::VerifyFinished {
                        commit,
                        tree,
                        passed,
                        summary: "tests failed".into(),
                        conflicts: vec![],
                    },
                );
            }
        }
        Ok(())
    }

    pub(super) fn land(&mut self) -> Result<(), TestCaseError> {
        let Some(landing) = self.land_job.take() else {
            return Ok(());
        };
        if landing.onto != self.tip {
            // The compare-and-swap fails; the planner rebuilds on the new tip.
            return Ok(());
        }
        let changed = landing.tasks.iter().any(|l| {
            let s = &self.states[l.task.0 as usize];
            s.status != Status::Merging
                || s.candidate.as_ref().map(|c| &c.commit) != Some(&l.commit)
        });
        if changed {
            // A task of it was cancelled meanwhile: the job finds the train changed and lands
            // nothing; the planner goes on without it.
            return Ok(());
        }
        let old = self.tip_contents().clone();
        let new = self.commits[&landing.commit].clone();
        prop_assert!(
            old.iter().all(|(t, v)| new.get(t) == Some(v)),
            "the target would move backwards: {old:?} → {new:?}"
        );
        prop_assert_eq!(tree_of(&new), landing.tree.clone());
        let mut positions = Vec::new();
        for (k, landed) in landing.tasks.iter().enumerate() {
            let task = landed.task.0 as usize;
            prop_assert!(
                self.passed_trees.contains(&landed.tree),
                "task {task} lands tree {} that never passed verify",
                landed.tree
            );
            prop_assert_eq!(tree_of(&self.commits[&landed.commit]), landed.tree.clone());
            for dep in &self.specs[task].deps {
                let before = self.merged(*dep)
                    || landing.tasks[..k]
                        .iter()
                        .any(|l| l.task == TaskId(*dep as i64));
                prop_assert!(before, "task {task} lands before its dependency {dep}");
            }
            positions.push(self.states[task].queue.as_ref().map(|q| q.position));
        }
        prop_assert!(
            positions.windows(2).all(|w| w[0] < w[1]),
            "landed out of train order: {positions:?}"
        );
        prop_assert!(
            self.passed_trees.contains(&landing.tree),
            "the target moves to a tree that never passed verify"
        );
        self.tip = landing.commit.clone();
        for landed in &landing.tasks {
            let task = landed.task.0 as usize;
            self.apply(task, landed.input());
            self.landed_order.push(task);
            self.outcome(task, "landed");
        }
        let broken: Vec<(usize, u32)> = self
            .tip_contents()
            .iter()
            .filter(|(t, v)| self.guilty(**t, **v))
            .map(|(t, v)| (*t, *v))
            .collect();
        prop_assert!(broken.is_empty(), "guilty branches landed: {broken:?}");
        Ok(())
    }

    /// A person puts a waiting task at a place in the line (`gaffer queue move`).
    pub(super) fn place(&mut self, any: usize) {
        let waiting: Vec<usize> = (0..self.specs.len())
            .filter(|i| self.states[*i].status == Status::Queued)
            .collect();
        if waiting.is_empty() {
            return;
        }
        let task = waiting[any % waiting.len()];
        let rank = (any / 7 % 3) as u32 + 1;
        let since_ms = self.arrival[task];
        self.apply(task, Input::Place { rank, since_ms });
    }

    /// A person cancels a task that waits in the queue or is a suspect of a failed batch (and
    /// now and then any in the train) on which no other task depends; a third of them at most.
    pub(super) fn cancel(&mut self, any: usize) {
        let n = self.specs.len();
        if self.cancelled.len() > n / 3 {
            return;
        }
        let depended_on = |i: usize| {
            (0..n).any(|j| {
                self.specs[j].deps.contains(&i) && self.states[j].status != Status::Cancelled
            })
        };
        let cancellable: Vec<usize> = (0..n)
            .filter(|i| {
                let s = &self.states[*i];
                let suspect = s.queue.as_ref().is_some_and(|q| q.suspect.is_some());
                (s.status == Status::Queued
                    || suspect
                    || (s.status == Status::Merging && any.is_multiple_of(3)))
                    && !depended_on(*i)
            })
            .collect();
        if cancellable.is_empty() {
            return;
        }
        let task = cancellable[any % cancellable.len()];
        self.outcome(task, "cancelled");
        self.apply(
            task,
            Input::Cancel {
                reason: "a person changed their mind".into(),
            },
        );
        self.cancelled.push(task);
    }

    /// Someone else pushes to the target.
    pub(super) fn move_target(&mut self) {
        let mut contents = self.tip_contents().clone();
        contents.insert(1000 + self.external_moves as usize, 0);
        self.external_moves += 1;
        let commit = self.fresh("ext");
        self.passed_trees.insert(tree_of(&contents));
        self.commits.insert(commit.clone(), contents);
        self.tip = commit;
    }

    pub(super) fn step(&mut self, pick: u16) -> Result<(), TestCaseError> {
        self.clock += 1;
        let which = pick % 10;
        let any = usize::from(pick / 10);
        match which {
            3..=7 if !self.jobs.is_empty() => {
                let index = if which <= 5 {
                    // Results in any order.
                    any % self.jobs.len()
                } else {
                    0
                };
                self.run_job(index)
            }
            8 if self.land_job.is_some() => self.land(),
            9 if self.external_moves < 2 && pick.is_multiple_of(7) => {
                self.move_target();
                Ok(())
            }
            9 if pick % 7 == 3 => {
                self.place(any);
                Ok(())
            }
            9 if pick % 7 == 5 => {
                // `batch = "auto"` changes its mind as the queue and its failures change.
                self.batch = 1 + any % 6;
                Ok(())
            }
            9 if pick % 7 == 1 => {
                self.cancel(any);
                Ok(())
            }
            9 if pick % 7 == 6 => {
                // The engine crashes while it carries out a plan, and starts again.
                self.crash_after = Some(any % 4);
                self.drive()
            }
            _ => self.drive(),
        }
    }

    pub(super) fn settle(&mut self) -> Result<(), TestCaseError> {
        for _ in 0..2000 {
            let done = |s: &TaskState| matches!(s.status, Status::Merged | Status::Cancelled);
            if self.states.iter().all(done) {
                return Ok(());
            }
            self.clock += 1;
            self.drive()?;
            self.land()?;
            while !self.jobs.is_empty() {
                self.run_job(0)?;
            }
        }
        let statuses: Vec<(Status, Option<String>)> = self
            .states
            .iter()
            .map(|s| (s.status, s.note.clone()))
            .collect();
        Err(TestCaseError::fail(format!(
            "the queue did not drain: {statuses:?}, jobs {:?}, landing {:?}",
            self.jobs, self.land_job
        )))
    }
}
