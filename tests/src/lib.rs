//! Test support for the end-to-end suite and the storage conformance suite: a harness per
//! backend (fresh SQLite directory or fresh MongoDB database, a manual clock), an in-process
//! server on a real socket, the built binaries, raw views of what is stored (for privacy
//! scans and tampering), and a counting allocator for memory-flatness checks.

pub mod alloc;
pub mod binaries;
pub mod emergent_stub;
pub mod flaky;
pub mod gemini_stub;
pub mod google_stub;
pub mod harness;
pub mod images;
pub mod razorpay_stub;
pub mod resend_stub;
pub mod server;
pub mod unzip;

pub use harness::{Backend, Harness};
