//! ward-records: parsers for every text format ward judges.
//!
//! Pure functions from text to typed values, each keeping the original text beside the
//! parsed form (the evidence a finding quotes) and reporting mistakes with the exact
//! byte position. No I/O, no async runtime, no panics on any input: everything here reads
//! text that strangers wrote.
#![deny(missing_docs)]

pub mod bimi;
pub mod caa;
pub mod csp;
pub mod dkim;
pub mod dmarc;
pub mod hsts;
pub mod mta_sts;
pub mod permissions_policy;
pub mod referrer_policy;
pub mod security_txt;
pub mod spf;
pub mod tag_list;
pub mod tls_rpt;
