//! Writing CA files: atomically, and private keys readable only by their owner (0600).

use std::fs;
use std::io::Write;
use std::path::Path;

use crate::CaError;

fn io_err(path: &Path, source: std::io::Error) -> CaError {
    CaError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `contents` to `path` through a temporary file in the same directory, so a crash
/// never leaves a half-written file. `private` files get mode 0600 before any byte is written.
/// Public: gatewayd writes its own state files (tokens, devices, sessions) the same way.
pub fn write_file_atomic(path: &Path, contents: &[u8], private: bool) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.tmp"));
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if private { 0o600 } else { 0o644 });
    }
    let mut file = options.open(&tmp)?;
    file.write_all(contents)?;
    file.sync_all()?;
    drop(file);
    fs::rename(&tmp, path)
}

/// [`write_file_atomic`] with the error naming the file.
pub(crate) fn write_atomic(path: &Path, contents: &[u8], private: bool) -> Result<(), CaError> {
    write_file_atomic(path, contents, private).map_err(|e| io_err(path, e))
}

/// Creates `dir` (and parents) with mode 0700 when it does not exist.
pub(crate) fn ensure_private_dir(dir: &Path) -> Result<(), CaError> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|e| io_err(dir, e))
}

/// Reads a whole file as UTF-8 text.
pub(crate) fn read_text(path: &Path) -> Result<String, CaError> {
    fs::read_to_string(path).map_err(|e| io_err(path, e))
}

/// Refuses a private key file that group or others can read: someone copied it carelessly.
pub(crate) fn check_private_mode(path: &Path) -> Result<(), CaError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(path)
            .map_err(|e| io_err(path, e))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(CaError::BadFile {
                path: path.to_path_buf(),
                reason: format!(
                    "private key is readable by others (mode {:o}); run chmod 600 on it",
                    mode & 0o777
                ),
            });
        }
    }
    Ok(())
}
