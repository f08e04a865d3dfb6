//! Blobs on both backends: 20 MB round-trips streamed (the peak of live heap bytes stays far
//! below the blob's size), and a deleted blob's bytes are gone from the store.

use std::pin::Pin;
use std::task::{Context, Poll};

use facetra_core::ids::UserId;
use facetra_tests::harness::contains;
use facetra_tests::{alloc, Backend, Harness};
use sha2::Digest;
use tokio::io::{AsyncRead, AsyncReadExt, ReadBuf};

use super::conformance;

conformance!(blobs_of_20_mb_round_trip_streamed_and_are_deleted);

const SIZE: u64 = 20 * 1024 * 1024;
/// Set in the child process that measures memory alone.
const PROBE_ENV: &str = "FACETRA_BLOB_MEMORY_PROBE";
/// The most heap a 20 MB round trip may hold at once.
const PEAK_LIMIT: usize = 6 * 1024 * 1024;

/// Deterministic pseudo-random bytes, generated as they are read (never held whole).
struct Noise {
    left: u64,
    state: u64,
}

impl Noise {
    fn new(len: u64) -> Noise {
        Noise {
            left: len,
            state: 0x9E37_79B9_7F4A_7C15,
        }
    }
}

impl AsyncRead for Noise {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let n = (buf.remaining() as u64).min(self.left).min(32 * 1024) as usize;
        let mut chunk = [0u8; 32 * 1024];
        for b in chunk[..n].iter_mut() {
            self.state ^= self.state << 13;
            self.state ^= self.state >> 7;
            self.state ^= self.state << 17;
            *b = self.state as u8;
        }
        buf.put_slice(&chunk[..n]);
        self.left -= n as u64;
        Poll::Ready(Ok(()))
    }
}

async fn noise_sha256() -> String {
    let mut n = Noise::new(SIZE);
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let k = n.read(&mut buf).await.unwrap();
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
    }
    format!("{:x}", h.finalize())
}

/// Puts 20 MB and reads it back in pieces; returns (stored meta, sha256 read back).
async fn round_trip(h: &Harness, owner: &UserId) -> (facetra_core::blobs::BlobMeta, String) {
    let blobs = &h.facetra.store().blobs;
    let meta = blobs
        .put_blob(owner, "image/png", &mut Noise::new(SIZE), h.facetra.now())
        .await
        .unwrap();
    let (_, mut reader) = blobs
        .open_blob(&meta.id)
        .await
        .unwrap()
        .expect("the blob exists");
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let k = reader.read(&mut buf).await.unwrap();
        if k == 0 {
            break;
        }
        total += k as u64;
        hasher.update(&buf[..k]);
    }
    assert_eq!(total, SIZE);
    (meta, format!("{:x}", hasher.finalize()))
}

async fn blobs_of_20_mb_round_trip_streamed_and_are_deleted(backend: Backend) {
    if std::env::var(PROBE_ENV).is_ok() {
        // The child: measure the peak while nothing else runs in this process.
        let h = Harness::new(backend).await;
        let owner = UserId::new(h.facetra.now());
        let base = alloc::reset_peak();
        let (meta, _) = round_trip(&h, &owner).await;
        let peak = alloc::peak().saturating_sub(base);
        h.facetra.store().blobs.delete_blob(&meta.id).await.unwrap();
        println!("PEAK_BYTES={peak}");
        h.finish().await;
        return;
    }

    // Memory: run this same test alone in a child process and read its measurement.
    let name = format!(
        "conformance::blobs::{}::blobs_of_20_mb_round_trip_streamed_and_are_deleted",
        backend.name()
    );
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            name.as_str(),
            "--exact",
            "--include-ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(PROBE_ENV, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the probe failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let peak: usize = stdout
        .split("PEAK_BYTES=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no measurement in:\n{stdout}"));
    assert!(
        peak < PEAK_LIMIT,
        "a 20 MB round trip held {peak} bytes of heap at once; it must stream"
    );

    // Content and deletion.
    let h = Harness::new(backend).await;
    let owner = UserId::new(h.facetra.now());
    let (meta, read_back) = round_trip(&h, &owner).await;
    let expected = noise_sha256().await;
    assert_eq!(read_back, expected);
    assert_eq!(meta.sha256, expected);
    assert_eq!(meta.size, SIZE);
    assert_eq!(meta.owner, owner);
    let blobs = &h.facetra.store().blobs;
    let (again, _) = blobs.open_blob(&meta.id).await.unwrap().unwrap();
    assert_eq!(again, meta);

    // A recognisable marker blob, to scan for after deletion.
    let marker = "FACETRA-BLOB-MARKER-3f9a7c21";
    let small = blobs
        .put_blob(
            &owner,
            "text/plain",
            &mut marker.repeat(100).as_bytes(),
            h.facetra.now(),
        )
        .await
        .unwrap();
    assert!(
        contains(&h.stored_bytes().await, marker),
        "the scan must see stored blobs"
    );
    assert!(blobs.delete_blob(&meta.id).await.unwrap());
    assert!(blobs.delete_blob(&small.id).await.unwrap());
    assert!(blobs.open_blob(&meta.id).await.unwrap().is_none());
    assert!(blobs.open_blob(&small.id).await.unwrap().is_none());
    assert!(
        !blobs.delete_blob(&meta.id).await.unwrap(),
        "deleting twice reports nothing to delete"
    );
    assert!(
        !contains(&h.stored_bytes().await, marker),
        "a deleted blob's bytes linger in the store"
    );
    h.finish().await;
}
