//! `${VAR}` interpolation (not written yet).
