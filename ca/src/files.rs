//! Writing CA files: atomically, and private keys readable only by their owner (0600).

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

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
///
/// The temporary name is random and the file is created exclusively without following
/// symlinks, so a link planted in the directory can never redirect the write, and two writers
/// never share a temporary file. The directory is synced after the rename so the new name
/// survives a power cut.
pub fn write_file_atomic(path: &Path, contents: &[u8], private: bool) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let Some(file_name) = path.file_name() else {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} names no file", path.display()),
        ));
    };
    let (tmp, mut file) = create_temporary(dir, file_name, private)?;
    let written = file
        .write_all(contents)
        .and_then(|()| file.sync_all())
        .and_then(|()| {
            drop(file);
            fs::rename(&tmp, path)
        });
    if let Err(error) = written {
        let _ = fs::remove_file(&tmp);
        return Err(error);
    }
    sync_dir(dir)
}

/// Creates a fresh temporary file beside the target, with a random name nobody can plant a
/// link at in advance; retries the (astronomically unlikely) name collision a few times.
fn create_temporary(
    dir: &Path,
    file_name: &OsStr,
    private: bool,
) -> std::io::Result<(PathBuf, fs::File)> {
    let mut last = None;
    for _ in 0..8 {
        let suffix: u64 = rand::random();
        let mut name = OsString::from(".");
        name.push(file_name);
        name.push(format!(".{suffix:016x}.tmp"));
        let tmp = dir.join(name);
        match open_exclusive(&tmp, private) {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::from(std::io::ErrorKind::AlreadyExists)))
}

/// Opens a new file for writing: fails if anything, a symlink included, is already there.
fn open_exclusive(path: &Path, private: bool) -> std::io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    // create_new is O_CREAT|O_EXCL, which already refuses a symlink; O_NOFOLLOW says so
    // explicitly and keeps it true should the flags ever change.
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options
            .mode(if private { 0o600 } else { 0o644 })
            .custom_flags(libc::O_NOFOLLOW);
    }
    #[cfg(not(unix))]
    let _ = private;
    options.open(path)
}

/// Makes a rename in `dir` durable.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_planted_at_the_old_temporary_name_is_never_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        fs::create_dir(&state).unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, "untouched").unwrap();
        // The name the previous version always used, and any name an attacker could guess.
        std::os::unix::fs::symlink(&victim, state.join(".devices.json.tmp")).unwrap();

        let target = state.join("devices.json");
        write_file_atomic(&target, b"{\"devices\":[]}", true).unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "untouched");
        assert_eq!(fs::read(&target).unwrap(), b"{\"devices\":[]}");
        assert!(!fs::symlink_metadata(&target).unwrap().is_symlink());
        assert_eq!(
            entries(&state),
            [".devices.json.tmp", "devices.json"],
            "no temporary file is left behind"
        );
    }

    #[cfg(unix)]
    #[test]
    fn the_exclusive_open_refuses_a_symlink_even_a_dangling_one() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, "untouched").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        assert!(open_exclusive(&link, true).is_err());
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink(dir.path().join("not-yet"), &dangling).unwrap();
        assert!(open_exclusive(&dangling, true).is_err());
        assert!(!dir.path().join("not-yet").exists());
        assert_eq!(fs::read_to_string(&victim).unwrap(), "untouched");
    }

    #[test]
    fn concurrent_writers_never_share_a_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("book.json");
        std::thread::scope(|s| {
            for i in 0..8u8 {
                let target = &target;
                s.spawn(move || {
                    for _ in 0..50 {
                        write_file_atomic(target, &[b'a' + i; 4096], false).unwrap();
                    }
                });
            }
        });
        let last = fs::read(&target).unwrap();
        assert_eq!(last.len(), 4096, "one writer's whole file, never a mix");
        assert!(last.iter().all(|&b| b == last[0]));
        assert_eq!(entries(dir.path()), ["book.json"]);
    }
}
