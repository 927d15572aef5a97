//! ward-advice
