//! Colour in the reporter's lines: when to use it (`--color`, `NO_COLOR`, a
//! terminal or not) and the few styles it uses.

use std::ffi::OsString;

/// When to colour the output (`--color auto|always|never`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Color {
    /// On a terminal, unless `NO_COLOR` is set (to anything but the empty
    /// string) or `TERM` is `dumb`.
    #[default]
    Auto,
    /// Always, even into a file or a pipe and whatever `NO_COLOR` says.
    Always,
    /// Never.
    Never,
}

impl Color {
    /// Whether a stream that `is_terminal` (or not) gets colour, with the
    /// environment as it is.
    pub fn enabled(self, is_terminal: bool) -> bool {
        self.enabled_with(
            is_terminal,
            std::env::var_os("NO_COLOR"),
            std::env::var_os("TERM"),
        )
    }

    fn enabled_with(
        self,
        is_terminal: bool,
        no_color: Option<OsString>,
        term: Option<OsString>,
    ) -> bool {
        match self {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => {
                is_terminal
                    && no_color.is_none_or(|v| v.is_empty())
                    && term.is_none_or(|t| t != "dumb")
            }
        }
    }
}

/// What a piece of text says, and so its colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Style {
    /// A pass, a count of passes, a step that went well: bold green.
    Good,
    /// A failure: bold red.
    Bad,
    /// Something to look at (a warning, a stop, a slow test): bold yellow.
    Warn,
    /// A hint: bold cyan.
    Note,
}

impl Style {
    fn sgr(self) -> &'static str {
        match self {
            Style::Good => "1;32",
            Style::Bad => "1;31",
            Style::Warn => "1;33",
            Style::Note => "1;36",
        }
    }
}

/// `text` in `style` if `on`, else as it is.
pub(crate) fn paint(on: bool, style: Style, text: &str) -> String {
    if on {
        format!("\x1b[{}m{text}\x1b[0m", style.sgr())
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_colours_a_terminal_unless_no_color_or_a_dumb_terminal() {
        let set = |v: &str| Some(OsString::from(v));
        let auto = Color::Auto;
        assert!(auto.enabled_with(true, None, set("xterm-256color")));
        assert!(auto.enabled_with(true, None, None));
        assert!(!auto.enabled_with(false, None, set("xterm")), "a pipe");
        assert!(
            !auto.enabled_with(true, set("1"), set("xterm")),
            "NO_COLOR=1"
        );
        assert!(
            auto.enabled_with(true, set(""), set("xterm")),
            "NO_COLOR empty counts as unset"
        );
        assert!(!auto.enabled_with(true, None, set("dumb")));
        assert!(Color::Always.enabled_with(false, set("1"), set("dumb")));
        assert!(!Color::Never.enabled_with(true, None, set("xterm")));
    }

    #[test]
    fn paint_wraps_in_sgr_codes_only_when_on() {
        assert_eq!(paint(true, Style::Bad, "FAIL"), "\x1b[1;31mFAIL\x1b[0m");
        assert_eq!(paint(false, Style::Bad, "FAIL"), "FAIL");
    }
}
