//! ward-probe
