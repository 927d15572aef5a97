//! ward-reports
