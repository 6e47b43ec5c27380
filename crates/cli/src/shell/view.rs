//! Drawing the shell: a header, the board beside the selected task, the feed below them (or a
//! pane over all three), the last message and the command line.

use super::app::{App, Pane, PaneKind};
use super::report;
use crate::output::{event_line, task_event_line};
use gaffer_core::Status;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, HighlightSpacing, List, ListItem, ListState, Paragraph};

const PROMPT: &str = "› ";

pub fn draw(frame: &mut Frame<'_>, app: &mut App) {
    let [header, body, message, input] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    draw_header(frame, header, app);
    if let Some(pane) = &mut app.pane {
        draw_pane(frame, body, pane);
    } else {
        let feed_height = (body.height / 3).max(5).min(body.height.saturating_sub(5));
        let [top, feed] =
            Layout::vertical([Constraint::Min(5), Constraint::Length(feed_height)]).areas(body);
        let [board, detail] =
            Layout::horizontal([Constraint::Percentage(40), Constraint::Percentage(60)]).areas(top);
        draw_board(frame, board, app);
        draw_detail(frame, detail, app);
        draw_feed(frame, feed, app);
    }
    draw_message(frame, message, app);
    draw_input(frame, input, app);
}

fn draw_header(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let mut spans = vec![
        Span::styled(" gaffer ", bold.fg(Color::Black).bg(Color::Cyan)),
        Span::raw(format!(" {} · ", app.project)),
    ];
    match &app.daemon {
        Some(url) => {
            spans.push(Span::styled("daemon ", Style::new().fg(Color::Green)));
            spans.push(Span::raw(url.clone()));
            if !app.streaming {
                spans.push(Span::raw(" (reconnecting)"));
            }
        }
        None => spans.push(Span::styled(
            "no daemon: nothing runs until `gaffer up`",
            Style::new().fg(Color::Yellow),
        )),
    }
    let waiting = app
        .tasks
        .iter()
        .filter(|t| {
            matches!(
                t.status(),
                Status::NeedsInput | Status::AwaitingApproval | Status::Attached
            )
        })
        .count();
    spans.push(Span::raw(format!(" · {} tasks", app.tasks.len())));
    if waiting > 0 {
        spans.push(Span::raw(" · "));
        spans.push(Span::styled(
            format!("{waiting} waiting for you (/pending)"),
            bold.fg(Color::Yellow),
        ));
    }
    frame.render_widget(Line::from(spans), area);
}

pub fn status_style(status: Status) -> Style {
    let colour = match status {
        Status::NeedsInput | Status::AwaitingApproval | Status::Attached => Color::Yellow,
        Status::Failed => Color::Red,
        Status::Merged => Color::Green,
        Status::Cancelled => Color::DarkGray,
        Status::Backlog | Status::Ready => Color::Reset,
        _ => Color::Cyan,
    };
    Style::new().fg(colour)
}

fn draw_board(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let mut items = Vec::new();
    let mut selected_item = None;
    let mut current = None;
    for task in &app.tasks {
        let status = task.status();
        if current != Some(status) {
            current = Some(status);
            let count = app.tasks.iter().filter(|t| t.status() == status).count();
            items.push(ListItem::new(Line::styled(
                format!("{status} ({count})"),
                status_style(status).add_modifier(Modifier::BOLD),
            )));
        }
        if Some(task.id) == app.selected {
            selected_item = Some(items.len());
        }
        items.push(ListItem::new(Line::raw(format!(
            "  #{} {}",
            task.id, task.title
        ))));
    }
    if items.is_empty() {
        items.push(ListItem::new(Line::styled(
            "no tasks yet: /task TITLE adds one",
            Style::new().fg(Color::DarkGray),
        )));
    }
    let list = List::new(items)
        .block(Block::bordered().title(" Board "))
        .highlight_symbol("▶ ")
        .highlight_spacing(HighlightSpacing::Always)
        .highlight_style(Style::new().add_modifier(Modifier::REVERSED))
        .scroll_padding(1);
    let mut state = ListState::default().with_selected(selected_item);
    frame.render_stateful_widget(list, area, &mut state);
}

fn draw_detail(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let Some(detail) = app
        .detail
        .as_ref()
        .filter(|d| Some(d.task.id) == app.selected)
    else {
        let block = Block::bordered().title(" Task ");
        let hint = Paragraph::new("Select a task with ↑ ↓ or j k; Enter opens it.")
            .style(Style::new().fg(Color::DarkGray))
            .block(block);
        frame.render_widget(hint, area);
        return;
    };
    let task = &detail.task;
    let block = Block::bordered().title(format!(" Task #{} ", task.id));
    let inner = block.inner(area);
    let width = usize::from(inner.width).max(10);
    let mut lines: Vec<Line<'_>> = Vec::new();
    for (i, text) in report::summary(task).into_iter().enumerate() {
        match i {
            0 => lines.extend(
                wrap(&text, width)
                    .into_iter()
                    .map(|l| Line::styled(l, Style::new().add_modifier(Modifier::BOLD))),
            ),
            1 => lines.push(Line::from(vec![
                Span::raw("status    "),
                Span::styled(task.status().to_string(), status_style(task.status())),
            ])),
            _ if text.starts_with("next") => {
                lines.push(Line::styled(
                    fit(&text, width),
                    Style::new().fg(Color::Yellow),
                ));
            }
            _ => lines.extend(wrap(&text, width).into_iter().map(Line::raw)),
        }
    }
    if !detail.runs.is_empty() {
        const RUNS: usize = 4;
        let earlier = detail.runs.len().saturating_sub(RUNS);
        lines.push(Line::raw(if earlier > 0 {
            format!(
                "runs (the last {RUNS} of {}; /log {} shows all)",
                detail.runs.len(),
                task.id
            )
        } else {
            "runs".to_string()
        }));
        lines.extend(
            detail.runs[earlier..]
                .iter()
                .map(|r| Line::raw(fit(&crate::render::run_line(r), width))),
        );
    }
    let room = usize::from(inner.height)
        .saturating_sub(lines.len())
        .saturating_sub(1);
    if !detail.events.is_empty() && room > 0 {
        lines.push(Line::raw("recent"));
        let skip = detail.events.len().saturating_sub(room);
        lines.extend(
            detail.events[skip..]
                .iter()
                .map(|e| Line::styled(fit(&format!("  {}", task_event_line(e)), width), dim())),
        );
    }
    frame.render_widget(Paragraph::new(Text::from(lines)).block(block), area);
}

/// `text` cut to `width` characters, with an ellipsis when it was longer.
fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// `text` broken into lines of at most `width` characters, at spaces where possible.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let mut word = word.to_string();
        loop {
            let len = line.chars().count();
            let need = word.chars().count() + usize::from(len > 0);
            if len + need <= width {
                if len > 0 {
                    line.push(' ');
                }
                line.push_str(&word);
                break;
            }
            if len > 0 {
                lines.push(std::mem::take(&mut line));
                continue;
            }
            // A word longer than a line: split it.
            let head: String = word.chars().take(width).collect();
            word = word.chars().skip(width).collect();
            lines.push(head);
            if word.is_empty() {
                break;
            }
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

fn dim() -> Style {
    Style::new().fg(Color::DarkGray)
}

fn draw_feed(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let room = usize::from(area.height.saturating_sub(2));
    let skip = app.feed.len().saturating_sub(room);
    let lines: Vec<Line<'_>> = app
        .feed
        .iter()
        .skip(skip)
        .map(|e| {
            let style = match e.kind.as_str() {
                "run.output" => dim(),
                k if k.starts_with("task.status") => Style::new().fg(Color::Cyan),
                k if k.starts_with("merge.") => Style::new().fg(Color::Green),
                _ => Style::new(),
            };
            Line::styled(event_line(e), style)
        })
        .collect();
    let source = if app.streaming {
        " Feed (live from the daemon) "
    } else {
        " Feed (following the store) "
    };
    frame.render_widget(
        Paragraph::new(Text::from(lines)).block(Block::bordered().title(source)),
        area,
    );
}

fn draw_pane(frame: &mut Frame<'_>, area: Rect, pane: &mut Pane) {
    let block = Block::bordered().title(format!(" {} ", pane.title));
    let inner = block.inner(area);
    pane.height = usize::from(inner.height);
    pane.scroll_by(0);
    let last = (pane.scroll + pane.height).min(pane.lines.len());
    let position = format!(
        " lines {}–{} of {} · ↑↓ PgUp PgDn Home End ←→ scroll · Esc closes ",
        (pane.scroll + 1).min(last),
        last,
        pane.lines.len()
    );
    let block = block.title_bottom(Line::styled(position, dim()));
    let lines: Vec<Line<'_>> = pane
        .lines
        .iter()
        .skip(pane.scroll)
        .take(pane.height)
        .map(|l| {
            let shown: String = l.chars().skip(pane.hscroll).collect();
            Line::styled(shown, line_style(pane.kind, l))
        })
        .collect();
    frame.render_widget(Paragraph::new(Text::from(lines)).block(block), area);
}

fn line_style(kind: PaneKind, line: &str) -> Style {
    if kind != PaneKind::Diff {
        return Style::new();
    }
    if line.starts_with("+++") || line.starts_with("---") || line.starts_with("diff ") {
        Style::new().add_modifier(Modifier::BOLD)
    } else if line.starts_with('+') {
        Style::new().fg(Color::Green)
    } else if line.starts_with('-') {
        Style::new().fg(Color::Red)
    } else if line.starts_with("@@") {
        Style::new().fg(Color::Cyan)
    } else {
        Style::new()
    }
}

fn draw_message(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let line = match &app.message {
        Some(m) if m.error => Line::styled(format!(" {}", m.text), Style::new().fg(Color::Red)),
        Some(m) => Line::styled(format!(" {}", m.text), Style::new().fg(Color::Green)),
        None => Line::styled(
            " /help lists commands · Tab completes · ↑↓ select · Enter opens · Ctrl-C quits",
            dim(),
        ),
    };
    frame.render_widget(line, area);
}

fn draw_input(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let text = app.input.text();
    let chars: Vec<char> = text.chars().collect();
    let cursor = app.input.cursor();
    let width = |cs: &[char]| Span::raw(cs.iter().collect::<String>()).width();
    let room = usize::from(area.width).saturating_sub(PROMPT.chars().count() + 1);
    // Scroll the line so that the cursor stays in view.
    let mut start = 0;
    while start < cursor && width(&chars[start..cursor]) > room {
        start += 1;
    }
    let shown: String = chars[start..].iter().collect();
    let prompt = Span::styled(PROMPT, Style::new().fg(Color::Cyan));
    frame.render_widget(Line::from(vec![prompt, Span::raw(shown)]), area);
    let x =
        area.x + u16::try_from(PROMPT.chars().count() + width(&chars[start..cursor])).unwrap_or(0);
    frame.set_cursor_position(Position::new(x.min(area.right().saturating_sub(1)), area.y));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::app::tests::task;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    fn screen(app: &mut App) -> String {
        let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
        terminal.draw(|f| draw(f, app)).unwrap();
        let buffer = terminal.backend().buffer().clone();
        let mut out = String::new();
        for y in 0..buffer.area.height {
            for x in 0..buffer.area.width {
                out.push_str(buffer[(x, y)].symbol());
            }
            out.push('\n');
        }
        out
    }

    #[test]
    fn the_board_groups_tasks_and_the_detail_shows_the_selected_one() {
        let mut app = App::new("fixture".into(), Vec::new());
        app.set_tasks(vec![
            task(1, Status::AwaitingApproval, "Write the notes"),
            task(2, Status::Merged, "Retitle"),
        ]);
        let selected = app.selected_task().cloned().unwrap();
        app.detail = Some(crate::shell::app::Detail {
            task: selected,
            runs: Vec::new(),
            events: Vec::new(),
        });
        let s = screen(&mut app);
        assert!(s.contains("fixture"), "{s}");
        assert!(s.contains("no daemon"), "{s}");
        assert!(s.contains("awaiting_approval (1)"), "{s}");
        assert!(s.contains("merged (1)"), "{s}");
        assert!(s.contains("▶   #1 Write the notes"), "{s}");
        assert!(s.contains("Task #1"), "{s}");
        assert!(s.contains("next      /approve 1"), "{s}");
        assert!(s.contains("1 waiting for you"), "{s}");
    }

    #[test]
    fn wrapping_and_fitting() {
        assert_eq!(
            wrap("note      the agent made no changes", 16),
            vec!["note      the", "agent made no", "changes"]
        );
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 4), vec![""]);
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("abc", 4), "abc");
    }

    #[test]
    fn a_pane_covers_the_board() {
        let mut app = App::new("fixture".into(), Vec::new());
        let lines = (0..100).map(|i| format!("+line {i}")).collect();
        app.open_pane(Pane::new("diff #1", lines, PaneKind::Diff));
        let s = screen(&mut app);
        assert!(s.contains("diff #1"), "{s}");
        assert!(s.contains("+line 0"), "{s}");
        assert!(s.contains("lines 1–25 of 100"), "{s}");
        assert!(!s.contains("Board"), "{s}");
        assert_eq!(app.pane.as_ref().unwrap().height, 25);
    }
}
