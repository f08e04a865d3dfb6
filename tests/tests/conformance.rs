//! The storage conformance suite: every scenario is written once and expanded per backend by
//! `conformance!`, so a failure names the backend (`conformance::sqlite::…`,
//! `conformance::mongo::…`). MongoDB scenarios need `FACETRA_TEST_MONGODB_URI` and fail loudly
//! without it; `scripts/test` provides it.

mod accounts;
mod audit;
mod blobs;
mod bom;
mod credits;
mod jobs;
mod mail;
mod messages;
mod onboarding;
mod payments;
mod personal;
mod portfolios;
mod requests;
mod uploads;
mod usage;

/// Expands scenarios `async fn name(backend: Backend)` into one test per backend.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(facetra_tests::Backend::Sqlite).await;
                }
            )*
        }
        mod mongo {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[ignore = "needs FACETRA_TEST_MONGODB_URI"]
                async fn $name() {
                    super::$name(facetra_tests::Backend::Mongo).await;
                }
            )*
        }
    };
}
pub(crate) use conformance;
