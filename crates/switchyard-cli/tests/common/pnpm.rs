//! Generated pnpm workspaces: layered DAGs of packages with every dependency section and spec
//! form, for the package-level tests.

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;

/// A small deterministic generator (xorshift), so a failure can be replayed from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

pub fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

/// A pnpm workspace of `layers` × `width` packages under `packages/`; each package depends on a
/// few packages of lower layers, through a random section and spec. `link` sets
/// `link-workspace-packages` in `.npmrc`.
pub fn generate(root: &Path, seed: u64, layers: usize, width: usize, link: bool) {
    let mut rng = Rng(seed);
    write(
        &root.join("pnpm-workspace.yaml"),
        "packages:\n  - \"packages/*\"\n  - \"apps/**\"\n",
    );
    write(
        &root.join("package.json"),
        r#"{"name": "gen-root", "private": true, "packageManager": "pnpm@9.4.0"}"#,
    );
    if link {
        write(&root.join(".npmrc"), "link-workspace-packages=true\n");
    }
    let name = |layer: usize, i: usize| format!("@gen/p{layer}-{i}");
    for layer in 0..layers {
        for i in 0..width {
            let mut sections: BTreeMap<&str, serde_json::Map<String, Value>> = BTreeMap::new();
            if layer > 0 {
                for _ in 0..1 + rng.below(4) {
                    let to_layer = rng.below(layer);
                    let dep = name(to_layer, rng.below(width));
                    let section = [
                        "dependencies",
                        "devDependencies",
                        "optionalDependencies",
                        "peerDependencies",
                    ][rng.below(4)];
                    let spec = [
                        "workspace:*",
                        "workspace:^",
                        "workspace:~",
                        "workspace:1.0.0",
                        "^1.0.0",
                        "^2.0.0",
                        "*",
                    ][rng.below(7)];
                    sections
                        .entry(section)
                        .or_default()
                        .insert(dep, json!(spec));
                }
            }
            sections
                .entry("dependencies")
                .or_default()
                .insert("react".into(), json!("^18.2.0"));
            let mut manifest = serde_json::Map::new();
            manifest.insert("name".into(), json!(name(layer, i)));
            manifest.insert("version".into(), json!("1.0.0"));
            manifest.insert("scripts".into(), json!({"build": "echo build"}));
            for (section, deps) in sections {
                manifest.insert(section.into(), Value::Object(deps));
            }
            let dir = if layer + 1 == layers {
                format!("apps/web/a{i}")
            } else {
                format!("packages/p{layer}-{i}")
            };
            write(
                &root.join(dir).join("package.json"),
                &serde_json::to_string_pretty(&manifest).expect("json"),
            );
        }
    }
}
