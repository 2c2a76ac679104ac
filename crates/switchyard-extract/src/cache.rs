//! On-disk cache of per-repository facts, keyed by content hash.
