//! Errors with their place, printed like Prisma's validation errors: the message, then the
//! file, line and column, and the line with the span underlined.

use crate::ast::Span;

/// One source file of a schema.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// As the user named it.
    pub path: String,
    /// Its text.
    pub text: String,
}

/// Something wrong in a schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// What, in Prisma's words where Prisma has them.
    pub message: String,
    /// Where.
    pub span: Span,
}

impl Diagnostic {
    pub(crate) fn new(message: impl Into<String>, span: Span) -> Diagnostic {
        Diagnostic { message: message.into(), span }
    }

    /// The 1-based line and column of the start of the span in `text`.
    pub fn position(&self, text: &str) -> (usize, usize) {
        let before = &text[..self.span.start.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
        (line, column)
    }

    /// The diagnostic as people read it.
    pub fn render(&self, files: &[SourceFile]) -> String {
        let Some(file) = files.get(self.span.file) else { return format!("error: {}", self.message) };
        let (line, column) = self.position(&file.text);
        let source_line = file.text.lines().nth(line - 1).unwrap_or("");
        let width = line.to_string().len();
        let underline = (self.span.end.saturating_sub(self.span.start))
            .min(source_line.len().saturating_sub(column - 1))
            .max(1);
        format!(
            "error: {message}\n{pad}--> {path}:{line}:{column}\n{pad} |\n{line} | {source_line}\n{pad} | {spaces}{carets}",
            message = self.message,
            pad = " ".repeat(width),
            path = file.path,
            spaces = " ".repeat(column - 1),
            carets = "^".repeat(underline),
        )
    }
}

/// Equal by content, as spans are.
impl Eq for Span {}
