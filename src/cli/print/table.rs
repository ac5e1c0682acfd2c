//! The one table writer: aligned columns with no borders (like Helm's and kubectl's lists),
//! so the output greps and cuts cleanly.

use std::io::Write;

use anyhow::Result;

/// Rows under an optional header, printed as aligned columns.
pub struct Table<'a> {
    header: Option<&'a [&'a str]>,
    rows: Vec<Vec<String>>,
}

impl<'a> Table<'a> {
    /// A table with this header row.
    pub fn new(header: &'a [&'a str]) -> Table<'a> {
        Table {
            header: Some(header),
            rows: Vec::new(),
        }
    }

    /// Leaves the header out when `no_headers` (`--no-headers`).
    pub fn no_headers(mut self, no_headers: bool) -> Table<'a> {
        if no_headers {
            self.header = None;
        }
        self
    }

    /// Adds the rows.
    pub fn rows(mut self, rows: Vec<Vec<String>>) -> Table<'a> {
        self.rows.extend(rows);
        self
    }

    /// Writes the table to stdout. Each column is as wide as its widest cell plus three
    /// spaces; trailing blanks are trimmed.
    pub fn print(&self) -> Result<()> {
        use comfy_table::{CellAlignment, ContentArrangement, Table, presets};
        let mut table = Table::new();
        table
            .load_preset(presets::NOTHING)
            .set_content_arrangement(ContentArrangement::Disabled);
        if let Some(header) = self.header {
            table.set_header(header.iter().copied());
        }
        for row in &self.rows {
            table.add_row(row.iter().map(String::as_str));
        }
        for column in table.column_iter_mut() {
            column.set_padding((0, 3));
            column.set_cell_alignment(CellAlignment::Left);
        }
        let mut stdout = anstream::stdout();
        for line in table.lines() {
            writeln!(stdout, "{}", line.trim_end())?;
        }
        Ok(())
    }
}
