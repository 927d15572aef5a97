//! ward-lab
