//! ward-records
pub mod dkim;
pub mod dmarc;
