//! Edits → unified diffs, and applying them to files.
