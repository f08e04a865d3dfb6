//! The studio: uploads now; render jobs, renders, BOMs and portfolios arrive with the rest of
//! issue 4. It owns what a user's images are allowed to be (format by content, size, pixels)
//! and strips their metadata before anything is stored; it never shares a blob between users.

pub(crate) mod apply;
pub mod bom;
pub mod gate;
pub mod jobs;
pub mod portfolios;
pub mod providers;
mod renders;
pub mod store;
pub mod strip;
mod uploads;

pub use jobs::{Job, JobStatus, Render, RenderSpec, Variant, VariantStatus};
pub use uploads::{Studio, Upload, UploadKind};
