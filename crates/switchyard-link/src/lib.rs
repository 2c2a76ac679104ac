//! switchyard-link
