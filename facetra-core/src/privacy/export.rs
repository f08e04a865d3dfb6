//! Access exports (DESIGN §5): one ZIP per person with a JSON file per kind of the registry,
//! the original uploads and renders, a `manifest.json` (format version, generation time,
//! sections, every file with its SHA-256) and an `index.html` a person can read offline.
//! Streamed end to end: records are read a page at a time and files in 1 MB pieces, so
//! memory stays flat however many images there are. The DPO writes it to a file for a
//! verified request; a signed-in user's access request builds it at once into a blob of
//! theirs, kept 7 days, reached through a fresh signed link each time it is asked for.

use futures::TryStreamExt;
use serde::Serialize;
use serde_json::json;
use tokio::io::AsyncWrite;

use super::data::{Kind, REGISTRY};
use super::requests::{ExportFile, PrivacyRequest, RequestStatus, RequestType};
use super::zip::ZipWriter;
use super::Privacy;
use crate::accounts::{StaffOp, User};
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::ids::BlobId;
use crate::mail::templates::escape;
use crate::paging::PageRequest;
use crate::security::signed_url;
use crate::studio::strip::Format;
use crate::Actor;

/// The version of the export's layout.
pub const FORMAT_VERSION: u32 = 1;
/// Days a built export is kept.
pub const KEEP_DAYS: i64 = 7;
/// The content type of an export (and how an export is told from the person's images).
pub const ZIP: &str = "application/zip";

/// One section of the export: a kind of data and its file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Section {
    pub kind: &'static str,
    pub holds: &'static str,
    pub file: String,
    pub records: u64,
}

/// A file in the export, as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ManifestFile {
    pub name: String,
    pub size: u64,
    pub sha256: String,
}

/// What an export holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportSummary {
    pub sections: Vec<Section>,
    /// Every file but the manifest itself.
    pub files: Vec<ManifestFile>,
    /// Bytes of the whole ZIP.
    pub bytes: u64,
}

/// Where a user's export stands (`GET /v1/privacy/export`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportStatus {
    /// No export has been asked for, or the last one expired.
    None,
    /// Ready: a fresh signed link, valid until the time given.
    Ready {
        url: String,
        link_expires_at: Timestamp,
        kept_until: Timestamp,
        size: u64,
    },
}

fn blob_of(record: &super::data::Record) -> Option<BlobId> {
    record
        .fields
        .get("id")
        .or_else(|| record.fields.get("_id"))
        .and_then(|v| v.as_str())
        .and_then(BlobId::parse)
}

fn index_html(person: &User, generated: Timestamp, summary: &ExportSummary) -> String {
    let mut rows = String::new();
    for s in &summary.sections {
        rows.push_str(&format!(
            "<tr><td><a href=\"{}\">{}</a></td><td>{}</td><td>{}</td></tr>",
            escape(&s.file),
            escape(s.kind),
            escape(s.holds),
            s.records
        ));
    }
    let mut images = String::new();
    for f in summary
        .files
        .iter()
        .filter(|f| f.name.starts_with("files/"))
    {
        images.push_str(&format!(
            "<li><a href=\"{0}\">{0}</a> ({1} bytes)</li>",
            escape(&f.name),
            f.size
        ));
    }
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Your Facetra data</title></head>\
         <body style=\"font-family:sans-serif;line-height:1.5;max-width:60em\">\
         <h1>The data Facetra holds about {}</h1>\
         <p>Generated {} for account {}. Each section below is a JSON file in this archive; \
         <code>manifest.json</code> lists every file with its SHA-256 so you can check nothing \
         was changed.</p>\
         <table border=\"1\" cellpadding=\"4\"><tr><th>section</th><th>what it holds</th><th>records</th></tr>{rows}</table>\
         <h2>Your images</h2><ul>{images}</ul>\
         <p>Questions: privacy@facetra.studio (Data Protection Officer).</p></body></html>",
        escape(&person.name),
        generated.to_rfc3339(),
        escape(person.id.as_str()),
    )
}

impl Privacy<'_> {
    /// Writes the person's export to `sink`; what it holds.
    async fn write_export<W: AsyncWrite + Unpin + Send>(
        &self,
        person: &User,
        request: &PrivacyRequest,
        sink: W,
    ) -> Result<(W, ExportSummary)> {
        let generated = self.f.now();
        let store = self.f.store();
        // Many small writes (headers, records) in few trips to the sink.
        let sink = tokio::io::BufWriter::with_capacity(1024 * 1024, sink);
        let mut zip = ZipWriter::new(sink, generated);
        let mut sections = Vec::new();
        let mut blobs = Vec::new();
        for info in REGISTRY
            .iter()
            .filter(|k| k.sqlite.iter().any(|l| l.person.is_some()))
        {
            let file = format!("data/{}.json", info.name);
            zip.begin(&file).await?;
            zip.write(b"[").await?;
            let mut records = store.personal_data.export(info.kind, &person.id);
            let mut n = 0u64;
            while let Some(record) = records.try_next().await? {
                if info.kind == Kind::Files {
                    blobs.extend(blob_of(&record));
                }
                let line = serde_json::to_vec(&record.fields)
                    .map_err(|e| Error::Internal(e.to_string()))?;
                zip.write(if n == 0 { b"\n" } else { b",\n" }).await?;
                zip.write(&line).await?;
                n += 1;
            }
            zip.write(b"\n]\n").await?;
            zip.end().await?;
            sections.push(Section {
                kind: info.name,
                holds: info.holds,
                file,
                records: n,
            });
        }
        // Each file is read while the one before it is written (one file ahead, so memory
        // holds at most two however many there are); its SHA-256 is the one taken when it
        // was stored.
        let read = |id: BlobId| {
            let blobs = store.blobs.clone();
            tokio::spawn(async move {
                let Some((meta, mut reader)) = blobs.open_blob(&id).await? else {
                    return Ok::<_, Error>(None);
                };
                if meta.content_type == ZIP {
                    // An earlier export: this one holds the same and more.
                    return Ok(None);
                }
                let mut bytes = Vec::with_capacity(usize::try_from(meta.size).unwrap_or(0));
                tokio::io::AsyncReadExt::read_to_end(&mut reader, &mut bytes).await?;
                Ok(Some((meta, bytes)))
            })
        };
        let mut ids = blobs.into_iter();
        let mut next = ids.next().map(read);
        while let Some(pending) = next.take() {
            next = ids.next().map(read);
            let Some((meta, bytes)) = pending
                .await
                .map_err(|e| Error::Internal(format!("reading a file to export: {e}")))??
            else {
                continue;
            };
            let ext = Format::from_mime(&meta.content_type).map_or("bin", Format::extension);
            zip.add_known(&format!("files/{}.{ext}", meta.id), &bytes, &meta.sha256)
                .await?;
        }
        let listed = |zip: &ZipWriter<tokio::io::BufWriter<W>>| -> Vec<ManifestFile> {
            zip.entries()
                .iter()
                .map(|e| ManifestFile {
                    name: e.name.clone(),
                    size: e.size,
                    sha256: e.sha256.clone(),
                })
                .collect()
        };
        let mut summary = ExportSummary {
            sections,
            files: listed(&zip),
            bytes: 0,
        };
        zip.add_bytes(
            "index.html",
            index_html(person, generated, &summary).as_bytes(),
        )
        .await?;
        summary.files = listed(&zip);
        let manifest = json!({
            "format_version": FORMAT_VERSION,
            "generated_at": generated,
            "account": person.id.as_str(),
            "request": request.id.as_str(),
            "sections": summary.sections,
            "files": summary.files,
        });
        let manifest =
            serde_json::to_vec_pretty(&manifest).map_err(|e| Error::Internal(e.to_string()))?;
        zip.add_bytes("manifest.json", &manifest).await?;
        let (sink, bytes) = zip.finish().await?;
        summary.bytes = bytes;
        Ok((sink.into_inner(), summary))
    }

    /// The account a verified access request is about.
    async fn access_subject(&self, r: &PrivacyRequest) -> Result<User> {
        if r.kind != RequestType::Access {
            return Err(Error::invalid(
                "id",
                format!("{} is a {} request, not an access request", r.id, r.kind),
            ));
        }
        if r.status == RequestStatus::Rejected {
            return Err(Error::Conflict(format!(
                "privacy request {} was rejected; nothing is exported for it",
                r.id
            )));
        }
        if !r.is_verified() {
            return Err(Error::Conflict(format!(
                "privacy request {} is not verified, so nothing was exported; verify it first with `dsr verify {} --send-code`, then `--code`",
                r.id, r.id
            )));
        }
        let id = r.user_id.clone().ok_or_else(|| {
            Error::Conflict(format!(
                "privacy request {} names no account (no account has its email); reject it as no_match",
                r.id
            ))
        })?;
        self.f
            .store()
            .accounts
            .user_by_id(&id)
            .await?
            .ok_or(Error::NotFound("user"))
    }

    /// The DPO's export for a verified access request, written to `sink`. Audited with the
    /// counts.
    pub async fn export_request<W: AsyncWrite + Unpin + Send>(
        &self,
        actor: &Actor,
        id: &str,
        sink: W,
    ) -> Result<(W, ExportSummary)> {
        let r = self.request(actor, id).await?;
        self.f.authorize(actor, StaffOp::ExportData).await?;
        let person = self.access_subject(&r).await?;
        let (sink, summary) = self.write_export(&person, &r, sink).await?;
        self.f
            .audit_record(
                actor,
                "privacy.export",
                Some(r.id.as_str()),
                json!({
                    "account": person.id.as_str(),
                    "files": summary.files.len(),
                    "bytes": summary.bytes,
                }),
            )
            .await?;
        Ok((sink, summary))
    }

    /// Builds the export of a verified access request into a blob of the person's, kept 7
    /// days, and completes the request.
    pub(crate) async fn build_export(
        &self,
        actor: &Actor,
        r: &PrivacyRequest,
    ) -> Result<PrivacyRequest> {
        let person = self.access_subject(r).await?;
        let (writer, mut reader) = tokio::io::duplex(256 * 1024);
        let blobs = self.f.store().blobs.clone();
        let (owner, at) = (person.id.clone(), self.f.now());
        let stored =
            tokio::spawn(async move { blobs.put_blob(&owner, ZIP, &mut reader, at).await });
        let written = self.write_export(&person, r, writer).await;
        let (writer, summary) = match written {
            Ok(done) => done,
            Err(e) => {
                stored.abort();
                return Err(e);
            }
        };
        drop(writer);
        let meta = stored
            .await
            .map_err(|e| Error::Internal(format!("storing the export: {e}")))??;
        let file = ExportFile {
            blob: meta.id,
            size: meta.size,
            files: summary.files.len() as u64,
            expires_at: self.f.now() + chrono::Duration::days(KEEP_DAYS),
        };
        let r = self
            .change(&r.id, |r| {
                r.export = Some(file);
                Ok(())
            })
            .await?;
        self.f
            .audit_record(
                actor,
                "privacy.export",
                Some(r.id.as_str()),
                json!({ "account": person.id.as_str(), "files": summary.files.len(), "bytes": summary.bytes }),
            )
            .await?;
        self.complete(
            actor,
            &r.id,
            "Your data export is ready: download it from your account (or with `facetra privacy export`) within 7 days.",
        )
        .await
    }

    /// The signed-in user's latest export still kept.
    async fn latest_export(&self, actor: &Actor) -> Result<Option<ExportFile>> {
        let mine = self.my_requests(actor, &PageRequest::first()).await?;
        let now = self.f.now();
        let latest = mine
            .items
            .into_iter()
            .filter(|r| r.kind == RequestType::Access)
            .filter_map(|r| r.export)
            .find(|e| e.expires_at > now);
        Ok(latest)
    }

    /// The signed-in user's latest export, to read (the command line saves it to a file).
    pub async fn open_my_export(
        &self,
        actor: &Actor,
    ) -> Result<Option<(crate::blobs::BlobMeta, crate::blobs::BlobReader)>> {
        match self.latest_export(actor).await? {
            Some(export) => self.f.store().blobs.open_blob(&export.blob).await,
            None => Ok(None),
        }
    }

    /// The signed-in user's latest export to read, built first by an access request when none
    /// is kept.
    pub async fn open_or_build_my_export(
        &self,
        actor: &Actor,
    ) -> Result<(crate::blobs::BlobMeta, crate::blobs::BlobReader)> {
        if let Some(open) = self.open_my_export(actor).await? {
            return Ok(open);
        }
        self.ask(actor, RequestType::Access, None).await?;
        self.open_my_export(actor)
            .await?
            .ok_or(Error::NotFound("export"))
    }

    /// The signed-in user's latest export: a fresh signed link while it is kept.
    pub async fn my_export(&self, actor: &Actor) -> Result<ExportStatus> {
        let Some(export) = self.latest_export(actor).await? else {
            return Ok(ExportStatus::None);
        };
        if self
            .f
            .store()
            .blobs
            .open_blob(&export.blob)
            .await?
            .is_none()
        {
            return Ok(ExportStatus::None);
        }
        let now = self.f.now();
        let link_expires_at = now + chrono::Duration::seconds(self.f.config().link_ttl_secs);
        let query = signed_url::sign(
            self.f.keys(),
            export.blob.as_str(),
            link_expires_at.timestamp(),
        );
        Ok(ExportStatus::Ready {
            url: format!("/files/{}?{query}", export.blob),
            link_expires_at,
            kept_until: export.expires_at,
            size: export.size,
        })
    }
}
