//! The operation log: one JSON line per finished operation, appended to a file that rotates
//! (`log` → `log.1` → … → `log.<keep>`) before it would grow past `max_bytes`.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::MonitorError;

/// Where the operation log goes and how much of it is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationLogConfig {
    pub path: PathBuf,
    /// The live file is rotated before a line would take it past this size.
    pub max_bytes: u64,
    /// Rotated files kept (`path.1` newest .. `path.<keep>` oldest); 0 keeps none.
    pub keep: usize,
}

impl OperationLogConfig {
    pub const DEFAULT_MAX_BYTES: u64 = 10 * 1024 * 1024;
    pub const DEFAULT_KEEP: usize = 5;

    pub fn new(path: impl Into<PathBuf>) -> Self {
        OperationLogConfig {
            path: path.into(),
            max_bytes: Self::DEFAULT_MAX_BYTES,
            keep: Self::DEFAULT_KEEP,
        }
    }
}

/// An open, append-only operation log.
#[derive(Debug)]
pub(crate) struct OperationLog {
    config: OperationLogConfig,
    file: File,
    /// Bytes in the live file, tracked so rotation needs no `stat` per line.
    size: u64,
}

impl OperationLog {
    /// Opens (creating parent directories and the file) and appends to an existing log.
    pub(crate) fn open(config: OperationLogConfig) -> Result<Self, MonitorError> {
        let err = |source| MonitorError::Log {
            path: config.path.clone(),
            source,
        };
        if let Some(parent) = config.path.parent()
            && !parent.as_os_str().is_empty()
        {
            fs::create_dir_all(parent).map_err(err)?;
        }
        let file = open_append(&config.path).map_err(err)?;
        let size = file.metadata().map_err(err)?.len();
        Ok(OperationLog { config, file, size })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.config.path
    }

    /// Appends `line` (a newline is added), rotating first when it would not fit. A single line
    /// larger than `max_bytes` still goes into a fresh file rather than being dropped.
    pub(crate) fn append(&mut self, line: &str) -> Result<(), MonitorError> {
        let len = line.len() as u64 + 1;
        if self.size > 0 && self.size.saturating_add(len) > self.config.max_bytes {
            self.rotate().map_err(|source| self.error(source))?;
        }
        let mut bytes = Vec::with_capacity(line.len() + 1);
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
        // One write call per line, so concurrent readers never see half a record.
        self.file
            .write_all(&bytes)
            .map_err(|source| self.error(source))?;
        self.size += len;
        Ok(())
    }

    fn error(&self, source: io::Error) -> MonitorError {
        MonitorError::Log {
            path: self.config.path.clone(),
            source,
        }
    }

    fn rotate(&mut self) -> io::Result<()> {
        self.file.flush()?;
        let path = &self.config.path;
        if self.config.keep == 0 {
            fs::remove_file(path).or_else(ignore_missing)?;
        } else {
            fs::remove_file(rotated(path, self.config.keep)).or_else(ignore_missing)?;
            for n in (1..self.config.keep).rev() {
                fs::rename(rotated(path, n), rotated(path, n + 1)).or_else(ignore_missing)?;
            }
            fs::rename(path, rotated(path, 1))?;
        }
        self.file = open_append(path)?;
        self.size = 0;
        Ok(())
    }
}

/// The finished operations recorded in the live file and the newest rotated one (`path.1`),
/// oldest first; unreadable files and lines that are not records are skipped.
pub(crate) fn read_back(path: &Path) -> Vec<crate::OperationRecord> {
    let mut records = Vec::new();
    for file in [rotated(path, 1), path.to_path_buf()] {
        let Ok(bytes) = fs::read(&file) else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes);
        records.extend(
            text.lines()
                .filter_map(|line| serde_json::from_str::<crate::OperationRecord>(line).ok())
                .filter(|r| r.ended_at.is_some()),
        );
    }
    records.sort_by_key(|r| r.ended_at);
    records
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// `path.n`: `ops.log` → `ops.log.3`.
pub(crate) fn rotated(path: &Path, n: usize) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

fn ignore_missing(e: io::Error) -> io::Result<()> {
    if e.kind() == io::ErrorKind::NotFound {
        Ok(())
    } else {
        Err(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(path: &Path) -> Vec<String> {
        fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn creates_parent_directories_and_appends_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/operations.log");
        let mut log = OperationLog::open(OperationLogConfig::new(&path)).unwrap();
        log.append(r#"{"n":1}"#).unwrap();
        log.append(r#"{"n":2}"#).unwrap();
        assert_eq!(lines(&path), vec![r#"{"n":1}"#, r#"{"n":2}"#]);

        // Reopening continues the file and counts its existing size.
        drop(log);
        let mut log = OperationLog::open(OperationLogConfig::new(&path)).unwrap();
        assert_eq!(log.size, 16);
        log.append(r#"{"n":3}"#).unwrap();
        assert_eq!(lines(&path).len(), 3);
    }

    #[test]
    fn rotates_before_exceeding_max_bytes_and_drops_the_oldest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ops.log");
        let config = OperationLogConfig {
            path: path.clone(),
            max_bytes: 20, // two 8-byte lines fit, a third does not
            keep: 2,
        };
        let mut log = OperationLog::open(config).unwrap();
        for n in 0..7 {
            log.append(&format!("line-{n}_")).unwrap(); // 7 bytes + newline
        }
        // live: 6 | .1: 4,5 | .2: 2,3 | 0,1 dropped
        assert_eq!(lines(&path), vec!["line-6_"]);
        assert_eq!(lines(&rotated(&path, 1)), vec!["line-4_", "line-5_"]);
        assert_eq!(lines(&rotated(&path, 2)), vec!["line-2_", "line-3_"]);
        assert!(!rotated(&path, 3).exists());
        for n in [&path, &rotated(&path, 1), &rotated(&path, 2)] {
            assert!(fs::metadata(n).unwrap().len() <= 20);
        }
    }

    #[test]
    fn keep_zero_truncates_and_oversized_line_is_still_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ops.log");
        let config = OperationLogConfig {
            path: path.clone(),
            max_bytes: 10,
            keep: 0,
        };
        let mut log = OperationLog::open(config).unwrap();
        log.append("short").unwrap();
        log.append("a line far longer than ten bytes").unwrap();
        assert_eq!(lines(&path), vec!["a line far longer than ten bytes"]);
        assert!(!rotated(&path, 1).exists());
        log.append("next").unwrap();
        assert_eq!(lines(&path), vec!["next"]);
    }

    #[test]
    fn open_fails_with_the_path_when_the_directory_cannot_be_made() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        fs::write(&blocker, "x").unwrap();
        let err = OperationLog::open(OperationLogConfig::new(blocker.join("ops.log"))).unwrap_err();
        assert!(err.to_string().contains("file"), "{err}");
    }

    #[test]
    fn rotated_names_append_the_number() {
        assert_eq!(
            rotated(Path::new("/var/log/ops.jsonl"), 5),
            PathBuf::from("/var/log/ops.jsonl.5")
        );
    }

    #[test]
    fn read_back_takes_the_newest_rotation_and_the_live_file_oldest_first() {
        use crate::{OperationKind, OperationStatus};
        use switchyard_store::Timestamp;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ops.jsonl");
        let record = |n: i64, end: Option<i64>| crate::OperationRecord {
            id: format!("op_{n}"),
            kind: OperationKind::Claim,
            status: OperationStatus::Completed,
            started_at: Timestamp::from_unix_millis(n),
            ended_at: end.map(Timestamp::from_unix_millis),
            duration_ms: Some(0.0),
            details: serde_json::json!({}),
            result: None,
            error: None,
            conflicts: 0,
        };
        let line = |r: &crate::OperationRecord| serde_json::to_string(r).unwrap();
        fs::write(rotated(&path, 2), line(&record(0, Some(0)))).unwrap(); // too old to read
        fs::write(
            rotated(&path, 1),
            format!("{}\nnot json\n", line(&record(1, Some(10)))),
        )
        .unwrap();
        fs::write(
            &path,
            format!(
                "{}\n{}\n{{\"half\":",
                line(&record(3, Some(30))),
                line(&record(2, None))
            ),
        )
        .unwrap();
        let ids: Vec<String> = read_back(&path).into_iter().map(|r| r.id).collect();
        assert_eq!(ids, vec!["op_1", "op_3"]);
        assert!(read_back(&dir.path().join("missing.jsonl")).is_empty());
    }
}
