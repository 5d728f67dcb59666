//! The oneshare relay (being built).
