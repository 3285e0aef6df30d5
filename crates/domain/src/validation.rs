//! Field-level validation errors: every refusal names the field it is about, so the
//! API can answer with a problem document a client can act on.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// JSON path of the offending field, e.g. `lines[2].quantity`; in a spreadsheet
    /// import, the column's name.
    pub field: String,
    pub message: String,
    /// In a spreadsheet import, the sheet's line as a spreadsheet shows it (the header
    /// row is line 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Violations(pub Vec<FieldError>);

impl Violations {
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
            line: None,
        });
    }

    /// A refusal about one line of a spreadsheet.
    pub fn add_at(&mut self, line: u64, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
            line: Some(line),
        });
    }

    /// Takes over `other`'s refusals as refusals of sheet line `line`.
    pub fn extend_at(&mut self, line: u64, other: Violations) {
        self.0.extend(other.0.into_iter().map(|mut e| {
            e.line = Some(line);
            e
        }));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Ok when nothing was added.
    pub fn finish(self) -> Result<(), Violations> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }

    pub fn single(field: impl Into<String>, message: impl Into<String>) -> Violations {
        let mut v = Violations::default();
        v.add(field, message);
        v
    }

    /// Checks a required text field: no refused character (see [`crate::text`]),
    /// something besides white space, at most `max` characters as sent.
    pub fn text(&mut self, field: &str, value: &str, max: usize) {
        if let Err(m) = crate::text::check(value) {
            self.add(field, m);
        } else if value.trim().is_empty() {
            self.add(field, "must not be empty");
        } else if value.chars().count() > max {
            self.add(field, format!("must be at most {max} characters"));
        }
    }

    /// Checks a code and puts it in its stored form (NFC, see [`crate::text`]).
    pub fn code(&mut self, field: &str, value: &mut String, max: usize) {
        match crate::text::normalise_code(value, max) {
            Ok(c) => *value = c,
            Err(m) => self.add(field, m),
        }
    }
}

impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|e| match e.line {
                Some(line) => format!("line {line}, {}: {}", e.field, e.message),
                None => format!("{}: {}", e.field, e.message),
            })
            .collect();
        f.write_str(&parts.join("; "))
    }
}

impl std::error::Error for Violations {}
