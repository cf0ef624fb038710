//! The Prometheus text exposition format (version 0.0.4), written one family at a time: a
//! `# HELP` and a `# TYPE` line, then its samples. The only place that formats `/metrics`.
//!
//! It must never write a sample without its family's TYPE line, nor a label value or help
//! text unescaped (backslash, double quote and newline are escaped as the format requires).

use std::fmt::Write;

/// A family's type, as written on its `# TYPE` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
        }
    }
}

/// The text of one scrape, built family by family.
#[derive(Default)]
pub struct Exposition {
    out: String,
}

impl Exposition {
    /// A family with one unlabelled sample.
    pub fn single(&mut self, name: &str, kind: Kind, help: &str, value: u64) {
        self.header(name, kind, help);
        let _ = writeln!(self.out, "{name} {value}");
    }

    /// A family with one sample per value of the label `key`.
    pub fn labelled(
        &mut self,
        name: &str,
        kind: Kind,
        help: &str,
        key: &str,
        samples: impl IntoIterator<Item = (&'static str, u64)>,
    ) {
        self.header(name, kind, help);
        for (value, count) in samples {
            let _ = write!(self.out, "{name}{{{key}=\"");
            escape_into(&mut self.out, value, true);
            let _ = writeln!(self.out, "\"}} {count}");
        }
    }

    /// A family whose samples each carry several labels (`key="value"` pairs, in order).
    /// The label values come from the configuration, never from a request.
    pub fn multi_labelled<'a>(
        &mut self,
        name: &str,
        kind: Kind,
        help: &str,
        samples: impl IntoIterator<Item = (Vec<(&'a str, &'a str)>, u64)>,
    ) {
        self.header(name, kind, help);
        for (labels, count) in samples {
            self.out.push_str(name);
            for (i, (key, value)) in labels.iter().enumerate() {
                debug_assert!(valid_name(key), "label name {key:?}");
                self.out.push(if i == 0 { '{' } else { ',' });
                let _ = write!(self.out, "{key}=\"");
                escape_into(&mut self.out, value, true);
                self.out.push('"');
            }
            if !labels.is_empty() {
                self.out.push('}');
            }
            let _ = writeln!(self.out, " {count}");
        }
    }

    pub fn finish(self) -> String {
        self.out
    }

    fn header(&mut self, name: &str, kind: Kind, help: &str) {
        debug_assert!(valid_name(name), "metric name {name:?}");
        let _ = write!(self.out, "# HELP {name} ");
        escape_into(&mut self.out, help, false);
        let _ = writeln!(self.out, "\n# TYPE {name} {}", kind.as_str());
    }
}

/// Escapes `\` and newlines (and `"` in label values), as the text format requires.
fn escape_into(out: &mut String, text: &str, quote: bool) {
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if quote => out.push_str("\\\""),
            c => out.push(c),
        }
    }
}

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`, the format's metric name rule.
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_and_help_are_escaped() {
        let mut text = Exposition::default();
        text.labelled(
            "x_total",
            Kind::Counter,
            "a \\ help\nline",
            "k",
            [("a\"b\\c\nd", 3)],
        );
        assert_eq!(
            text.finish(),
            "# HELP x_total a \\\\ help\\nline\n# TYPE x_total counter\n\
             x_total{k=\"a\\\"b\\\\c\\nd\"} 3\n"
        );
    }

    #[test]
    fn several_labels_are_written_in_order_and_escaped() {
        let mut text = Exposition::default();
        text.multi_labelled(
            "y_total",
            Kind::Counter,
            "h",
            [(vec![("provider", "a\"b"), ("model", "m")], 2), (vec![], 1)],
        );
        assert_eq!(
            text.finish(),
            "# HELP y_total h\n# TYPE y_total counter\n\
             y_total{provider=\"a\\\"b\",model=\"m\"} 2\ny_total 1\n"
        );
    }

    #[test]
    fn names_follow_the_format() {
        assert!(valid_name("warden_requests_total"));
        assert!(!valid_name("9x"));
        assert!(!valid_name("a-b"));
        assert!(!valid_name(""));
    }
}
