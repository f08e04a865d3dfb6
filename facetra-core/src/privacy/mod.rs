//! Privacy: the DPO's toolkit. For now the audit log; requests, export, erasure, retention and
//! the data map join it with their issues. It must never write a personal value into the
//! audit log: entries hold ids, field names and counts.

pub mod audit;
