//! What both SQL backends share, by concern: [`db`] (the one helper trait that
//! carries sqlx's bounds), [`backend`] (the [`SqlBackend`] contract), [`ops`]
//! (the [`Store`](super::Store) implementation every backend gets), [`sql`] (the
//! SQL text), [`rows`] (row → type mapping) and [`rules`] (checks and decisions
//! on loaded rows). Backends keep only pools, locking, notification, listing
//! order, the sweep and how a write becomes durable.

mod backend;
mod db;
mod ops;
mod rows;
mod rules;
mod sql;

pub(crate) use backend::{Op, SqlBackend, op};
pub(crate) use db::{Scalar, SqlDb, sql};
pub(crate) use ops::{insert_event, insert_nonce, load, purge};
pub(crate) use rows::{MetaRow, share_id};
pub(crate) use rules::owned;
pub(crate) use sql::{DELETE_NONCES, meta_columns};
