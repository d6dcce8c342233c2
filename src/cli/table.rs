//! Aligned columns, as docker's tabwriter prints them: padding 3, min
//! width 10 (docker 20.10's; it was 20 before, docker/cli#2699).

use alloc::string::String;
use alloc::vec::Vec;

/// `s` with every control character (C0, DEL, C1) as `?`, as procps's
/// `ps` shows a command line: text a container wrote reaches the
/// caller's terminal without escape sequences in it.
pub fn printable(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// docker's `Ellipsis`: at most `max` (1 or more) characters, the last
/// one `…` when `s` is cut.
pub fn ellipsis(s: &str, max: usize) -> String {
    match s.chars().count() > max {
        true => s.chars().take(max.saturating_sub(1)).chain(['…']).collect(),
        false => String::from(s),
    }
}

/// docker's formatter tables (ps, images, stats, system df...).
pub fn render(rows: &[Vec<String>]) -> String {
    render_min(rows, 10)
}

/// Columns at least `min` wide: docker's `top` keeps 20, runc's `list` 12.
pub fn render_min(rows: &[Vec<String>], min: usize) -> String {
    let cols = rows.iter().map(|r| r.len()).max().unwrap_or(0);
    let mut width = alloc::vec![0usize; cols];
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            width[i] = width[i].max(c.chars().count() + 3).max(min);
        }
    }
    let mut out = String::new();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            out.push_str(c);
            if i + 1 < r.len() {
                for _ in c.chars().count()..width[i] {
                    out.push(' ');
                }
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn control_characters_are_shown_as_question_marks() {
        assert_eq!(super::printable("sleep 60"), "sleep 60");
        assert_eq!(
            super::printable("\x1b]0;x\x07a\tb\u{9b}c é"),
            "?]0;x?a?b?c é"
        );
    }

    #[test]
    fn columns_align() {
        let rows = vec![
            vec!["A".into(), "B".into()],
            vec!["a-long-cell-over-twenty".into(), "b".into()],
        ];
        let t = super::render(&rows);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0].find('B'), lines[1].find('b'));
        assert_eq!(lines[0].find('B'), Some(26));
        // docker 20.10's `ps` head: short titles padded to 10.
        let t = super::render(&[vec![
            "CONTAINER ID".into(),
            "IMAGE".into(),
            "PORTS".into(),
            "NAMES".into(),
        ]]);
        assert_eq!(t, "CONTAINER ID   IMAGE     PORTS     NAMES\n");
    }
}
