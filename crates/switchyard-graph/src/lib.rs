//! switchyard-graph
