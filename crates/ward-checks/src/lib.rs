//! ward-checks
