//! Synthetic fleets for benchmarking Switchyard: `gen` writes N repositories with compose files,
//! Kubernetes manifests, `.env` files, nginx and JSON configs, deterministic for a seed.
//!
//! The generator first plans every cross-repository decision ([`plan`]: host ports, domains,
//! references to earlier repositories with a long-tailed popularity, the optional cycle), then
//! renders each repository independently ([`render`]) and writes them in parallel
//! ([`generate`]). [`scan`] reads a generated fleet back and checks its repository graph.
//! [`load`] drives a running server over HTTP; [`stages`] times the server's analysis in process.
//!
//! ```
//! use switchyard_bench::plan::{plan, Options};
//! let fleet = plan(&Options { repos: 3, seed: 1, services_per_repo: 5, cycle: false });
//! assert_eq!(fleet.repos[2].name, "repo-00002");
//! assert!(fleet.repos[2].refs.iter().all(|r| r.target.repo() < 2));
//! ```
//!
//! Not for: fuzzing. Every file is well-formed; broken inputs belong in the extractor tests.

pub mod generate;
pub mod load;
pub mod plan;
pub mod render;
pub mod rng;
pub mod scan;
pub mod stages;
