//! Uploads on both backends: recognised by content, stripped of metadata before anything is
//! stored, and private to their owner.

use facetra_core::config::keys;
use facetra_core::studio::UploadKind;
use facetra_core::Error;
use facetra_tests::harness::contains;
use facetra_tests::images::{jpeg_with_metadata, png_claiming, png_with_metadata, GPS_MARKER};
use facetra_tests::{Backend, Harness};
use sha2::Digest;
use tokio::io::AsyncReadExt;

use super::conformance;

conformance!(
    uploads_are_stripped_of_metadata_before_they_are_stored,
    uploads_are_checked_by_content_and_private
);

async fn uploads_are_stripped_of_metadata_before_they_are_stored(backend: Backend) {
    let h = Harness::with(backend, &[(keys::DEV_LOGIN, "true")]).await;
    let me = h.person("designer@example.com").await;
    let studio = h.facetra.studio();
    for (bytes, mime) in [
        (png_with_metadata(64, 48), "image/png"),
        (jpeg_with_metadata(64, 48), "image/jpeg"),
    ] {
        assert!(
            contains(&bytes, GPS_MARKER),
            "the fixture carries the marker"
        );
        let u = studio.upload(&me, UploadKind::Sketch, bytes).await.unwrap();
        assert_eq!((u.mime.as_str(), u.width, u.height), (mime, 64, 48));
        let (_, mut reader) = h
            .facetra
            .store()
            .blobs
            .open_blob(&u.blob_id)
            .await
            .unwrap()
            .unwrap();
        let mut stored = Vec::new();
        reader.read_to_end(&mut stored).await.unwrap();
        assert!(
            !contains(&stored, GPS_MARKER),
            "metadata reached the stored bytes"
        );
        assert_eq!(
            format!("{:x}", sha2::Sha256::digest(&stored)),
            u.sha256,
            "the hash is of the stripped bytes"
        );
        assert_eq!(stored.len() as u64, u.size);
        image::load_from_memory(&stored).expect("still a valid image");
    }
    assert!(
        !contains(&h.stored_bytes().await, GPS_MARKER),
        "the marker is nowhere in the store"
    );
    h.finish().await;
}

async fn uploads_are_checked_by_content_and_private(backend: Backend) {
    let h = Harness::with(backend, &[(keys::DEV_LOGIN, "true")]).await;
    let me = h.person("designer@example.com").await;
    let other = h.person("other@example.com").await;
    let studio = h.facetra.studio();
    let text = b"this is a text file someone named sketch.png".to_vec();
    assert!(matches!(
        studio.upload(&me, UploadKind::Sketch, text).await,
        Err(Error::UnsupportedMedia(_))
    ));
    assert!(matches!(
        studio
            .upload(&me, UploadKind::Sketch, png_claiming(100_000, 100_000))
            .await,
        Err(Error::InvalidImage(_))
    ));
    let mut truncated = png_with_metadata(64, 48);
    truncated.truncate(truncated.len() - 30);
    assert!(matches!(
        studio.upload(&me, UploadKind::Sketch, truncated).await,
        Err(Error::InvalidImage(_))
    ));
    let u = studio
        .upload(&me, UploadKind::Reference, png_with_metadata(32, 32))
        .await
        .unwrap();
    assert_eq!(studio.get_upload(&me, u.id.as_str()).await.unwrap(), u);
    assert!(matches!(
        studio.get_upload(&other, u.id.as_str()).await,
        Err(Error::NotFound(_))
    ));
    let again = studio
        .upload(&other, UploadKind::Reference, png_with_metadata(32, 32))
        .await
        .unwrap();
    assert_eq!(again.sha256, u.sha256);
    assert_ne!(
        again.blob_id, u.blob_id,
        "identical bytes never share a blob between users"
    );
    h.finish().await;
}
