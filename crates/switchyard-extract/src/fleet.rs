//! Fleet configuration (`switchyard.toml`) and repository discovery.
