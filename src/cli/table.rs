//! Aligned columns, as docker's tabwriter prints them (min width 20,
//! padding 3).

use alloc::string::String;
use alloc::vec::Vec;

pub fn render(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(|r| r.len()).max().unwrap_or(0);
    let mut width = alloc::vec![0usize; cols];
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            width[i] = width[i].max(c.chars().count() + 3).max(20);
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
    fn columns_align() {
        let rows = vec![
            vec!["A".into(), "B".into()],
            vec!["a-long-cell-over-twenty".into(), "b".into()],
        ];
        let t = super::render(&rows);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0].find('B'), lines[1].find('b'));
        assert_eq!(lines[0].find('B'), Some(26));
    }
}
