//! A streaming ZIP writer for exports: entries are stored (images are compressed already),
//! each followed by a data descriptor, so nothing is buffered and the sink need not seek;
//! names are UTF-8. One entry's bytes pass through in 1 MB pieces while their CRC-32,
//! SHA-256 and size are taken. The classic format's limits (4 GB, 65,535 entries) are
//! checked, never silently wrapped.

use sha2::Digest;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::error::{Error, Result};

const LOCAL: u32 = 0x0403_4b50;
const DESCRIPTOR: u32 = 0x0807_4b50;
const CENTRAL: u32 = 0x0201_4b50;
const END: u32 = 0x0605_4b50;
/// Data descriptor follows (bit 3), names are UTF-8 (bit 11).
const FLAGS: u16 = 0x0808;
const VERSION: u16 = 20;

/// One written entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub size: u64,
    pub sha256: String,
    crc: u32,
    offset: u64,
}

/// A ZIP being written to `W`.
pub struct ZipWriter<W> {
    sink: W,
    written: u64,
    entries: Vec<Entry>,
    /// DOS time and date of every entry.
    stamp: (u16, u16),
    open: Option<Open>,
}

/// The entry being written.
struct Open {
    name: String,
    offset: u64,
    size: u64,
    crc: crc32fast::Hasher,
    sha: sha2::Sha256,
}

fn too_big() -> Error {
    Error::TooLarge("the export is larger than a ZIP file can hold (4 GB or 65,535 files)".into())
}

/// Appends and returns a reference to what was appended.
fn push(entries: &mut Vec<Entry>, entry: Entry) -> &Entry {
    let at = entries.len();
    entries.push(entry);
    &entries[at]
}

fn dos_stamp(at: crate::Timestamp) -> (u16, u16) {
    use chrono::{Datelike, Timelike};
    let time = ((at.hour() << 11) | (at.minute() << 5) | (at.second() / 2)) as u16;
    let year = at.year().clamp(1980, 2107) as u32 - 1980;
    let date = ((year << 9) | (at.month() << 5) | at.day()) as u16;
    (time, date)
}

impl<W: AsyncWrite + Unpin> ZipWriter<W> {
    /// A new, empty ZIP whose entries are dated `at`.
    pub fn new(sink: W, at: crate::Timestamp) -> Self {
        ZipWriter {
            sink,
            written: 0,
            entries: Vec::new(),
            stamp: dos_stamp(at),
            open: None,
        }
    }

    async fn put(&mut self, bytes: &[u8]) -> Result<()> {
        self.sink.write_all(bytes).await?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    /// Begins an entry named `name`; its bytes follow with `write`, and `end` closes it.
    pub async fn begin(&mut self, name: &str) -> Result<()> {
        if self.entries.len() >= usize::from(u16::MAX) {
            return Err(too_big());
        }
        let offset = self.written;
        let mut header = Vec::with_capacity(30 + name.len());
        header.extend_from_slice(&LOCAL.to_le_bytes());
        header.extend_from_slice(&VERSION.to_le_bytes());
        header.extend_from_slice(&FLAGS.to_le_bytes());
        header.extend_from_slice(&0u16.to_le_bytes()); // stored
        header.extend_from_slice(&self.stamp.0.to_le_bytes());
        header.extend_from_slice(&self.stamp.1.to_le_bytes());
        header.extend_from_slice(&[0u8; 12]); // CRC and sizes: in the descriptor
        header.extend_from_slice(&(name.len() as u16).to_le_bytes());
        header.extend_from_slice(&0u16.to_le_bytes());
        header.extend_from_slice(name.as_bytes());
        self.put(&header).await?;
        self.open = Some(Open {
            name: name.to_owned(),
            offset,
            size: 0,
            crc: crc32fast::Hasher::new(),
            sha: sha2::Sha256::new(),
        });
        Ok(())
    }

    /// Appends bytes to the entry begun last.
    pub async fn write(&mut self, bytes: &[u8]) -> Result<()> {
        let Some(open) = self.open.as_mut() else {
            return Err(Error::Internal("a ZIP write outside an entry".into()));
        };
        open.crc.update(bytes);
        open.sha.update(bytes);
        open.size += bytes.len() as u64;
        self.put(bytes).await
    }

    /// Closes the entry begun last; its size and SHA-256.
    pub async fn end(&mut self) -> Result<&Entry> {
        self.end_with(None).await
    }

    /// Adds an entry whose bytes are in memory and whose SHA-256 is known already (a blob's,
    /// taken when it was stored): only the CRC is computed.
    pub async fn add_known(&mut self, name: &str, bytes: &[u8], sha256: &str) -> Result<&Entry> {
        self.begin(name).await?;
        if let Some(open) = self.open.as_mut() {
            open.crc.update(bytes);
            open.size += bytes.len() as u64;
        }
        self.put(bytes).await?;
        self.end_with(Some(sha256.to_owned())).await
    }

    async fn end_with(&mut self, known: Option<String>) -> Result<&Entry> {
        let Some(open) = self.open.take() else {
            return Err(Error::Internal("a ZIP entry ended twice".into()));
        };
        let crc = open.crc.finalize();
        let size32 = u32::try_from(open.size).map_err(|_| too_big())?;
        let mut descriptor = Vec::with_capacity(16);
        descriptor.extend_from_slice(&DESCRIPTOR.to_le_bytes());
        descriptor.extend_from_slice(&crc.to_le_bytes());
        descriptor.extend_from_slice(&size32.to_le_bytes());
        descriptor.extend_from_slice(&size32.to_le_bytes());
        self.put(&descriptor).await?;
        if self.written > u64::from(u32::MAX) {
            return Err(too_big());
        }
        let entry = Entry {
            name: open.name,
            size: open.size,
            sha256: known.unwrap_or_else(|| hex::encode(open.sha.finalize())),
            crc,
            offset: open.offset,
        };
        Ok(push(&mut self.entries, entry))
    }

    /// Adds an entry named `name` with the bytes of `body`, read in 1 MB pieces (a file read
    /// is a trip to the blocking pool: fewer, larger ones).
    pub async fn add(
        &mut self,
        name: &str,
        body: &mut (dyn AsyncRead + Send + Unpin),
    ) -> Result<&Entry> {
        self.begin(name).await?;
        let mut buf = vec![0u8; 1024 * 1024];
        loop {
            let n = body.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            self.write(&buf[..n]).await?;
        }
        self.end().await
    }

    /// Adds an entry from bytes in memory.
    pub async fn add_bytes(&mut self, name: &str, bytes: &[u8]) -> Result<&Entry> {
        let mut body = bytes;
        self.add(name, &mut body).await
    }

    /// Every entry written so far.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Writes the central directory and flushes; the sink, and how many bytes the ZIP has.
    pub async fn finish(mut self) -> Result<(W, u64)> {
        let start = self.written;
        let mut central = Vec::new();
        for e in &self.entries {
            central.extend_from_slice(&CENTRAL.to_le_bytes());
            central.extend_from_slice(&VERSION.to_le_bytes());
            central.extend_from_slice(&VERSION.to_le_bytes());
            central.extend_from_slice(&FLAGS.to_le_bytes());
            central.extend_from_slice(&0u16.to_le_bytes());
            central.extend_from_slice(&self.stamp.0.to_le_bytes());
            central.extend_from_slice(&self.stamp.1.to_le_bytes());
            central.extend_from_slice(&e.crc.to_le_bytes());
            let size = e.size as u32;
            central.extend_from_slice(&size.to_le_bytes());
            central.extend_from_slice(&size.to_le_bytes());
            central.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
            central.extend_from_slice(&[0u8; 8]); // extra, comment, disk, internal attributes
            central.extend_from_slice(&0u32.to_le_bytes()); // external attributes
            central.extend_from_slice(&(e.offset as u32).to_le_bytes());
            central.extend_from_slice(e.name.as_bytes());
        }
        let count = self.entries.len() as u16;
        let mut end = Vec::with_capacity(22);
        end.extend_from_slice(&END.to_le_bytes());
        end.extend_from_slice(&[0u8; 4]); // this disk, the directory's disk
        end.extend_from_slice(&count.to_le_bytes());
        end.extend_from_slice(&count.to_le_bytes());
        end.extend_from_slice(&(central.len() as u32).to_le_bytes());
        end.extend_from_slice(&(start as u32).to_le_bytes());
        end.extend_from_slice(&0u16.to_le_bytes());
        self.put(&central).await?;
        self.put(&end).await?;
        if self.written > u64::from(u32::MAX) {
            return Err(too_big());
        }
        self.sink.flush().await?;
        Ok((self.sink, self.written))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn entries_carry_their_crc_and_the_directory_finds_them() {
        let mut zip = ZipWriter::new(Vec::new(), chrono::DateTime::UNIX_EPOCH);
        zip.add_bytes("a.txt", b"hello").await.unwrap();
        zip.add_bytes("dir/b.json", b"{}").await.unwrap();
        let (bytes, len) = zip.finish().await.unwrap();
        assert_eq!(bytes.len() as u64, len);
        assert_eq!(&bytes[..4], &LOCAL.to_le_bytes());
        let end = &bytes[bytes.len() - 22..];
        assert_eq!(&end[..4], &END.to_le_bytes());
        assert_eq!(u16::from_le_bytes([end[10], end[11]]), 2);
        let crc = crc32fast::hash(b"hello");
        let descriptor = &bytes[30 + 5 + 5..30 + 5 + 5 + 16];
        assert_eq!(&descriptor[4..8], &crc.to_le_bytes());
    }
}
