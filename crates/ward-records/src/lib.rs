//! ward-records
