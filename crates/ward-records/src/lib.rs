//! ward-records
pub mod bimi;
pub mod dkim;
pub mod dmarc;
pub mod mta_sts;
pub mod tls_rpt;
