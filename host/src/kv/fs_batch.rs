//! Group commit on an `fs` store: many values made durable at the cost of
//! about one sync. Each value goes to a temporary file beside its final
//! name, the files are synced together (the file system joins concurrent
//! syncs into one journal commit: 64 files of 100 KB in ~22 ms here, ~220
//! ms one after another), renamed into place, and each directory involved
//! is synced once. Creating files is what a batch mostly spends its time
//! on, and a directory takes one creation at a time, so they are created a
//! thread per directory.

use std::path::{Path, PathBuf};

use bytes::Bytes;

/// Runs `work` on each of `items`, on up to 16 threads at once. Syncs
/// issued together share the file system's journal commits, so a batch of
/// them costs about one; creations in different directories proceed side
/// by side (a directory takes one at a time).
fn in_parallel<T: Sync>(
    items: &[T],
    work: impl Fn(&T) -> std::io::Result<()> + Sync,
) -> std::io::Result<()> {
    let threads = items.len().clamp(1, 16);
    let per = items.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(per)
            .map(|part| scope.spawn(|| part.iter().try_for_each(&work)))
            .collect();
        handles.into_iter().try_for_each(|h| {
            h.join()
                .unwrap_or_else(|_| Err(std::io::Error::other("file work panicked")))
        })
    })
}

/// The values of one directory of a group write, and their temporary files.
struct DirWrite {
    dir: PathBuf,
    /// Final path, value, temporary path (once written).
    files: Vec<(PathBuf, Bytes, PathBuf)>,
    /// The open temporary files, to sync.
    open: std::sync::Mutex<Vec<std::fs::File>>,
}

/// [`OpendalStore::set_many`] on `fs`: each value goes to a temporary file
/// beside its final name (`%{random}.batch`, a name no key encodes to), a
/// thread per directory; the files are synced together, renamed into place
/// in order (a key written twice keeps the last value), then `dirs` are
/// synced. On failure the temporary files are removed.
pub fn group_write(files: Vec<(PathBuf, Bytes)>, dirs: &[PathBuf]) -> std::io::Result<()> {
    use std::io::Write;
    let mut by_dir: std::collections::BTreeMap<PathBuf, Vec<_>> = Default::default();
    for (path, value) in files {
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let temp = dir.join(format!("%{:016x}.batch", fastrand::u64(..)));
        by_dir.entry(dir).or_default().push((path, value, temp));
    }
    let groups: Vec<DirWrite> = by_dir
        .into_iter()
        .map(|(dir, files)| DirWrite {
            dir,
            files,
            open: Default::default(),
        })
        .collect();
    let cleanup = || {
        for group in &groups {
            for (_, _, temp) in &group.files {
                let _ = std::fs::remove_file(temp);
            }
        }
    };
    let written = in_parallel(&groups, |group| {
        std::fs::create_dir_all(&group.dir)?;
        for (_, value, temp) in &group.files {
            let mut file = std::fs::File::create(temp)?;
            file.write_all(value)?;
            group.open.lock().unwrap().push(file);
        }
        Ok(())
    });
    let open: Vec<std::fs::File> = groups
        .iter()
        .flat_map(|g| std::mem::take(&mut *g.open.lock().unwrap()))
        .collect();
    if let Err(e) = written.and_then(|()| in_parallel(&open, std::fs::File::sync_all)) {
        cleanup();
        return Err(e);
    }
    drop(open);
    in_parallel(&groups, |group| {
        group
            .files
            .iter()
            .try_for_each(|(path, _, temp)| std::fs::rename(temp, path))
    })?;
    in_parallel(dirs, |dir| std::fs::File::open(dir)?.sync_all())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kv::backend_tests::tempdir;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn writes_every_value_in_place_and_leaves_no_temporary_file() {
        let root = tempdir();
        let (a, b) = (root.path().join("a"), root.path().join("b/c"));
        let files = vec![
            (a.join("1~"), Bytes::from_static(b"one")),
            (b.join("2~"), Bytes::from_static(b"two")),
            (a.join("1~"), Bytes::from_static(b"last wins")),
        ];
        group_write(files, &[root.path().to_path_buf(), a.clone(), b.clone()]).unwrap();
        assert_eq!(std::fs::read(a.join("1~")).unwrap(), b"last wins");
        assert_eq!(std::fs::read(b.join("2~")).unwrap(), b"two");
        assert_eq!(names(&a), ["1~"]);
        assert_eq!(names(&b), ["2~"]);
    }

    #[test]
    fn a_failed_batch_removes_its_temporary_files() {
        let root = tempdir();
        let ok = root.path().join("ok");
        std::fs::write(root.path().join("file"), b"x").unwrap();
        let files = vec![
            (ok.join("1~"), Bytes::from_static(b"one")),
            // A directory where a file is: cannot be created.
            (root.path().join("file/2~"), Bytes::from_static(b"two")),
        ];
        assert!(group_write(files, &[]).is_err());
        assert!(
            names(&ok).iter().all(|n| !n.ends_with(".batch")),
            "{:?}",
            names(&ok)
        );
    }
}
