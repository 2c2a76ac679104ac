//! Turns one planned repository into its files; pure text, no file system, so it can run on
//! any thread and be tested without touching the disk.

pub mod compose;
pub mod extras;
pub mod k8s;

use crate::plan::RepoPlan;

/// `(repo-relative path, text)` of every file of the repository, in a fixed order.
pub fn render_repo(repo: &RepoPlan) -> Vec<(&'static str, String)> {
    let mut files = Vec::with_capacity(8);
    let mut compose_text = String::with_capacity(4096);
    compose::render(repo, &mut compose_text);
    files.push(("docker-compose.yml", compose_text));
    files.push((".env", extras::dotenv(repo)));
    if repo.k8s {
        files.extend(k8s::render(repo));
    }
    if repo.nginx {
        files.push(("nginx/nginx.conf", extras::nginx(repo)));
    }
    if repo.settings {
        files.push(("config/settings.json", extras::settings(repo)));
    }
    if repo.package_json {
        files.push(("package.json", extras::package_json(repo)));
    }
    files
}

/// Subdirectories the files of `render_repo` need, each created once.
pub fn subdirs(files: &[(&'static str, String)]) -> Vec<&'static str> {
    let mut dirs: Vec<&'static str> = files
        .iter()
        .filter_map(|(path, _)| path.rsplit_once('/').map(|(dir, _)| dir))
        .collect();
    dirs.dedup();
    dirs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Options, plan};

    #[test]
    fn every_repository_has_compose_and_env_and_optional_files_follow_the_plan() {
        let fleet = plan(&Options {
            repos: 100,
            seed: 2,
            services_per_repo: 5,
            cycle: false,
        });
        for repo in &fleet.repos {
            let files = render_repo(repo);
            let paths: Vec<_> = files.iter().map(|(p, _)| *p).collect();
            assert_eq!(&paths[..2], ["docker-compose.yml", ".env"]);
            assert_eq!(paths.iter().any(|p| p.starts_with("k8s/")), repo.k8s);
            assert_eq!(paths.contains(&"nginx/nginx.conf"), repo.nginx);
            assert_eq!(paths.contains(&"config/settings.json"), repo.settings);
            assert_eq!(paths.contains(&"package.json"), repo.package_json);
            let dirs = subdirs(&files);
            assert_eq!(dirs.contains(&"k8s"), repo.k8s);
            assert_eq!(
                dirs.iter().filter(|d| **d == "k8s").count(),
                usize::from(repo.k8s)
            );
        }
    }
}
