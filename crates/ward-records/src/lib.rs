//! ward-records

pub mod spf;
