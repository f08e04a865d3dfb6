//! The embedded default's mailer: each message becomes a file `<data dir>/outbox/<id>.eml`
//! (headers, then the text and HTML parts), so a local studio can read what would have been
//! sent. Writing the same message again replaces the file: delivery stays idempotent. The
//! files are the person's data (the registry's `outbox` kind): erasure shreds them.

use std::path::PathBuf;

use async_trait::async_trait;

use super::{Mailer, OutboxMessage, SendFailure};
use crate::ids::MessageId;

/// Writes messages as files.
#[derive(Debug, Clone)]
pub struct FileMailer {
    pub dir: PathBuf,
}

#[async_trait]
impl Mailer for FileMailer {
    async fn send(
        &self,
        from: &str,
        m: &OutboxMessage,
    ) -> std::result::Result<String, SendFailure> {
        let fail = |e: std::io::Error| SendFailure {
            permanent: false,
            retry_after: None,
            reason: format!("writing {}: {e}", self.dir.display()),
        };
        crate::private_fs::private_dir(&self.dir).map_err(fail)?;
        let boundary = format!("facetra-{}", m.id);
        let eml = format!(
            "From: {from}\r\nTo: {}\r\nSubject: {}\r\nIdempotency-Key: facetra/{}\r\nMIME-Version: 1.0\r\n\
             Content-Type: multipart/alternative; boundary=\"{boundary}\"\r\n\r\n\
             --{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{}\r\n\
             --{boundary}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{}\r\n--{boundary}--\r\n",
            m.to, m.subject, m.id, m.text, m.html
        );
        let path = self.dir.join(format!("{}.eml", m.id));
        let partial = path.with_extension("partial");
        {
            use tokio::io::AsyncWriteExt;
            let mut file = crate::private_fs::create_private(&partial)
                .await
                .map_err(fail)?;
            file.write_all(eml.as_bytes()).await.map_err(fail)?;
            file.sync_all().await.map_err(fail)?;
        }
        tokio::fs::rename(&partial, &path).await.map_err(fail)?;
        Ok(format!("file:{}", path.display()))
    }

    async fn forget(&self, message: &MessageId) -> crate::error::Result<bool> {
        let path = self.dir.join(format!("{message}.eml"));
        match tokio::fs::metadata(&path).await {
            Ok(meta) => {
                crate::blobs::shred(&path, meta.len()).await?;
                Ok(true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}
