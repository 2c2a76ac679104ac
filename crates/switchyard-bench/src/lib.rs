//! Synthetic fleets for benchmarking Switchyard: `gen` writes N repositories with compose files,
//! Kubernetes manifests, `.env` files, nginx and JSON configs, deterministic for a seed.
//!
//! The generator first plans every cross-repository decision ([`plan`]: host ports, domains,
//! references to earlier repositories with a long-tailed popularity, the optional cycle), then
//! renders each repository independently ([`render`]) and writes them in parallel
//! ([`generate`]). [`scan`] reads a generated fleet back and checks its repository graph.
//! [`load`] drives a running server over HTTP; [`stages`] times the server's analysis in process.
//!
//! The generator's files are all well-formed; broken inputs belong in the extractor tests and
//! in [`fuzz`], which mutates copies of real fleets and runs `switchyard analyze` on them,
//! counting panics, hangs and reads outside a repository.
//!
//! ```
//! use switchyard_bench::plan::{plan, Options};
//! let fleet = plan(&Options { repos: 3, seed: 1, services_per_repo: 5, cycle: false });
//! assert_eq!(fleet.repos[2].name, "repo-00002");
//! assert!(fleet.repos[2].refs.iter().all(|r| r.target.repo() < 2));
//! ```
//!
pub mod fuzz;
pub mod generate;
pub mod load;
pub mod plan;
pub mod render;
pub mod rng;
pub mod scan;
pub mod stages;
