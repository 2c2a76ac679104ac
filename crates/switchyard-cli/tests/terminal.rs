//! Names from repositories reach the terminal escaped: a folder or file name holding a line
//! break or an escape sequence can neither fake table rows nor clear the screen.

mod common;

use std::fs;

#[test]
fn control_characters_in_names_are_escaped() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    // A repository whose folder name clears the screen and starts a fake table row, with a
    // service on the same host port as another repository's (so it shows in every table), and
    // a broken file in a folder whose name holds a line break (so a diagnostic names it).
    let evil = "web\u{1b}[2J\nFAKE ROW \u{202e}";
    for (repo, service) in [(evil, "web"), ("api", "api")] {
        fs::create_dir_all(root.join(repo)).expect("mkdir");
        fs::write(
            root.join(repo).join("docker-compose.yml"),
            format!(
                "services:\n  {service}:\n    image: {service}\n    ports:\n      - \"8080:80\"\n"
            ),
        )
        .expect("write");
    }
    let nested = root.join("api").join("deploy\n│ fake │");
    fs::create_dir_all(&nested).expect("mkdir");
    fs::write(nested.join("docker-compose.yml"), "services: [\n").expect("write");
    let fleet = root.to_string_lossy().to_string();
    let mut seen_escaped = false;
    for args in [
        vec!["analyze"],
        vec!["plan"],
        vec!["conflicts"],
        vec!["check"],
        vec!["resolve"],
        vec!["graph", "--format", "dot"],
        vec!["graph", "--format", "mermaid"],
        vec!["affected", "--changed", "api"],
    ] {
        let mut all = args.clone();
        all.extend(["--no-cache", "--fleet", &fleet]);
        let run = common::switchyard(&all, None);
        assert!(run.code != 101, "{args:?} panicked: {}", run.stderr);
        for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            assert!(
                !text.contains('\u{1b}') && !text.contains('\u{202e}'),
                "{args:?} wrote a raw control character on {stream}:\n{text}"
            );
            for line in text.lines() {
                assert!(
                    !line.starts_with("FAKE ROW") && !line.starts_with("│ fake │"),
                    "{args:?}: a name broke a line on {stream}:\n{text}"
                );
            }
            seen_escaped |= text.contains("web\\x1b[2J\\nFAKE ROW \\u{202e}");
        }
    }
    assert!(
        seen_escaped,
        "the repository's name was never shown, escaped"
    );
}
