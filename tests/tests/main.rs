//! The one end-to-end test binary (one link, many modules): the storage conformance suite,
//! the HTTP API through a real socket, the real binaries, and the man pages.

#[global_allocator]
static ALLOC: facetra_tests::alloc::Counting = facetra_tests::alloc::Counting;

mod admin;
mod binaries;
mod conformance;
mod docs;
mod dsr;
mod fuzz;
mod http;
mod providers;
mod remote;
mod signin;
