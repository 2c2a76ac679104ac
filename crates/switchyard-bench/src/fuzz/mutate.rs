//! Seeded mutations of a copied fleet: byte flips, truncation, duplicated lines, deep nesting,
//! huge lines, invalid UTF-8, YAML anchor bombs, FIFOs, and symbolic links out of the
//! repository, to `/` and `/proc`, and in cycles. Every mutation is chosen by the run's [`Rng`], so a seed
//! replays the same tree.

use crate::rng::Rng;
use std::fs;
use std::io;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

/// File names the analysis reads (a link planted under one of them is read if followed).
const CANDIDATE_NAMES: [&str; 8] = [
    ".env",
    "docker-compose.yml",
    "compose.yaml",
    "config.json",
    "prometheus.yml",
    "nginx.conf",
    "package.json",
    "settings.yaml",
];

/// The mutations, by name (the names are written to each failure's `failure.txt`).
pub const KINDS: [&str; 14] = [
    "byte-flip",
    "truncate",
    "duplicate-lines",
    "deep-nesting",
    "huge-line",
    "invalid-utf8",
    "anchor-bomb",
    "link-outside-file",
    "link-outside-dir",
    "link-root-or-proc",
    "link-loop",
    "reference-outside",
    "swap-for-link",
    "fifo",
];

/// One mutation: `kind` applied to the tree under `fleet`, with `outside` the folder holding
/// the marker files. Returns a line describing what was done.
pub fn apply(rng: &mut Rng, fleet: &Path, outside: &Path) -> io::Result<String> {
    let kind = KINDS[rng.below(KINDS.len() as u64) as usize];
    // Files of the fleet folder itself (switchyard.toml) are the user's, not a repository's.
    let files: Vec<PathBuf> = files_under(fleet)
        .into_iter()
        .filter(|f| f.parent() != Some(fleet))
        .collect();
    let dirs = dirs_under(fleet);
    let pick_file = |rng: &mut Rng| -> Option<PathBuf> {
        (!files.is_empty()).then(|| files[rng.below(files.len() as u64) as usize].clone())
    };
    let pick_dir = |rng: &mut Rng| -> PathBuf {
        if dirs.is_empty() {
            let dir = fleet.join("repository");
            let _ = fs::create_dir_all(&dir);
            dir
        } else {
            dirs[rng.below(dirs.len() as u64) as usize].clone()
        }
    };
    let what = match kind {
        "byte-flip" | "truncate" | "duplicate-lines" | "huge-line" | "invalid-utf8" => {
            let Some(file) = pick_file(rng) else {
                return Ok(format!("{kind}: no file"));
            };
            let mut bytes = fs::read(&file)?;
            edit_bytes(rng, kind, &mut bytes);
            fs::write(&file, &bytes)?;
            format!("{kind} {}", rel(fleet, &file))
        }
        "deep-nesting" => {
            let depth = rng.range(100, 20_000) as usize;
            let (file, text) = if rng.chance(0.5) {
                let mut t = String::from("services:\n  web:\n    image: nginx\n    labels:\n");
                for i in 0..depth.min(3_000) {
                    t.push_str(&" ".repeat(6 + 2 * i));
                    t.push_str("a:\n");
                }
                ("docker-compose.yml", t)
            } else {
                let t = format!(
                    "{{\"proxy\": {}\"http://x:1\"{}}}",
                    "[".repeat(depth),
                    "]".repeat(depth)
                );
                ("config.json", t)
            };
            let path = pick_dir(rng).join(file);
            write_fresh(&path, text)?;
            format!("{kind} {depth} {}", rel(fleet, &path))
        }
        "anchor-bomb" => {
            let mut bomb = String::from("x-a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
            let mut prev = String::from("a");
            for level in 0..rng.range(6, 12) {
                let name = format!("b{level}");
                let refs = vec![format!("*{prev}"); 9].join(", ");
                bomb.push_str(&format!("x-{name}: &{name} [{refs}]\n"));
                prev = name;
            }
            bomb.push_str(&format!(
                "services:\n  web:\n    image: nginx\n    labels: *{prev}\n"
            ));
            let path = pick_dir(rng).join(rng.pick(&["docker-compose.yml", "compose.yaml"]));
            write_fresh(&path, bomb)?;
            format!("{kind} {}", rel(fleet, &path))
        }
        "link-outside-file" => {
            let name = rng.pick(&["secret.env", "compose.yml", "config.json"]);
            let path = pick_dir(rng).join(rng.pick(&CANDIDATE_NAMES));
            // Relative or absolute, as a checkout might hold either.
            let target = if rng.chance(0.5) {
                relative_to(&path, outside).join(name)
            } else {
                outside.join(name)
            };
            replace_with_link(&target, &path)?;
            format!("{kind} {} -> {}", rel(fleet, &path), target.display())
        }
        "link-outside-dir" => {
            let path = pick_dir(rng).join(rng.pick(&["config", "deploy", "nginx", "k8s"]));
            replace_with_link(&relative_to(&path, outside), &path)?;
            format!("{kind} {}", rel(fleet, &path))
        }
        "link-root-or-proc" => {
            let target = Path::new(rng.pick(&["/", "/proc", "/proc/self/root", "/sys", "/dev"]));
            let path = pick_dir(rng).join(rng.pick(&["everything", "proc", "host"]));
            replace_with_link(target, &path)?;
            format!("{kind} {} -> {}", rel(fleet, &path), target.display())
        }
        "link-loop" => {
            let dir = pick_dir(rng);
            match rng.below(3) {
                0 => {
                    replace_with_link(Path::new("loop-b"), &dir.join("loop-a"))?;
                    replace_with_link(Path::new("loop-a"), &dir.join("loop-b"))?;
                }
                1 => replace_with_link(Path::new(".."), &dir.join("up"))?,
                _ => {
                    let name = rng.pick(&CANDIDATE_NAMES);
                    replace_with_link(Path::new(name), &dir.join(name))?;
                }
            }
            format!("{kind} {}", rel(fleet, &dir))
        }
        "reference-outside" => {
            let depth = rng.range(1, 6) as usize;
            let up = "../".repeat(depth);
            let target = rng.pick(&["outside/secret.env", "outside/compose.yml", "etc/passwd"]);
            let text = format!(
                "include:\n  - {up}{target}\nservices:\n  web:\n    image: nginx\n    env_file: [{up}{target}, /{target}]\n    extends:\n      file: {up}{target}\n      service: web\n    volumes:\n      - {up}{target}:/etc/app/config.json\n"
            );
            let path = pick_dir(rng).join("docker-compose.yml");
            write_fresh(&path, text)?;
            format!("{kind} {}", rel(fleet, &path))
        }
        "fifo" => {
            // Opening a FIFO for reading blocks until a writer comes: never, here.
            let name = if rng.chance(0.5) {
                ".gitignore"
            } else {
                rng.pick(&CANDIDATE_NAMES)
            };
            let path = pick_dir(rng).join(name);
            clear(&path)?;
            let made = std::process::Command::new("mkfifo").arg(&path).status()?;
            if !made.success() {
                return Err(io::Error::other("mkfifo failed"));
            }
            format!("{kind} {}", rel(fleet, &path))
        }
        _ => {
            // swap-for-link: an existing file becomes a link to the marker file.
            let Some(file) = pick_file(rng) else {
                return Ok(format!("{kind}: no file"));
            };
            replace_with_link(&relative_to(&file, outside).join("secret.env"), &file)?;
            format!("{kind} {}", rel(fleet, &file))
        }
    };
    Ok(what)
}

fn edit_bytes(rng: &mut Rng, kind: &str, bytes: &mut Vec<u8>) {
    let len = bytes.len() as u64;
    match kind {
        "byte-flip" => {
            for _ in 0..rng.range(1, 16) {
                if len > 0 {
                    let at = rng.below(len) as usize;
                    bytes[at] ^= 1 << rng.below(8);
                }
            }
        }
        "truncate" => bytes.truncate(rng.below(len + 1) as usize),
        "duplicate-lines" => {
            let text = String::from_utf8_lossy(bytes).into_owned();
            let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
            for _ in 0..rng.range(1, 50) {
                if !lines.is_empty() {
                    let at = rng.below(lines.len() as u64) as usize;
                    lines.insert(at, lines[at]);
                }
            }
            *bytes = lines.concat().into_bytes();
        }
        "huge-line" => {
            let at = rng.below(len + 1) as usize;
            let size = rng.range(64 * 1024, 4 * 1024 * 1024) as usize;
            let fill = rng.pick(&["a", "${A}", "http://x:1/", "{", "[", "&a ", "*a ", "\\"]);
            let line = fill.repeat(size / fill.len().max(1));
            bytes.splice(at..at, line.into_bytes());
        }
        _ => {
            // invalid-utf8
            let at = rng.below(len + 1) as usize;
            let junk: &[u8] = match rng.below(4) {
                0 => b"\xff\xfe",
                1 => b"\xc3\x28",
                2 => b"\xed\xa0\x80",
                _ => b"\0\0\0",
            };
            bytes.splice(at..at, junk.iter().copied());
        }
    }
}

fn replace_with_link(target: &Path, path: &Path) -> io::Result<()> {
    clear(path)?;
    symlink(target, path)
}

/// Writes a new file at `path`, replacing what is there: opening a FIFO left by an earlier
/// mutation for writing would block the harness itself.
fn write_fresh(path: &Path, contents: impl AsRef<[u8]>) -> io::Result<()> {
    clear(path)?;
    fs::write(path, contents)
}

/// Removes whatever is at `path` (a link is removed, never followed).
fn clear(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(_) => Ok(()),
    }
}

/// `dir` as seen from the folder of `link` (both under the run's folder, the parent of `dir`):
/// `../../outside`. Relative links keep a kept failure's tree self-contained.
fn relative_to(link: &Path, dir: &Path) -> PathBuf {
    let run = dir.parent().unwrap_or(dir);
    let depth = link
        .parent()
        .and_then(|p| p.strip_prefix(run).ok())
        .map_or(0, |p| p.components().count());
    let mut out = PathBuf::new();
    for _ in 0..depth {
        out.push("..");
    }
    out.join(dir.file_name().unwrap_or_default())
}

fn rel(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Regular files under `dir` (links not followed), sorted for determinism.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    visit(dir, &mut |p, m| {
        if m.is_file() {
            out.push(p.to_path_buf());
        }
    });
    out.sort();
    out
}

/// Folders inside the repositories of the fleet at `dir` (links not followed), sorted. The
/// fleet folder itself is left alone: a link there is a repository the user named, not a
/// link inside a repository.
fn dirs_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    visit(dir, &mut |p, m| {
        if m.is_dir() {
            out.push(p.to_path_buf());
        }
    });
    out.sort();
    out
}

fn visit(dir: &Path, f: &mut dyn FnMut(&Path, &fs::Metadata)) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        f(&path, &meta);
        if meta.is_dir() {
            visit(&path, f);
        }
    }
}
