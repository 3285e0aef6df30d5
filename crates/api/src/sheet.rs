//! Spreadsheets in: CSV (UTF-8, RFC 4180) and Excel workbooks (.xlsx, the first sheet)
//! read into the domain's `Table`, each row with its line as a spreadsheet shows it.
//! Rows with nothing in them are skipped; the first row with something is the header.

use ppe_domain::import::{Table, TableRow};
use std::path::Path;

pub const CSV_TYPE: &str = "text/csv";
pub const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SheetFormat {
    Csv,
    Xlsx,
}

impl SheetFormat {
    /// The format a Content-Type names; CSV only in UTF-8 (or US-ASCII, a subset).
    pub fn from_content_type(value: &str) -> Option<SheetFormat> {
        let mut parts = value.split(';').map(str::trim);
        let mime = parts.next().unwrap_or("").to_ascii_lowercase();
        let charset = parts
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("charset"))
            .map(|(_, v)| v.trim().trim_matches('"').to_ascii_lowercase());
        match mime.as_str() {
            CSV_TYPE
                if charset
                    .as_deref()
                    .is_none_or(|c| matches!(c, "utf-8" | "utf8" | "us-ascii")) =>
            {
                Some(SheetFormat::Csv)
            }
            XLSX_TYPE => Some(SheetFormat::Xlsx),
            _ => None,
        }
    }

    /// The format a file name's extension names (`.csv`, `.xlsx`, any case).
    pub fn from_path(path: &Path) -> Option<SheetFormat> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(SheetFormat::Csv),
            "xlsx" => Some(SheetFormat::Xlsx),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            SheetFormat::Csv => CSV_TYPE,
            SheetFormat::Xlsx => XLSX_TYPE,
        }
    }
}

/// A file that is not a sheet at all: not UTF-8, not a workbook, no header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", line.map(|l| format!("line {l}: ")).unwrap_or_default())]
pub struct SheetError {
    pub line: Option<u64>,
    pub message: String,
}

fn unreadable(line: Option<u64>, message: impl Into<String>) -> SheetError {
    SheetError {
        line,
        message: message.into(),
    }
}

pub fn read(format: SheetFormat, bytes: &[u8]) -> Result<Table, SheetError> {
    match format {
        SheetFormat::Csv => read_csv(bytes),
        SheetFormat::Xlsx => read_xlsx(bytes),
    }
}

/// Collects rows into a table: blank rows are skipped, the first other row is the header.
#[derive(Default)]
struct Builder {
    table: Option<Table>,
}

impl Builder {
    fn push(&mut self, line: u64, cells: Vec<String>) {
        if cells.iter().all(|c| c.trim().is_empty()) {
            return;
        }
        match &mut self.table {
            None => {
                self.table = Some(Table {
                    header_line: line,
                    header: cells,
                    rows: Vec::new(),
                })
            }
            Some(t) => t.rows.push(TableRow { line, cells }),
        }
    }

    fn finish(self) -> Result<Table, SheetError> {
        self.table
            .ok_or_else(|| unreadable(None, "the sheet is empty: it needs a header row"))
    }
}

fn read_csv(bytes: &[u8]) -> Result<Table, SheetError> {
    // Spreadsheet programs often start a UTF-8 CSV with a byte-order mark.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut builder = Builder::default();
    let mut record = csv::StringRecord::new();
    let mut lines = Lines::new(bytes);
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = lines.at(record.position().map_or(0, csv::Position::byte));
                builder.push(line, record.iter().map(str::to_owned).collect());
            }
            Err(e) => {
                let line = e.position().map(|p| lines.at(p.byte()));
                let message = match e.kind() {
                    csv::ErrorKind::Utf8 { .. } => "is not UTF-8 text".to_owned(),
                    _ => e.to_string(),
                };
                return Err(unreadable(line, message));
            }
        }
    }
    builder.finish()
}

/// Line numbers of byte offsets, counted once through the file. The CSV reader's own
/// line count lags a line behind after a CRLF line end, so lines are counted here: a
/// record's line is the one its first character is on.
struct Lines<'a> {
    bytes: &'a [u8],
    offset: usize,
    line: u64,
}

impl<'a> Lines<'a> {
    fn new(bytes: &'a [u8]) -> Lines<'a> {
        Lines {
            bytes,
            offset: 0,
            line: 1,
        }
    }

    /// The line of the record starting at `byte` (offsets only grow).
    fn at(&mut self, byte: u64) -> u64 {
        let mut start = usize::try_from(byte)
            .unwrap_or(usize::MAX)
            .min(self.bytes.len());
        // A record may be said to start on the line end before it.
        while start < self.bytes.len() && matches!(self.bytes[start], b'\r' | b'\n') {
            start += 1;
        }
        if start > self.offset {
            self.line += self.bytes[self.offset..start]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
            self.offset = start;
        }
        self.line
    }
}

fn read_xlsx(bytes: &[u8]) -> Result<Table, SheetError> {
    use calamine::Reader;
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes))
        .map_err(|e| unreadable(None, format!("not an Excel workbook (.xlsx): {e}")))?;
    let range = book
        .worksheet_range_at(0)
        .ok_or_else(|| unreadable(None, "the workbook has no sheet"))?
        .map_err(|e| unreadable(None, format!("the first sheet cannot be read: {e}")))?;
    // Lines as the spreadsheet numbers its rows, wherever the used range starts.
    let top = range.start().map_or(0, |(row, _)| u64::from(row));
    let mut builder = Builder::default();
    for (i, row) in range.rows().enumerate() {
        builder.push(top + i as u64 + 1, row.iter().map(cell_text).collect());
    }
    builder.finish()
}

/// A cell as text, as a person reads it: whole numbers without a fraction (a workbook
/// stores every number as a float).
fn cell_text(cell: &calamine::Data) -> String {
    use calamine::Data;
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => format!("{}", *f as i64),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_and_extensions_choose_the_reader() {
        assert_eq!(
            SheetFormat::from_content_type("text/csv; charset=UTF-8"),
            Some(SheetFormat::Csv)
        );
        assert_eq!(
            SheetFormat::from_content_type("text/csv; charset=latin1"),
            None
        );
        assert_eq!(
            SheetFormat::from_content_type(XLSX_TYPE),
            Some(SheetFormat::Xlsx)
        );
        assert_eq!(SheetFormat::from_content_type("application/json"), None);
        assert_eq!(
            SheetFormat::from_path(Path::new("counts.XLSX")),
            Some(SheetFormat::Xlsx)
        );
        assert_eq!(SheetFormat::from_path(Path::new("counts.txt")), None);
    }

    #[test]
    fn csv_lines_are_the_files_lines_blank_rows_skipped() {
        let t = read(
            SheetFormat::Csv,
            b"\xEF\xBB\xBFsite,item,counted\r\nNH-01,FFP2,4\r\n\r\n,,\r\n\"NH-01\",\"GLOVE\",\"5\"\r\n",
        )
        .unwrap();
        assert_eq!(t.header_line, 1);
        assert_eq!(t.header, ["site", "item", "counted"]);
        let lines: Vec<u64> = t.rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, [2, 5]);
        assert_eq!(t.rows[1].cells, ["NH-01", "GLOVE", "5"]);
        let err = read(SheetFormat::Csv, b"site,item\nNH-01,\xFF\n").unwrap_err();
        assert_eq!(err.line, Some(2));
        // LF line ends, and a quoted cell over two lines.
        let t = read(SheetFormat::Csv, b"a,b\n1,\"x\ny\"\n\n2,z\n").unwrap();
        let lines: Vec<u64> = t.rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, [2, 5]);
        assert!(read(SheetFormat::Csv, b"\n\n").is_err());
    }

    #[test]
    fn workbook_rows_keep_their_row_numbers_and_whole_numbers_read_as_integers() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let ws = book.add_worksheet();
        ws.write_string(1, 0, "site").unwrap();
        ws.write_string(1, 1, "counted").unwrap();
        ws.write_string(2, 0, "NH-01").unwrap();
        ws.write_number(2, 1, 40.0).unwrap();
        ws.write_string(4, 0, "NH-02").unwrap();
        ws.write_number(4, 1, 2.5).unwrap();
        let bytes = book.save_to_buffer().unwrap();
        let t = read(SheetFormat::Xlsx, &bytes).unwrap();
        assert_eq!(t.header_line, 2);
        assert_eq!(t.rows[0].line, 3);
        assert_eq!(t.rows[0].cells, ["NH-01", "40"]);
        assert_eq!(t.rows[1].line, 5);
        assert_eq!(t.rows[1].cells, ["NH-02", "2.5"]);
        assert!(read(SheetFormat::Xlsx, b"site,item\n").is_err());
    }
}
