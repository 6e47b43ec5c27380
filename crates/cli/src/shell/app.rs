//! What the shell shows and how keys change it: the board, the feed, the selected task, an open
//! pane, the command line and the last message. No I/O: keys that need the board come back as a
//! [`Request`] for the session to carry out.

use super::complete::{self, TaskRef};
use super::input::LineEditor;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use gaffer_core::{Event, Run, Seq, Status, Task, TaskId};
use std::collections::VecDeque;

/// How many events the feed keeps.
pub const FEED_LIMIT: usize = 1000;

/// The order of the board's groups: what needs a person first, then work in flight, then work
/// waiting to start, then what has ended.
pub const BOARD_ORDER: [Status; 16] = [
    Status::NeedsInput,
    Status::AwaitingApproval,
    Status::Attached,
    Status::Failed,
    Status::Planning,
    Status::PlanReview,
    Status::Coding,
    Status::Verifying,
    Status::Reviewing,
    Status::Queued,
    Status::Merging,
    Status::Delegated,
    Status::Ready,
    Status::Backlog,
    Status::Merged,
    Status::Cancelled,
];

/// The selected task, with what the detail panel shows of it.
#[derive(Debug, Clone)]
pub struct Detail {
    pub task: Task,
    pub runs: Vec<Run>,
    /// Its most recent events, oldest first.
    pub events: Vec<Event>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaneKind {
    Text,
    /// Coloured by line: additions, removals, hunks.
    Diff,
}

/// Long output (a diff, a log, the help) in a scrollable pane over the board.
#[derive(Debug, Clone)]
pub struct Pane {
    pub title: String,
    pub lines: Vec<String>,
    pub kind: PaneKind,
    /// The first line shown.
    pub scroll: usize,
    /// The first column shown.
    pub hscroll: usize,
    /// Lines that fit, as last drawn (for paging).
    pub height: usize,
}

impl Pane {
    pub fn new(title: impl Into<String>, lines: Vec<String>, kind: PaneKind) -> Pane {
        Pane {
            title: title.into(),
            lines,
            kind,
            scroll: 0,
            hscroll: 0,
            height: 20,
        }
    }

    fn max_scroll(&self) -> usize {
        self.lines.len().saturating_sub(self.height.max(1))
    }

    pub fn scroll_by(&mut self, delta: isize) {
        let target = self.scroll.saturating_add_signed(delta);
        self.scroll = target.min(self.max_scroll());
    }

    pub fn hscroll_by(&mut self, delta: isize) {
        let widest = self
            .lines
            .iter()
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(0);
        self.hscroll = self
            .hscroll
            .saturating_add_signed(delta)
            .min(widest.saturating_sub(1));
    }

    pub fn top(&mut self) {
        self.scroll = 0;
    }

    pub fn bottom(&mut self) {
        self.scroll = self.max_scroll();
    }

    fn page(&self) -> isize {
        isize::try_from(self.height.max(2) - 1).unwrap_or(1)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub text: String,
    pub error: bool,
}

/// What a key asks of the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Run this command line.
    Run(String),
    /// Open this task's detail in a pane.
    Open(TaskId),
    /// Clear the screen and draw everything again.
    Redraw,
}

#[derive(Debug)]
pub struct App {
    pub project: String,
    /// Every task, in board order.
    pub tasks: Vec<Task>,
    pub selected: Option<TaskId>,
    pub detail: Option<Detail>,
    pub feed: VecDeque<Event>,
    /// The last event seen; the feed follows from here.
    pub last_seq: Seq,
    pub pane: Option<Pane>,
    pub input: LineEditor,
    pub message: Option<Message>,
    /// The daemon's address when one runs.
    pub daemon: Option<String>,
    /// Whether the feed comes from the daemon's stream (else from polling the store).
    pub streaming: bool,
    pub quit: bool,
}

impl App {
    pub fn new(project: String, history: Vec<String>) -> App {
        App {
            project,
            tasks: Vec::new(),
            selected: None,
            detail: None,
            feed: VecDeque::new(),
            last_seq: Seq(0),
            pane: None,
            input: LineEditor::with_history(history),
            message: None,
            daemon: None,
            streaming: false,
            quit: false,
        }
    }

    /// Replaces the tasks, keeping the selection on the same task (or near where it was).
    pub fn set_tasks(&mut self, mut tasks: Vec<Task>) {
        sort_board(&mut tasks);
        let old_index = self.selected_index();
        self.tasks = tasks;
        let still_there = self
            .selected
            .is_some_and(|id| self.tasks.iter().any(|t| t.id == id));
        if !still_there {
            self.selected = match old_index {
                Some(i) if !self.tasks.is_empty() => {
                    Some(self.tasks[i.min(self.tasks.len() - 1)].id)
                }
                _ => self.tasks.first().map(|t| t.id),
            };
        }
    }

    pub fn selected_index(&self) -> Option<usize> {
        let id = self.selected?;
        self.tasks.iter().position(|t| t.id == id)
    }

    pub fn selected_task(&self) -> Option<&Task> {
        let i = self.selected_index()?;
        self.tasks.get(i)
    }

    pub fn select(&mut self, id: TaskId) {
        self.selected = Some(id);
    }

    /// Moves the selection by `delta` tasks, stopping at either end.
    pub fn move_selection(&mut self, delta: isize) {
        if self.tasks.is_empty() {
            return;
        }
        let i = match self.selected_index() {
            Some(i) => i.saturating_add_signed(delta).min(self.tasks.len() - 1),
            None => 0,
        };
        self.selected = Some(self.tasks[i].id);
    }

    /// Adds events to the feed, ignoring any already seen. Returns how many were new.
    pub fn push_events(&mut self, events: impl IntoIterator<Item = Event>) -> usize {
        let mut added = 0;
        for event in events {
            if event.seq <= self.last_seq {
                continue;
            }
            self.last_seq = event.seq;
            self.feed.push_back(event);
            added += 1;
        }
        while self.feed.len() > FEED_LIMIT {
            self.feed.pop_front();
        }
        added
    }

    pub fn info(&mut self, text: impl Into<String>) {
        self.message = Some(Message {
            text: text.into(),
            error: false,
        });
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.message = Some(Message {
            text: text.into(),
            error: true,
        });
    }

    pub fn open_pane(&mut self, pane: Pane) {
        self.pane = Some(pane);
    }

    /// One key. Returns what the session must do, if anything.
    pub fn on_key(&mut self, key: KeyEvent) -> Option<Request> {
        if key.kind == KeyEventKind::Release {
            return None;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let idle = self.input.is_empty() && !self.input.is_browsing();
        if ctrl {
            match key.code {
                KeyCode::Char('c') | KeyCode::Char('d') => self.quit = true,
                KeyCode::Char('l') => return Some(Request::Redraw),
                KeyCode::Char('p') => {
                    self.input.history_prev();
                }
                KeyCode::Char('n') => {
                    self.input.history_next();
                }
                KeyCode::Char('a') => self.input.home(),
                KeyCode::Char('e') => self.input.end(),
                KeyCode::Char('u') => self.input.kill_to_start(),
                KeyCode::Char('k') => self.input.kill_to_end(),
                KeyCode::Char('w') => self.input.kill_word(),
                _ => {}
            }
            return None;
        }
        match key.code {
            KeyCode::Esc => {
                if self.pane.is_some() {
                    self.pane = None;
                } else {
                    self.input.clear();
                }
                self.message = None;
            }
            KeyCode::Enter => {
                if idle {
                    if self.pane.is_none() {
                        return self.selected.map(Request::Open);
                    }
                    return None;
                }
                let line = self.input.submit();
                if !line.trim().is_empty() {
                    return Some(Request::Run(line));
                }
            }
            KeyCode::Tab => self.complete(),
            KeyCode::Up | KeyCode::Down => {
                let up = key.code == KeyCode::Up;
                if !idle {
                    if up {
                        self.input.history_prev();
                    } else {
                        self.input.history_next();
                    }
                } else {
                    self.scroll_or_select(if up { -1 } else { 1 });
                }
            }
            KeyCode::Char(c @ ('j' | 'k')) if idle => {
                self.scroll_or_select(if c == 'k' { -1 } else { 1 });
            }
            KeyCode::PageUp | KeyCode::PageDown => {
                let sign = if key.code == KeyCode::PageUp { -1 } else { 1 };
                match &mut self.pane {
                    Some(pane) => {
                        let page = pane.page();
                        pane.scroll_by(sign * page);
                    }
                    None => self.move_selection(sign * 10),
                }
            }
            KeyCode::Home | KeyCode::End if idle && self.pane.is_some() => {
                if let Some(pane) = &mut self.pane {
                    if key.code == KeyCode::Home {
                        pane.top();
                    } else {
                        pane.bottom();
                    }
                }
            }
            KeyCode::Left | KeyCode::Right if idle && self.pane.is_some() => {
                if let Some(pane) = &mut self.pane {
                    pane.hscroll_by(if key.code == KeyCode::Left { -8 } else { 8 });
                }
            }
            KeyCode::Home => self.input.home(),
            KeyCode::End => self.input.end(),
            KeyCode::Left => self.input.left(),
            KeyCode::Right => self.input.right(),
            KeyCode::Backspace => self.input.backspace(),
            KeyCode::Delete => self.input.delete(),
            KeyCode::Char(c) if key.modifiers.contains(KeyModifiers::ALT) => {
                // Terminals send Alt-x as Esc then x, so Esc quickly followed by a key arrives
                // as Alt and that key: do both.
                self.on_key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
                return self.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
            }
            KeyCode::Char(c) => self.input.insert(c),
            _ => {}
        }
        None
    }

    /// A paste goes into the command line.
    pub fn on_paste(&mut self, text: &str) {
        self.input.insert_str(text);
    }

    fn scroll_or_select(&mut self, delta: isize) {
        match &mut self.pane {
            Some(pane) => pane.scroll_by(delta),
            None => self.move_selection(delta),
        }
    }

    fn complete(&mut self) {
        let refs: Vec<TaskRef<'_>> = self
            .tasks
            .iter()
            .map(|t| TaskRef {
                id: t.id.0,
                status: t.status(),
                title: &t.title,
            })
            .collect();
        let before = self.input.before_cursor();
        let Some(done) = complete::complete(&before, &refs) else {
            return;
        };
        let unchanged = done.text == before;
        self.input.replace_before_cursor(&done.text);
        if !done.candidates.is_empty() {
            self.info(done.candidates.join("  ·  "));
        } else if unchanged {
            self.info("nothing to complete here");
        } else {
            self.message = None;
        }
    }
}

/// Sorts tasks into board order: by group ([`BOARD_ORDER`]); within a group by priority then
/// id, except ended tasks, most recent first.
pub fn sort_board(tasks: &mut [Task]) {
    tasks.sort_by(|a, b| {
        let (ra, rb) = (rank(a.status()), rank(b.status()));
        ra.cmp(&rb).then_with(|| {
            if matches!(a.status(), Status::Merged | Status::Cancelled) {
                b.updated_ms.cmp(&a.updated_ms).then(b.id.cmp(&a.id))
            } else {
                b.priority.cmp(&a.priority).then(a.id.cmp(&b.id))
            }
        })
    });
}

pub fn rank(status: Status) -> usize {
    BOARD_ORDER
        .iter()
        .position(|s| *s == status)
        .unwrap_or(BOARD_ORDER.len())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use gaffer_core::{Flow, ProjectId, Risk, TaskKind, TaskState};

    pub fn task(id: i64, status: Status, title: &str) -> Task {
        let mut state = TaskState::new(Flow::default(), Risk::Low, 0);
        state.status = status;
        Task {
            id: TaskId(id),
            project: ProjectId(1),
            title: title.into(),
            body: String::new(),
            kind: TaskKind::Task,
            priority: 0,
            labels: Vec::new(),
            parent: None,
            blocked_by: Vec::new(),
            write_scope: Vec::new(),
            read_scope: Vec::new(),
            budget_usd: None,
            branch: format!("gaffer/{id}"),
            plan: None,
            state,
            version: 1,
            created_ms: id,
            updated_ms: id,
        }
    }

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn ctrl(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
    }

    fn typed(app: &mut App, text: &str) {
        for c in text.chars() {
            app.on_key(key(KeyCode::Char(c)));
        }
    }

    fn event(seq: i64) -> Event {
        Event {
            seq: Seq(seq),
            at_ms: 0,
            project: None,
            task: None,
            run: None,
            kind: "task.created".into(),
            data: serde_json::json!({}),
        }
    }

    fn board() -> App {
        let mut app = App::new("p".into(), Vec::new());
        app.set_tasks(vec![
            task(1, Status::Merged, "Old"),
            task(2, Status::Coding, "Busy"),
            task(3, Status::AwaitingApproval, "Risky"),
            task(4, Status::Backlog, "Later"),
            task(5, Status::Merged, "Newer"),
        ]);
        app
    }

    fn order(app: &App) -> Vec<i64> {
        app.tasks.iter().map(|t| t.id.0).collect()
    }

    #[test]
    fn the_board_puts_people_first_and_ended_work_last() {
        let app = board();
        assert_eq!(order(&app), vec![3, 2, 4, 5, 1]);
        assert_eq!(app.selected, Some(TaskId(3)));
    }

    #[test]
    fn the_selection_follows_its_task() {
        let mut app = board();
        app.on_key(key(KeyCode::Down));
        assert_eq!(app.selected, Some(TaskId(2)));
        app.on_key(key(KeyCode::Char('j')));
        app.on_key(key(KeyCode::Char('j')));
        app.on_key(key(KeyCode::Char('j')));
        app.on_key(key(KeyCode::Char('j')));
        assert_eq!(app.selected, Some(TaskId(1)), "stops at the end");
        app.on_key(key(KeyCode::PageUp));
        assert_eq!(app.selected, Some(TaskId(3)));
        app.on_key(key(KeyCode::Char('j')));
        // Task 2 merges: it moves, the selection goes with it.
        let mut tasks = app.tasks.clone();
        tasks.iter_mut().for_each(|t| {
            if t.id == TaskId(2) {
                t.state.status = Status::Merged;
                t.updated_ms = 100;
            }
        });
        app.set_tasks(tasks.clone());
        assert_eq!(order(&app), vec![3, 4, 2, 5, 1]);
        assert_eq!(app.selected, Some(TaskId(2)));
        // It disappears: the selection stays near where it was.
        tasks.retain(|t| t.id != TaskId(2));
        app.set_tasks(tasks);
        assert_eq!(app.selected, Some(TaskId(5)));
    }

    #[test]
    fn enter_opens_the_selected_task_or_runs_the_line() {
        let mut app = board();
        assert_eq!(
            app.on_key(key(KeyCode::Enter)),
            Some(Request::Open(TaskId(3)))
        );
        typed(&mut app, "/status");
        assert_eq!(
            app.on_key(key(KeyCode::Enter)),
            Some(Request::Run("/status".into()))
        );
        assert!(app.input.is_empty());
        // j and k are letters once something is typed.
        typed(&mut app, "/task jk");
        assert_eq!(app.input.text(), "/task jk");
        assert_eq!(app.selected, Some(TaskId(3)));
    }

    #[test]
    fn up_walks_the_history_while_typing_and_selects_otherwise() {
        let mut app = board();
        typed(&mut app, "/usage");
        app.on_key(key(KeyCode::Enter));
        typed(&mut app, "/");
        app.on_key(key(KeyCode::Up));
        assert_eq!(app.input.text(), "/usage");
        app.on_key(key(KeyCode::Down));
        assert_eq!(app.input.text(), "/");
        app.on_key(key(KeyCode::Esc));
        assert!(app.input.is_empty());
        app.on_key(ctrl('p'));
        assert_eq!(app.input.text(), "/usage");
        app.on_key(ctrl('u'));
        app.on_key(key(KeyCode::Esc));
        app.on_key(key(KeyCode::Down));
        assert_eq!(app.selected, Some(TaskId(2)));
        assert!(app.input.is_empty());
    }

    #[test]
    fn tab_completes_and_lists_choices() {
        let mut app = board();
        typed(&mut app, "/appr");
        app.on_key(key(KeyCode::Tab));
        assert_eq!(app.input.text(), "/approve ");
        app.on_key(key(KeyCode::Tab));
        assert_eq!(app.input.text(), "/approve 3 ");
        app.on_key(ctrl('u'));
        typed(&mut app, "/re");
        app.on_key(key(KeyCode::Tab));
        assert_eq!(app.input.text(), "/re");
        assert_eq!(
            app.message.as_ref().map(|m| m.text.as_str()),
            Some("/reject  ·  /release  ·  /retry  ·  /revert")
        );
    }

    #[test]
    fn a_pane_scrolls_and_esc_closes_it() {
        let mut app = board();
        let lines = (0..100).map(|i| format!("line {i}")).collect();
        app.open_pane(Pane::new("diff #3", lines, PaneKind::Diff));
        app.pane.as_mut().unwrap().height = 10;
        app.on_key(key(KeyCode::Down));
        app.on_key(key(KeyCode::Char('j')));
        assert_eq!(app.pane.as_ref().unwrap().scroll, 2);
        assert_eq!(app.selected, Some(TaskId(3)), "the board does not move");
        app.on_key(key(KeyCode::PageDown));
        assert_eq!(app.pane.as_ref().unwrap().scroll, 11);
        app.on_key(key(KeyCode::End));
        assert_eq!(app.pane.as_ref().unwrap().scroll, 90);
        app.on_key(key(KeyCode::PageDown));
        assert_eq!(app.pane.as_ref().unwrap().scroll, 90);
        app.on_key(key(KeyCode::Home));
        assert_eq!(app.pane.as_ref().unwrap().scroll, 0);
        app.on_key(key(KeyCode::Up));
        assert_eq!(app.pane.as_ref().unwrap().scroll, 0);
        app.on_key(key(KeyCode::Right));
        assert_eq!(
            app.pane.as_ref().unwrap().hscroll,
            6,
            "the widest line stays in view"
        );
        assert_eq!(app.on_key(key(KeyCode::Enter)), None);
        app.on_key(key(KeyCode::Esc));
        assert!(app.pane.is_none());
        // Esc typed just before a key arrives as Alt with that key.
        app.open_pane(Pane::new("help", vec![], PaneKind::Text));
        app.on_key(KeyEvent::new(KeyCode::Char('/'), KeyModifiers::ALT));
        assert!(app.pane.is_none());
        assert_eq!(app.input.text(), "/");
    }

    #[test]
    fn ctrl_c_and_ctrl_d_quit() {
        let mut app = board();
        app.on_key(ctrl('c'));
        assert!(app.quit);
        let mut app = board();
        typed(&mut app, "/ta");
        app.on_key(ctrl('d'));
        assert!(app.quit);
    }

    #[test]
    fn the_feed_ignores_what_it_has_seen_and_stays_bounded() {
        let mut app = board();
        assert_eq!(app.push_events([event(1), event(2)]), 2);
        assert_eq!(app.push_events([event(2), event(3)]), 1);
        assert_eq!(app.last_seq, Seq(3));
        app.push_events((4..(FEED_LIMIT as i64 + 10)).map(event));
        assert_eq!(app.feed.len(), FEED_LIMIT);
        assert_eq!(app.feed.back().unwrap().seq, Seq(FEED_LIMIT as i64 + 9));
    }
}
