//! Privacy: the DPO's toolkit. The registry of personal data (`data`), which every export,
//! erasure, retention run and the data map loop over, and the audit log; requests, export,
//! erasure and retention join them with their issues. It must never write a personal value
//! into the audit log: entries hold ids, field names and counts.

pub mod audit;
pub mod breach;
pub mod data;
pub mod dsr;
pub mod erasure;
pub mod export;
pub mod logs;
pub mod nominee;
pub mod requests;
pub mod retention;
mod service;
pub mod usage;
pub mod zip;

pub use service::Privacy;
