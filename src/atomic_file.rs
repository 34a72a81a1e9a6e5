//! Replacing a file so that a crash leaves either the old version or the new one, never part
//! of either.
//!
//! Everything passform writes for the user to keep goes through here: the encrypted document,
//! the state and saved plans. The new contents go to a temporary file in the same directory,
//! which is flushed to disk and then renamed over the old file; the directory is flushed last,
//! so that the rename itself survives a power loss. A failure at any step leaves the old file
//! as it was, and the temporary file is removed.

use std::fs::File;
use std::io::{self, Write as _};
use std::path::Path;

/// Replaces the file at `path` with `contents`. The temporary file is named `prefix...` so
/// that a leftover from a power loss says where it came from.
pub fn replace(path: &Path, contents: &[u8], prefix: &str) -> io::Result<()> {
    replace_after(path, contents, prefix, || Ok(()))
}

/// Replaces the file at `path` with `contents`, running `before_rename` once the new contents
/// are safely on disk and just before they take the old file's place (to keep a backup of it,
/// say). An error from `before_rename` leaves the old file in place.
pub fn replace_after(
    path: &Path,
    contents: &[u8],
    prefix: &str,
    before_rename: impl FnOnce() -> io::Result<()>,
) -> io::Result<()> {
    let directory = directory_of(path);
    let mut temporary = tempfile::Builder::new()
        .prefix(prefix)
        .suffix(".tmp")
        .tempfile_in(directory)?;
    temporary.write_all(contents)?;
    temporary.as_file().sync_all()?;

    before_rename()?;
    temporary.persist(path).map_err(|error| error.error)?;
    File::open(directory)?.sync_all()
}

/// The directory holding a file, `.` for a bare file name.
pub fn directory_of(path: &Path) -> &Path {
    match path.parent() {
        Some(directory) if !directory.as_os_str().is_empty() => directory,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replacing_a_file_leaves_the_new_contents_and_no_temporary_file() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("kept.json");
        std::fs::write(&path, "old\n").unwrap();

        replace(&path, b"new\n", ".kept.").unwrap();

        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new\n");
        let names: Vec<_> = std::fs::read_dir(directory.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, ["kept.json"]);
    }

    #[test]
    fn a_failure_before_the_rename_keeps_the_old_file_and_removes_the_temporary_one() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("kept.json");
        std::fs::write(&path, "old\n").unwrap();

        let outcome = replace_after(&path, b"new\n", ".kept.", || {
            Err(io::Error::other("no room for the backup"))
        });

        assert!(outcome.is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old\n");
        assert_eq!(std::fs::read_dir(directory.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_bare_file_name_lives_in_the_current_directory() {
        assert_eq!(directory_of(Path::new("state.json")), Path::new("."));
        assert_eq!(directory_of(Path::new("a/state.json")), Path::new("a"));
    }
}
