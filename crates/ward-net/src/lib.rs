//! ward-net
