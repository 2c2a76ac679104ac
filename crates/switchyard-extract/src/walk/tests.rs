//! The walk against hostile checkouts: links out of the repository, link cycles, deep trees,
//! and each limit; and decoding.

use super::*;

#[test]
fn non_utf8_is_located() {
    let d = decode_text("r", "x.env", b"A=1\nB=\xff\n".to_vec()).unwrap_err();
    assert_eq!(d.code, DiagnosticCode::NotUtf8);
    assert_eq!((d.location.line, d.location.column), (2, 3));
}

#[test]
fn binary_is_detected() {
    let d = decode_text("r", "x.yml", b"a: 1\n\0\0".to_vec()).unwrap_err();
    assert_eq!(d.code, DiagnosticCode::BinaryFile);
}

#[test]
fn bom_is_dropped() {
    assert_eq!(
        decode_text("r", "x", b"\xEF\xBB\xBFa: 1".to_vec()).unwrap(),
        "a: 1"
    );
}

use std::fs;
use std::os::unix::fs::symlink;
use std::time::Duration;

const COMPOSE: &str = "services:\n  web:\n    image: nginx\n";
const MARKER: &str = "OUTSIDE_MARKER_5f3a";

/// A repository folder and, beside it (outside), a file holding [`MARKER`].
struct Fixture {
    _dir: tempfile::TempDir,
    repo: PathBuf,
    outside: PathBuf,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    fs::create_dir_all(&repo).unwrap();
    fs::write(repo.join("docker-compose.yml"), COMPOSE).unwrap();
    let outside = dir.path().join("outside");
    fs::create_dir_all(&outside).unwrap();
    fs::write(outside.join("secret.env"), format!("TOKEN={MARKER}\n")).unwrap();
    fs::write(
        outside.join("docker-compose.yml"),
        format!("# {MARKER}\n{COMPOSE}"),
    )
    .unwrap();
    Fixture {
        _dir: dir,
        repo,
        outside,
    }
}

fn read(root: &Path, limits: Limits) -> ReadRepo {
    read_repository("r", root, &Registry::default(), limits)
}

fn codes(read: &ReadRepo) -> Vec<(DiagnosticCode, String)> {
    read.diagnostics
        .iter()
        .map(|d| (d.code, d.location.path.clone()))
        .collect()
}

fn paths(read: &ReadRepo) -> Vec<String> {
    read.files.files().iter().map(|f| f.path.clone()).collect()
}

fn leaks(read: &ReadRepo) -> bool {
    read.files.files().iter().any(|f| f.text.contains(MARKER))
}

#[test]
fn a_link_to_the_file_system_root_is_not_followed() {
    let f = fixture();
    symlink("/", f.repo.join("everything")).unwrap();
    let started = std::time::Instant::now();
    let read = read(&f.repo, Limits::default());
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        codes(&read).contains(&(
            DiagnosticCode::SymlinkOutsideRepository,
            "everything".into()
        )),
        "{:?}",
        codes(&read)
    );
    assert_eq!(paths(&read), ["docker-compose.yml"]);
}

#[test]
fn a_link_to_proc_is_not_followed() {
    let f = fixture();
    fs::create_dir_all(f.repo.join("deploy")).unwrap();
    symlink("/proc", f.repo.join("deploy/proc")).unwrap();
    let read = read(&f.repo, Limits::default());
    assert!(
        codes(&read).contains(&(
            DiagnosticCode::SymlinkOutsideRepository,
            "deploy/proc".into()
        )),
        "{:?}",
        codes(&read)
    );
    assert_eq!(paths(&read), ["docker-compose.yml"]);
}

#[test]
fn links_to_outside_files_and_folders_are_never_read() {
    let f = fixture();
    symlink(f.outside.join("secret.env"), f.repo.join(".env")).unwrap();
    // Relative, through `..`.
    symlink("../outside", f.repo.join("config")).unwrap();
    let read = read(&f.repo, Limits::default());
    assert!(!leaks(&read), "{:?}", paths(&read));
    let codes = codes(&read);
    for link in [".env", "config"] {
        assert!(
            codes.contains(&(DiagnosticCode::SymlinkOutsideRepository, link.into())),
            "{codes:?}"
        );
    }
    let message = &read.diagnostics[0].message;
    assert!(message.contains("outside the repository"), "{message}");
}

#[test]
fn links_inside_the_repository_are_followed() {
    let f = fixture();
    fs::create_dir_all(f.repo.join("envs/prod")).unwrap();
    fs::write(f.repo.join("envs/prod/.env"), "API_URL=http://api:8080\n").unwrap();
    symlink("envs/prod/.env", f.repo.join(".env")).unwrap();
    symlink("envs", f.repo.join("environments")).unwrap();
    let read = read(&f.repo, Limits::default());
    assert!(read.diagnostics.is_empty(), "{:?}", codes(&read));
    assert_eq!(
        paths(&read),
        [
            ".env",
            "docker-compose.yml",
            "environments/prod/.env",
            "envs/prod/.env"
        ]
    );
}

#[test]
fn the_repository_root_may_itself_be_a_link() {
    let f = fixture();
    let link = f.outside.join("repo-link");
    symlink(&f.repo, &link).unwrap();
    fs::write(f.repo.join(".env"), "A=1\n").unwrap();
    let read = read(&link, Limits::default());
    assert!(read.diagnostics.is_empty(), "{:?}", codes(&read));
    assert_eq!(paths(&read), [".env", "docker-compose.yml"]);
}

#[test]
fn link_cycles_are_diagnostics() {
    let f = fixture();
    symlink("b", f.repo.join("a")).unwrap();
    symlink("a", f.repo.join("b")).unwrap();
    symlink("self.env", f.repo.join("self.env")).unwrap();
    fs::create_dir_all(f.repo.join("sub")).unwrap();
    symlink("..", f.repo.join("sub/back")).unwrap();
    let read = read(&f.repo, Limits::default());
    let codes = codes(&read);
    for link in ["a", "b", "self.env", "sub/back"] {
        assert!(
            codes.contains(&(DiagnosticCode::SymlinkLoop, link.into())),
            "{link}: {codes:?}"
        );
    }
    assert_eq!(paths(&read), ["docker-compose.yml"]);
}

/// `width` links per level, each to the next level: `width^levels` paths without any cycle.
fn link_fan(repo: &Path, levels: usize, width: usize) {
    for level in 0..levels {
        let dir = repo.join(format!("l{level}"));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(".env"), "A=1\n").unwrap();
        if level + 1 < levels {
            for i in 0..width {
                symlink(format!("../l{}", level + 1), dir.join(format!("n{i}"))).unwrap();
            }
        }
    }
}

#[test]
fn deep_trees_stop_at_the_depth_limit() {
    let f = fixture();
    let mut dir = f.repo.clone();
    for i in 0..12 {
        dir = dir.join(format!("d{i}"));
    }
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join(".env"), "A=1\n").unwrap();
    fs::write(f.repo.join("d0/d1/.env"), "B=1\n").unwrap();
    let limits = Limits {
        max_depth: 5,
        ..Limits::default()
    };
    let read = read(&f.repo, limits);
    assert_eq!(paths(&read), ["d0/d1/.env", "docker-compose.yml"]);
    let d = &read.diagnostics;
    assert_eq!(d.len(), 1, "{:?}", codes(&read));
    assert_eq!(d[0].code, DiagnosticCode::TooDeep);
    assert_eq!(d[0].location.path, "d0/d1/d2/d3/d4/d5");
}

#[test]
fn the_byte_budget_stops_the_walk() {
    let f = fixture();
    for i in 0..10 {
        fs::write(f.repo.join(format!("{i}.env")), "A=".repeat(500)).unwrap();
    }
    let limits = Limits {
        max_total_bytes: 2_000,
        ..Limits::default()
    };
    let read = read(&f.repo, limits);
    assert!(read.files.len() < 5, "{:?}", paths(&read));
    assert!(
        codes(&read)
            .iter()
            .any(|(c, _)| *c == DiagnosticCode::RepositoryTooLarge),
        "{:?}",
        codes(&read)
    );
}

#[test]
fn the_file_budget_stops_the_walk() {
    let f = fixture();
    for i in 0..10 {
        fs::write(f.repo.join(format!("{i}.env")), "A=1\n").unwrap();
    }
    let limits = Limits {
        max_files: 3,
        ..Limits::default()
    };
    let read = read(&f.repo, limits);
    assert_eq!(read.files.len(), 3);
    assert_eq!(read.diagnostics[0].code, DiagnosticCode::TooManyFiles);
}

#[test]
fn the_time_limit_stops_an_exponential_walk() {
    let f = fixture();
    // 4^12 = 16 million paths through links that all stay inside the repository.
    link_fan(&f.repo, 13, 4);
    let limits = Limits {
        walk_timeout: Duration::from_millis(300),
        max_files: usize::MAX,
        max_depth: usize::MAX,
        ..Limits::default()
    };
    let started = std::time::Instant::now();
    let read = read(&f.repo, limits);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(read.interrupted);
    assert!(
        codes(&read)
            .iter()
            .any(|(c, _)| *c == DiagnosticCode::WalkTimeout),
        "{:?}",
        codes(&read)
    );
}

#[test]
fn a_cancelled_walk_stops() {
    let f = fixture();
    link_fan(&f.repo, 13, 4);
    let cancel = Cancel::default();
    let stopper = {
        let cancel = cancel.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            cancel.cancel();
        })
    };
    let limits = Limits {
        max_files: usize::MAX,
        max_depth: usize::MAX,
        ..Limits::default()
    };
    let started = std::time::Instant::now();
    let listing = list_candidates("r", &f.repo, &Registry::default(), limits, &cancel);
    stopper.join().unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(listing.interrupted);
    assert_eq!(
        listing.diagnostics.last().map(|d| d.code),
        Some(DiagnosticCode::Cancelled)
    );
    let read = read_candidates("r", listing, limits, &cancel);
    assert!(read.files.is_empty());
}

#[test]
fn a_link_swapped_after_the_walk_is_not_read() {
    let f = fixture();
    let cancel = Cancel::default();
    let listing = list_candidates(
        "r",
        &f.repo,
        &Registry::default(),
        Limits::default(),
        &cancel,
    );
    fs::remove_file(f.repo.join("docker-compose.yml")).unwrap();
    symlink(
        f.outside.join("docker-compose.yml"),
        f.repo.join("docker-compose.yml"),
    )
    .unwrap();
    let read = read_candidates("r", listing, Limits::default(), &cancel);
    assert!(!leaks(&read));
    assert_eq!(
        codes(&read),
        [(
            DiagnosticCode::SymlinkOutsideRepository,
            "docker-compose.yml".to_string()
        )]
    );
}

#[test]
fn special_files_are_not_read() {
    let f = fixture();
    // A FIFO named like a candidate would block a read forever.
    let fifo = f.repo.join(".env");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipped: mkfifo unavailable");
        return;
    }
    let read = read(&f.repo, Limits::default());
    assert_eq!(paths(&read), ["docker-compose.yml"]);
}

#[test]
fn gitignore_rules_apply_with_negation_and_nesting() {
    let f = fixture();
    fs::write(f.repo.join(".gitignore"), "*.env\n!keep.env\nbuild/\n").unwrap();
    for name in ["a.env", "keep.env", "build/.env", "sub/b.env", "sub/c.env"] {
        let path = f.repo.join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, "A=1\n").unwrap();
    }
    fs::write(f.repo.join("sub/.gitignore"), "!c.env\n").unwrap();
    let read = read(&f.repo, Limits::default());
    assert_eq!(
        paths(&read),
        ["docker-compose.yml", "keep.env", "sub/c.env"]
    );
}

#[test]
fn a_gitignore_that_is_a_fifo_or_a_link_out_is_not_read() {
    let f = fixture();
    fs::write(f.repo.join(".env"), "A=1\n").unwrap();
    fs::create_dir_all(f.repo.join("sub")).unwrap();
    fs::write(f.repo.join("sub/.env"), "A=1\n").unwrap();
    symlink("/dev/zero", f.repo.join("sub/.gitignore")).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(f.repo.join(".gitignore"))
        .status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipped: mkfifo unavailable");
        return;
    }
    let started = std::time::Instant::now();
    let read = read(&f.repo, Limits::default());
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(paths(&read), [".env", "docker-compose.yml", "sub/.env"]);
}

#[test]
fn files_read_in_parallel_keep_the_walk_order_and_their_own_text() {
    let f = fixture();
    for i in 0..400 {
        let dir = f.repo.join(format!("packages/p{i:03}"));
        fs::create_dir_all(&dir).unwrap();
        fs::write(
            dir.join("package.json"),
            format!("{{\"name\": \"p{i:03}\"}}"),
        )
        .unwrap();
    }
    let read = read(&f.repo, Limits::default());
    assert!(read.diagnostics.is_empty(), "{:?}", codes(&read));
    let mut expected = vec!["docker-compose.yml".to_string()];
    expected.extend((0..400).map(|i| format!("packages/p{i:03}/package.json")));
    assert_eq!(paths(&read), expected);
    for file in &read.files.files()[1..] {
        let name = file.path.split('/').nth(1).unwrap();
        assert_eq!(file.text, format!("{{\"name\": \"{name}\"}}"));
    }
}
