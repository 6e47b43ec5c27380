//! The planner driven by a simulated engine over random queues: random priorities,
//! dependencies, branches that break the target, conflicting branches, flaky verify, targets
//! that move, and verify results arriving in any order. Every task goes through the real machine.

use super::*;
use crate::machine::CandidateStatus;
use crate::machine::{Effect, Flow, Limits, RunResult, TaskState, VerifyPurpose, transition};
use crate::task::{Risk, Role};
use proptest::prelude::*;
use std::collections::{BTreeMap, HashMap, HashSet};

fn oid(s: &str) -> ObjectId {
    ObjectId::new(s)
}

/// What one task is, unknown to the queue.
#[derive(Debug, Clone)]
struct Spec {
    priority: Priority,
    deps: Vec<usize>,
    /// Its first version breaks the target (its coder fixes it when sent back).
    guilty: bool,
}

/// Contents of a tree: task → version of its branch (external changes have ids ≥ 1000).
type Contents = BTreeMap<usize, u32>;

fn tree_of(contents: &Contents) -> ObjectId {
    let parts: Vec<String> = contents.iter().map(|(t, v)| format!("{t}.{v}")).collect();
    oid(&format!("t:{}", parts.join(",")))
}

#[derive(Debug, Clone)]
enum Job {
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

struct Sim {
    specs: Vec<Spec>,
    /// Unordered pairs of tasks whose branches conflict textually.
    conflicts: Vec<(usize, usize)>,
    states: Vec<TaskState>,
    arrival: Vec<i64>,
    version: Vec<u32>,
    resolved: Vec<bool>,
    clock: i64,
    commits: HashMap<ObjectId, Contents>,
    tip: ObjectId,
    next_id: u32,
    jobs: Vec<Job>,
    land_job: Option<Landing>,
    passed_trees: HashSet<ObjectId>,
    runs_of: HashMap<ObjectId, u32>,
    flaky: HashSet<ObjectId>,
    external_moves: u32,
    limits: Limits,
    // What happened, for the final checks.
    ejected: Vec<usize>,
    resolver_runs: Vec<usize>,
    landed_order: Vec<usize>,
    /// The most tasks tested as one candidate (changes during a run, as `batch = "auto"` does).
    batch: usize,
    /// How each version of a branch left the queue: landed, ejected, or sent to a resolver.
    outcomes: HashMap<(usize, u32), Vec<&'static str>>,
    /// Verify runs of candidates, and how many of them tested a batch.
    candidate_verifies: u32,
    batches_built: u32,
    bisections: u32,
    /// Every candidate whose id is a multiple of this fails its first verify (0: none).
    flaky_every: u32,
}

impl Sim {
    fn new(specs: Vec<Spec>, conflicts: Vec<(usize, usize)>) -> Sim {
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
        };
        // Tasks start at once, whatever they depend on: the queue must keep the order itself.
        for i in 0..n {
            sim.apply(i, Input::Promote);
            sim.apply(i, Input::Start);
        }
        sim
    }

    fn fresh(&mut self, prefix: &str) -> ObjectId {
        self.next_id += 1;
        oid(&format!("{prefix}{}", self.next_id))
    }

    fn tip_contents(&self) -> &Contents {
        &self.commits[&self.tip]
    }

    fn guilty(&self, task: usize, version: u32) -> bool {
        task < self.specs.len() && self.specs[task].guilty && version == 1
    }

    fn partners(&self, task: usize) -> Vec<usize> {
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
    fn conflicts_with(&self, task: usize, contents: &Contents) -> bool {
        !self.resolved[task] && self.partners(task).iter().any(|p| contents.contains_key(p))
    }

    /// Records how the current version of `task`'s branch left the queue.
    fn outcome(&mut self, task: usize, how: &'static str) {
        self.outcomes
            .entry((task, self.version[task]))
            .or_default()
            .push(how);
    }

    fn merged(&self, task: usize) -> bool {
        self.states[task].status == Status::Merged
    }

    /// Applies an input the simulated engine knows to be valid, and queues its effects.
    fn apply(&mut self, task: usize, input: Input) {
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

    fn view(&self) -> View {
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
    fn drive(&mut self) -> Result<(), TestCaseError> {
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
                        if matches!(other, Action::Bisect { .. }) {
                            self.bisections += 1;
                        }
                        for (task, input) in other.inputs() {
                            let i = task.0 as usize;
                            if input == Input::Eject {
                                self.check_guilty(i)?;
                            }
                            self.apply(i, input);
                            acted = true;
                        }
                    }
                }
            }
            if !acted {
                self.land_job = landing;
                return self.check_cap(&view);
            }
        }
        Err(TestCaseError::fail("the planner kept asking for more"))
    }

    /// At most `max_train` candidates, batches or single tasks, are in the train at once.
    fn check_cap(&self, view: &View) -> Result<(), TestCaseError> {
        let candidates: HashSet<&ObjectId> = self
            .states
            .iter()
            .filter(|s| s.status == Status::Merging)
            .filter_map(|s| s.candidate.as_ref().map(|c| &c.commit))
            .collect();
        prop_assert!(
            candidates.len() <= view.max_train,
            "{} candidates in a train of {}",
            candidates.len(),
            view.max_train
        );
        Ok(())
    }

    /// Priority, then arrival: a task never joins while one ranked before it waits for no
    /// reason.
    fn check_join_order(&self, view: &View, actions: &[Action]) -> Result<(), TestCaseError> {
        let requeued: HashSet<TaskId> = actions
            .iter()
            .filter_map(|a| match a {
                Action::Requeue { task } => Some(*task),
                _ => None,
            })
            .collect();
        let mut members: HashSet<TaskId> = train(view)
            .iter()
            .map(|e| e.task)
            .filter(|t| !requeued.contains(t))
            .collect();
        let waiting = waiting(view);
        for action in actions {
            let Action::Join { task, .. } = action else {
                continue;
            };
            for y in &waiting {
                if y.task == *task {
                    break;
                }
                let free = y.waiting_on.iter().all(|d| members.contains(d));
                prop_assert!(
                    members.contains(&y.task) || !free,
                    "task {} joined before {}, which ranks first and waits on nothing",
                    task,
                    y.task
                );
            }
            members.insert(*task);
        }
        Ok(())
    }

    /// An ejected branch is itself what breaks its candidate: everything else in it is innocent.
    fn check_guilty(&mut self, task: usize) -> Result<(), TestCaseError> {
        let candidate = self.states[task]
            .candidate
            .clone()
            .ok_or_else(|| TestCaseError::fail("ejected without a candidate"))?;
        let contents = &self.commits[&candidate.commit];
        prop_assert!(
            self.guilty(task, self.version[task]),
            "innocent task {task} ejected (candidate {contents:?})"
        );
        for (&t, &v) in contents {
            prop_assert!(
                t == task || !self.guilty(t, v),
                "task {task} ejected from a candidate that also holds guilty task {t}"
            );
        }
        self.ejected.push(task);
        self.outcome(task, "ejected");
        Ok(())
    }

    /// Builds the candidate of `tasks`: one task as [`Sim::build`], a batch as one commit of
    /// their branches applied in order, up to the first that does not apply (built next, alone).
    fn build_unit(&mut self, tasks: &[usize], onto: ObjectId) -> Result<(), TestCaseError> {
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
            self.apply(
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

    fn build(&mut self, task: usize, onto: ObjectId) -> Result<(), TestCaseError> {
        let base = self
            .commits
            .get(&onto)
            .cloned()
            .ok_or_else(|| TestCaseError::fail(format!("build on unknown {onto}")))?;
        if self.conflicts_with(task, &base) {
            let tip = self.tip_contents().clone();
            if self.conflicts_with(task, &tip) {
                self.apply(
                    task,
                    Input::Conflict {
                        files: vec!["f".into()],
                    },
                );
            } else {
                self.apply(
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
        self.apply(task, Input::CandidateReady { commit, tree, onto });
        Ok(())
    }

    fn run_job(&mut self, index: usize) -> Result<(), TestCaseError> {
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

    fn land(&mut self) -> Result<(), TestCaseError> {
        let Some(landing) = self.land_job.take() else {
            return Ok(());
        };
        if landing.onto != self.tip {
            // The compare-and-swap fails; the planner rebuilds on the new tip.
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
    fn place(&mut self, any: usize) {
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

    /// Someone else pushes to the target.
    fn move_target(&mut self) {
        let mut contents = self.tip_contents().clone();
        contents.insert(1000 + self.external_moves as usize, 0);
        self.external_moves += 1;
        let commit = self.fresh("ext");
        self.passed_trees.insert(tree_of(&contents));
        self.commits.insert(commit.clone(), contents);
        self.tip = commit;
    }

    fn step(&mut self, pick: u16) -> Result<(), TestCaseError> {
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
            _ => self.drive(),
        }
    }

    fn settle(&mut self) -> Result<(), TestCaseError> {
        for _ in 0..2000 {
            if self.states.iter().all(|s| s.status == Status::Merged) {
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

fn arb_specs() -> impl Strategy<Value = (Vec<Spec>, Vec<(usize, usize)>)> {
    (2usize..10).prop_flat_map(|n| {
        let spec = (0i32..3, any::<u16>(), proptest::bool::weighted(0.25));
        (
            proptest::collection::vec(spec, n),
            proptest::collection::vec((0..n, 0..n), 0..3),
        )
            .prop_map(move |(raw, pairs)| {
                let specs = raw
                    .into_iter()
                    .enumerate()
                    .map(|(i, (priority, deps, guilty))| Spec {
                        priority,
                        // Up to two earlier tasks, chosen by the bits of `deps`.
                        deps: (0..i)
                            .filter(|j| deps & (1 << (j % 16)) != 0 && (deps >> 8) % 3 == 0)
                            .take(2)
                            .collect(),
                        guilty,
                    })
                    .collect();
                let pairs = pairs.into_iter().filter(|(a, b)| a != b).collect();
                (specs, pairs)
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    /// Random queues under a random but well-behaved engine: every landed tree passed verify
    /// exactly as landed; the target only moves forward; a guilty branch never lands; only the
    /// guilty branch is ever ejected and only genuine conflicts go to a resolver (an innocent
    /// branch is never rejected because of another, nor because verify is flaky); a task never
    /// lands before what it depends on; tasks join by priority, then arrival; and in the end
    /// every task lands.
    #[test]
    fn the_queue_lands_exactly_the_innocent_and_keeps_every_promise(
        (specs, conflicts) in arb_specs(),
        picks in proptest::collection::vec(any::<u16>(), 50..400),
        batch in prop_oneof![Just(1usize), 2usize..9],
    ) {
        let guilty: Vec<usize> =
            (0..specs.len()).filter(|i| specs[*i].guilty).collect();
        let mut sim = Sim::new(specs, conflicts);
        sim.batch = batch;
        for pick in picks {
            sim.step(pick)?;
        }
        sim.settle()?;
        let mut ejected = sim.ejected.clone();
        ejected.sort_unstable();
        ejected.dedup();
        // A guilty branch that reached the queue with its bad version was ejected once; every
        // task merged in the end (the coders fixed theirs).
        prop_assert!(ejected.iter().all(|t| guilty.contains(t)));
        prop_assert_eq!(sim.ejected.len(), ejected.len(), "a branch was ejected twice");
        prop_assert_eq!(sim.landed_order.len(), sim.specs.len());
        // Only a branch that really conflicts with another ever goes to a resolver.
        for task in &sim.resolver_runs {
            prop_assert!(!sim.partners(*task).is_empty(), "task {task} was sent to a resolver");
        }
        // Every version of a branch that left the queue left it once: landed, ejected (only
        // a guilty one), or sent to a resolver.
        for ((task, version), how) in &sim.outcomes {
            prop_assert_eq!(how.len(), 1, "task {} version {}: {:?}", task, version, how);
            if how[0] == "ejected" {
                prop_assert!(sim.guilty(*task, *version), "innocent {task}.{version} ejected");
            }
            if how[0] == "landed" {
                prop_assert!(!sim.guilty(*task, *version), "guilty {task}.{version} landed");
            }
        }
        for task in 0..sim.specs.len() {
            let landed = sim.outcomes.iter().filter(|((t, _), h)| *t == task && h[0] == "landed").count();
            prop_assert_eq!(landed, 1, "task {} landed {} times", task, landed);
        }
        // No suspect is left once the queue drained.
        prop_assert!(sim.states.iter().all(|s| s.queue.is_none()));
    }
}

/// A small queue by hand: three branches, the middle one guilty. The first and third land, the
/// middle one is ejected after a recheck, and the third is rebuilt without it.
#[test]
fn the_guilty_middle_branch_is_ejected_and_the_others_land() {
    let specs = vec![
        Spec {
            priority: 0,
            deps: vec![],
            guilty: false,
        },
        Spec {
            priority: 0,
            deps: vec![],
            guilty: true,
        },
        Spec {
            priority: 0,
            deps: vec![],
            guilty: false,
        },
    ];
    let mut sim = Sim::new(specs, vec![]);
    // Code and verify every branch.
    while !sim.jobs.is_empty() {
        sim.run_job(0).unwrap();
    }
    sim.drive().unwrap();
    let train: Vec<i64> = train(&sim.view()).iter().map(|e| e.task.0).collect();
    assert_eq!(train, vec![0, 1, 2]);
    // Verify the three candidates, last first.
    while let Some(i) = sim
        .jobs
        .iter()
        .rposition(|j| matches!(j, Job::Verify { .. }))
    {
        sim.run_job(i).unwrap();
    }
    sim.drive().unwrap();
    assert!(
        sim.land_job.as_ref().is_some_and(|l| l.tasks.len() == 1),
        "only the first lands: {:?}",
        sim.land_job
    );
    sim.land().unwrap();
    sim.drive().unwrap();
    // Task 1 is rechecked (once) and fails again.
    while let Some(i) = sim
        .jobs
        .iter()
        .position(|j| matches!(j, Job::Verify { .. }))
    {
        sim.run_job(i).unwrap();
    }
    sim.drive().unwrap();
    assert_eq!(sim.ejected, vec![1]);
    assert_eq!(sim.states[1].status, Status::Coding);
    sim.settle().unwrap();
    assert_eq!(sim.landed_order[..2], [0, 2]);
    assert_eq!(sim.landed_order[2], 1);
}

/// The landing is one step for the whole passing prefix.
#[test]
fn the_longest_passing_prefix_lands_at_once() {
    let cand = |commit: &str, onto: &str, status: CandidateStatus| Candidate {
        commit: oid(commit),
        tree: oid(&format!("tree-{commit}")),
        onto: oid(onto),
        status,
        flaky: false,
        batch: vec![],
        change: None,
    };
    let entry = |task: i64, position: u64, candidate: Candidate| Entry {
        task: TaskId(task),
        priority: 0,
        arrival: 0,
        waiting_on: vec![],
        place: None,
        slot: Some(QueueSlot {
            position,
            since_ms: 0,
            parked_on: None,
            suspect: None,
            group: vec![],
        }),
        candidate: Some(candidate),
    };
    let view = View {
        tip: oid("tip"),
        entries: vec![
            entry(3, 3, cand("c3", "c2", CandidateStatus::Pending)),
            entry(1, 1, cand("c1", "tip", CandidateStatus::Passed)),
            entry(2, 2, cand("c2", "c1", CandidateStatus::Passed)),
        ],
        max_train: 8,
        batch: 1,
        landed: BTreeSet::new(),
    };
    let actions = plan(&view);
    assert_eq!(actions.len(), 1, "{actions:?}");
    let Action::Land(landing) = &actions[0] else {
        panic!("{actions:?}")
    };
    assert_eq!(landing.commit, oid("c2"));
    assert_eq!(landing.onto, oid("tip"));
    assert_eq!(
        landing.tasks.iter().map(|t| t.task.0).collect::<Vec<_>>(),
        [1, 2]
    );
}

/// A person's places come first in the waiting line, whatever the priorities; the rest wait by
/// priority, then arrival. The train keeps its order.
#[test]
fn placed_tasks_join_first_in_the_order_of_their_places() {
    let waiting = |task: i64, priority: i32, arrival: i64, place: Option<u32>| Entry {
        task: TaskId(task),
        priority,
        arrival,
        waiting_on: vec![],
        slot: None,
        place,
        candidate: None,
    };
    let view = View {
        tip: oid("tip"),
        entries: vec![
            waiting(1, 5, 10, None),
            waiting(2, 0, 20, Some(2)),
            waiting(3, 9, 30, None),
            waiting(4, 0, 40, Some(1)),
        ],
        max_train: 2,
        batch: 1,
        landed: BTreeSet::new(),
    };
    let order: Vec<i64> = waiting_order(&view);
    assert_eq!(order, [4, 2, 3, 1]);
    let joined: Vec<i64> = plan(&view)
        .iter()
        .filter_map(|a| match a {
            Action::Join { task, .. } => Some(task.0),
            _ => None,
        })
        .collect();
    assert_eq!(joined, [4, 2], "the two placed tasks fill the train");
}

fn waiting_order(view: &View) -> Vec<i64> {
    waiting(view).iter().map(|e| e.task.0).collect()
}

impl Sim {
    /// As [`Sim::settle`], with one heavy slot: the oldest job runs alone, and the queue plans
    /// after each (as the engine does).
    fn settle_one_at_a_time(&mut self) -> Result<(), TestCaseError> {
        for _ in 0..2000 {
            if self.states.iter().all(|s| s.status == Status::Merged) {
                return Ok(());
            }
            self.clock += 1;
            self.drive()?;
            self.land()?;
            self.drive()?;
            if !self.jobs.is_empty() {
                self.run_job(0)?;
            }
        }
        Err(TestCaseError::fail("the queue did not drain"))
    }
}

fn plain(n: usize, guilty: &[usize]) -> Vec<Spec> {
    (0..n)
        .map(|i| Spec {
            priority: 0,
            deps: vec![],
            guilty: guilty.contains(&i),
        })
        .collect()
}

/// Codes and verifies every branch, so that all of them wait in the queue.
fn all_queued(specs: Vec<Spec>, batch: usize) -> Sim {
    let mut sim = Sim::new(specs, vec![]);
    sim.batch = batch;
    sim.flaky_every = 0;
    while !sim.jobs.is_empty() {
        sim.run_job(0).unwrap();
    }
    sim
}

/// Eight innocent branches, batches of eight: one candidate (one commit on the target, whose
/// tree is the one verified), one verify, one landing.
#[test]
fn a_batch_that_passes_lands_as_one_commit_after_one_verify() {
    let mut sim = all_queued(plain(8, &[]), 8);
    sim.drive().unwrap();
    let view = sim.view();
    let units = units(&train(&view));
    assert_eq!(units.len(), 1, "one batch of eight: {units:?}");
    assert_eq!(units[0].len(), 8);
    sim.settle().unwrap();
    assert_eq!(sim.candidate_verifies, 1);
    assert_eq!(sim.landed_order, (0..8).collect::<Vec<_>>());
    assert_eq!(sim.bisections, 0);
}

/// Eight branches, the sixth guilty, tested as one batch: the batch fails, its first half
/// passes and lands, the rest is known to hold the guilty branch and is halved again without
/// being tested whole, down to the guilty branch, which fails twice alone and is ejected; the
/// innocent last one lands, then the guilty one once its coder fixed it.
#[test]
fn a_failed_batch_is_bisected_down_to_the_guilty_branch() {
    let mut sim = all_queued(plain(8, &[5]), 8);
    sim.settle_one_at_a_time().unwrap();
    assert_eq!(sim.ejected, vec![5]);
    assert!(sim.bisections >= 1);
    // The batch, the halves on the way to #5 ([0, 4), [4, 6), [4], [5] twice), the two
    // innocent ones behind it, #5 fixed: 8 (a serial queue: 8, a recheck, #5 fixed: 10).
    assert!(
        sim.candidate_verifies <= 8,
        "{} verify runs for eight branches with one guilty",
        sim.candidate_verifies
    );
    assert_eq!(&sim.landed_order[..4], &[0, 1, 2, 3]);
    assert_eq!(sim.landed_order.len(), 8);
    assert_eq!(sim.landed_order.iter().filter(|t| **t == 5).count(), 1);
}

/// While a batch is bisected, its suspects are only tested with each other, in halves that
/// stack: the first half on the tip, the first half of the rest on it, and so on.
#[test]
fn suspects_are_tested_in_stacked_halves() {
    let mut sim = all_queued(plain(8, &[6]), 8);
    sim.drive().unwrap();
    // The batch of eight fails.
    sim.run_job(0).unwrap();
    sim.drive().unwrap();
    let view = sim.view();
    let sizes: Vec<usize> = units(&train(&view)).iter().map(Vec::len).collect();
    assert_eq!(sizes, [4, 2, 1, 1], "{sizes:?}");
    assert!(
        train(&view).iter().all(|e| e.suspect().is_some()),
        "every task of the failed batch is a suspect"
    );
    sim.settle().unwrap();
    assert_eq!(sim.ejected, vec![6]);
}
