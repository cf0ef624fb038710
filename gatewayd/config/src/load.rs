//! Reading the config file and turning every problem into `file:line:col: message`.

use std::fmt;
use std::path::{Path, PathBuf};

use super::validate::{find_key, validate};
use super::Config;

/// Where a configuration came from.
#[derive(Debug, Clone)]
pub enum ConfigSource {
    /// The embedded defaults: `gatewayd run` with no `--config`.
    Defaults,
    File(PathBuf),
}

impl fmt::Display for ConfigSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Defaults => f.write_str("<embedded defaults>"),
            Self::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// A configuration problem, positioned in its file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}:{col}: {message}")]
    At {
        path: String,
        line: usize,
        col: usize,
        message: String,
    },
}

/// Loads and validates the config at `path`, or the embedded defaults when there is none.
/// Relative paths inside the file are taken relative to the file's directory.
pub fn load_config(path: Option<&Path>) -> Result<(Config, ConfigSource), ConfigError> {
    let Some(path) = path else {
        let config = Config::default();
        validate(&config, "")
            .map_err(|(span, message)| positioned("<defaults>", "", span, message))?;
        return Ok((config, ConfigSource::Defaults));
    };
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: shown.clone(),
        source,
    })?;
    let mut config = parse(&shown, &text)?;
    let base = path.parent().unwrap_or(Path::new(""));
    resolve_relative(&mut config, base);
    validate(&config, &text).map_err(|(span, message)| positioned(&shown, &text, span, message))?;
    let ch = &mut config.clickhouse;
    read_password_file("password", &ch.password_file, &mut ch.password)
        .map_err(|message| positioned(&shown, &text, find_key(&text, "password_file"), message))?;
    read_password_file(
        "reader_password",
        &ch.reader_password_file,
        &mut ch.reader_password,
    )
    .map_err(|message| {
        positioned(
            &shown,
            &text,
            find_key(&text, "reader_password_file"),
            message,
        )
    })?;
    Ok((config, ConfigSource::File(path.to_path_buf())))
}

/// The most bytes read from `clickhouse.password_file` or `reader_password_file`.
const MAX_PASSWORD_FILE: u64 = 4096;

/// Fills `clickhouse.<key>` from `clickhouse.<key>_file` (its first line).
fn read_password_file(
    key: &str,
    file: &Option<PathBuf>,
    password: &mut Option<String>,
) -> Result<(), String> {
    let Some(path) = file else {
        return Ok(());
    };
    if password.is_some() {
        return Err(format!(
            "set clickhouse.{key} or clickhouse.{key}_file, not both"
        ));
    }
    let shown = path.display();
    let file =
        std::fs::File::open(path).map_err(|e| format!("clickhouse.{key}_file {shown}: {e}"))?;
    let mut text = String::new();
    std::io::Read::read_to_string(&mut std::io::Read::take(file, MAX_PASSWORD_FILE), &mut text)
        .map_err(|e| format!("clickhouse.{key}_file {shown}: {e}"))?;
    let first = text.lines().next().unwrap_or("").trim_end_matches('\r');
    if first.is_empty() {
        return Err(format!("clickhouse.{key}_file {shown} is empty"));
    }
    *password = Some(first.to_string());
    Ok(())
}

/// Parses config text; `shown` names it in errors.
pub(crate) fn parse(shown: &str, text: &str) -> Result<Config, ConfigError> {
    toml::from_str(text).map_err(|e| {
        let message = e.message().to_string();
        positioned(shown, text, e.span().map(|s| s.start), message)
    })
}

fn resolve_relative(config: &mut Config, base: &Path) {
    let fix = |p: &mut PathBuf| {
        if p.is_relative() {
            *p = base.join(&*p);
        }
    };
    fix(&mut config.state.dir);
    if let Some(users) = config.proxy.users_file.as_mut() {
        fix(users);
    }
    config.upstream.extra_roots.iter_mut().for_each(fix);
    config.policies.files.iter_mut().for_each(fix);
    config.policies.catalog_files.iter_mut().for_each(fix);
    config.policies.catalog_update_keys.iter_mut().for_each(fix);
    if let Some(db) = config.geoip.database.as_mut() {
        fix(db);
    }
    if let Some(model) = config.inference.model.as_mut() {
        fix(model);
    }
    if let Some(secret) = config.clickhouse.password_file.as_mut() {
        fix(secret);
    }
    if let Some(secret) = config.clickhouse.reader_password_file.as_mut() {
        fix(secret);
    }
}

fn positioned(shown: &str, text: &str, offset: Option<usize>, message: String) -> ConfigError {
    let (line, col) = offset.map(|o| line_col(text, o)).unwrap_or((1, 1));
    ConfigError::At {
        path: shown.to_string(),
        line,
        col,
        message,
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        let (config, _) = load_config(None).unwrap();
        assert_eq!(config.proxy.listen.to_string(), "127.0.0.1:3128");
        assert_eq!(config.admin.listen.to_string(), "127.0.0.1:9090");
    }

    #[test]
    fn the_reader_password_can_come_from_a_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("reader"), "r34d\n").unwrap();
        let config_path = dir.path().join("g.toml");
        let text = "[clickhouse]\nreader_user = \"r\"\nreader_password_file = \"reader\"\n";
        std::fs::write(&config_path, text).unwrap();
        let (config, _) = load_config(Some(&config_path)).unwrap();
        assert_eq!(config.clickhouse.reader_password.as_deref(), Some("r34d"));
        assert_eq!(config.clickhouse.password, None, "the writer's is separate");
        std::fs::write(dir.path().join("reader"), "").unwrap();
        let empty = load_config(Some(&config_path)).unwrap_err().to_string();
        assert!(
            empty.contains("reader_password_file") && empty.contains(":3:"),
            "{empty}"
        );
    }

    #[test]
    fn the_clickhouse_password_can_come_from_a_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("secret"), "s3cret\nignored\n").unwrap();
        let config_path = dir.path().join("g.toml");
        std::fs::write(&config_path, "[clickhouse]\npassword_file = \"secret\"\n").unwrap();
        let (config, _) = load_config(Some(&config_path)).unwrap();
        assert_eq!(config.clickhouse.password.as_deref(), Some("s3cret"));

        std::fs::write(
            &config_path,
            "[clickhouse]\npassword = \"x\"\npassword_file = \"secret\"\n",
        )
        .unwrap();
        let both = load_config(Some(&config_path)).unwrap_err().to_string();
        assert!(both.contains("not both") && both.contains(":3:"), "{both}");

        std::fs::write(&config_path, "[clickhouse]\npassword_file = \"missing\"\n").unwrap();
        let missing = load_config(Some(&config_path)).unwrap_err().to_string();
        assert!(missing.contains("password_file"), "{missing}");
        std::fs::write(dir.path().join("secret"), "\n").unwrap();
        std::fs::write(&config_path, "[clickhouse]\npassword_file = \"secret\"\n").unwrap();
        let empty = load_config(Some(&config_path)).unwrap_err().to_string();
        assert!(empty.contains("empty"), "{empty}");
    }

    #[test]
    fn unknown_key_is_rejected_with_position() {
        let err = parse("g.toml", "[proxy]\nlisten = \"127.0.0.1:1\"\nlisen = 1\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("g.toml:3:1: "), "{err}");
        assert!(err.contains("unknown field `lisen`"), "{err}");
    }

    #[test]
    fn bad_value_is_positioned() {
        let err = parse("g.toml", "[timeouts]\nidle = \"forever\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("g.toml:2:8: "), "{err}");
    }

    #[test]
    fn line_col_counts_from_one() {
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("", 10), (1, 1));
    }
}

#[cfg(test)]
mod example_file {
    #[test]
    fn the_documented_example_parses_to_the_defaults() {
        let text = include_str!("../../../deploy/gatewayd.example.toml");
        let parsed = super::parse("gatewayd.example.toml", text).unwrap();
        let defaults = super::Config::default();
        assert_eq!(format!("{parsed:?}"), format!("{defaults:?}"));
    }
}
