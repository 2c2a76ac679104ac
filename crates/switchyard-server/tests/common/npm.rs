//! npm packages the tests drive (socket.io-client, playwright-core): installed once per checkout
//! with `npm ci` (`npm install` as a fallback), a lock folder keeping parallel tests from racing.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub fn available(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Makes sure `dir/node_modules/<package>` is installed; panics with what to do otherwise.
pub fn ensure_package(dir: &Path, package: &str) {
    assert!(
        available("node") && available("npm"),
        "this test needs Node.js and npm on PATH (install nodejs/npm; CI runs `npm ci --prefix {}`)",
        dir.display()
    );
    let installed = || {
        dir.join("node_modules")
            .join(package)
            .join("package.json")
            .is_file()
    };
    let lock = dir.join(".install-lock");
    let started = Instant::now();
    while std::fs::create_dir(&lock).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "{} stayed locked for 3 minutes; remove it if no npm is running",
            lock.display()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let result = (|| {
        if installed() {
            return Ok(());
        }
        for args in [
            &["ci", "--no-audit", "--no-fund"][..],
            &["install", "--no-audit", "--no-fund"],
        ] {
            let output = Command::new("npm")
                .args(args)
                .current_dir(dir)
                .output()
                .map_err(|e| format!("cannot run npm: {e}"))?;
            if output.status.success() && installed() {
                return Ok(());
            }
            eprintln!(
                "npm {} failed: {}",
                args[0],
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Err(format!("could not install {package} in {}", dir.display()))
    })();
    let _ = std::fs::remove_dir(&lock);
    if let Err(message) = result {
        panic!("{message}");
    }
}
