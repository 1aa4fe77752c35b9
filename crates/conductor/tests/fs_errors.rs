//! Failing file operations: the error keeps its kind and names the path; nothing is cut short
//! silently.

mod support;

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use conductor::fs::{self, PathError};
use futures_lite::AsyncWriteExt;
use support::TempDir;
use support::backends::each_backend;

/// The OS error number under the path (the kinds IsADirectory and friends are newer than the
/// crate's minimum Rust version).
fn os_error(err: &std::io::Error) -> Option<i32> {
    PathError::of(err).and_then(PathError::raw_os_error)
}

#[track_caller]
fn assert_names(err: &std::io::Error, path: &Path) {
    let msg = err.to_string();
    assert!(
        msg.contains(&*path.to_string_lossy()),
        "{msg:?} does not name {path:?}"
    );
}

#[test]
fn a_missing_path_is_not_found_and_named() {
    each_backend(|b| async move {
        let p = Path::new("/no/such/dir/file.txt");
        let err = fs::read(p).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound, "{b:?}");
        assert_eq!(
            err.to_string(),
            "could not open /no/such/dir/file.txt: No such file or directory (os error 2)"
        );
        let pe = PathError::of(&err).unwrap();
        assert_eq!((pe.operation(), pe.path()), ("open", p));
        assert_eq!(pe.raw_os_error(), Some(libc::ENOENT));

        assert_eq!(
            fs::metadata(p).await.unwrap_err().kind(),
            ErrorKind::NotFound
        );
        assert_names(&fs::metadata(p).await.unwrap_err(), p);
        assert_names(&fs::remove_file(p).await.unwrap_err(), p);
        assert_names(&fs::read_dir(p).await.unwrap_err(), p);
        assert_names(&fs::File::open(p).await.unwrap_err(), p);
        assert_names(&fs::write(p, "x").await.unwrap_err(), p);
    });
}

/// Permission denied: a mode-000 file for an ordinary user; root passes permission bits, so
/// as root the test writes to a read-only sysctl, which the kernel refuses even to root.
#[test]
fn permission_denied_is_reported_with_the_path() {
    each_backend(|b| async move {
        let dir = TempDir::new("eacces");
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        let target = if root {
            PathBuf::from("/proc/sys/kernel/osrelease")
        } else {
            let p = dir.0.join("locked");
            std::fs::write(&p, "secret").unwrap();
            std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o000))
                .unwrap();
            let err = fs::read(&p).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::PermissionDenied);
            assert_names(&err, &p);
            p
        };
        let err = fs::write(&target, "x").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{b:?}: {err}");
        assert_names(&err, &target);
        assert!(err.to_string().contains("Permission denied"), "{err}");
        let err = fs::OpenOptions::new()
            .write(true)
            .open(&target)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::PermissionDenied);
        assert_names(&err, &target);
    });
}

#[test]
fn a_directory_cannot_be_written_as_a_file() {
    each_backend(|_| async {
        let dir = TempDir::new("eisdir");
        let err = fs::write(&dir.0, "x").await.unwrap_err();
        assert_eq!(os_error(&err), Some(libc::EISDIR));
        assert_names(&err, &dir.0);
        let err = fs::File::create(&dir.0).await.unwrap_err();
        assert_eq!(
            PathError::of(&err).unwrap().raw_os_error(),
            Some(libc::EISDIR)
        );
        assert_names(&err, &dir.0);
    });
}

/// /dev/full refuses every write with ENOSPC: the disk-full case, without filling a disk.
#[test]
fn a_full_device_fails_the_write_it_does_not_truncate_it() {
    each_backend(|b| async move {
        let full = Path::new("/dev/full");
        let err = fs::write(full, vec![1u8; 100_000]).await.unwrap_err();
        assert_eq!(os_error(&err), Some(libc::ENOSPC), "{b:?}");
        assert_names(&err, full);

        // Through a File: the write is buffered, the failure comes at flush.
        let mut f = fs::OpenOptions::new().write(true).open(full).await.unwrap();
        f.write_all(b"buffered").await.unwrap();
        let err = f.flush().await.unwrap_err();
        assert_eq!(os_error(&err), Some(libc::ENOSPC));
        assert_eq!(
            err.to_string(),
            "could not write /dev/full: No space left on device (os error 28)"
        );
    });
}

#[test]
fn copy_and_rename_name_both_paths() {
    conductor::run(async {
        let dir = TempDir::new("copyerr");
        let (a, b) = (dir.0.join("missing"), dir.0.join("dest"));
        let err = fs::copy(&a, &b).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert_names(&err, &a);
        assert_names(&err, &b);
        let err = fs::rename(&a, &b).await.unwrap_err();
        assert_names(&err, &a);
        assert_names(&err, &b);
    });
}

#[test]
fn invalid_utf8_is_invalid_data_naming_the_file() {
    conductor::run(async {
        let dir = TempDir::new("utf8");
        let p = dir.0.join("latin1");
        std::fs::write(&p, b"caf\xe9").unwrap();
        let err = fs::read_to_string(&p).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidData);
        assert_names(&err, &p);
    });
}

#[test]
fn listing_a_file_is_not_a_directory() {
    conductor::run(async {
        let dir = TempDir::new("notdir");
        let p = dir.0.join("plain");
        std::fs::write(&p, "").unwrap();
        let err = fs::read_dir(&p).await.unwrap_err();
        assert_eq!(os_error(&err), Some(libc::ENOTDIR));
        assert_names(&err, &p);
    });
}
