//! ward-lab
pub mod certs;
pub mod hosts;
pub mod http;
pub mod smtp;
