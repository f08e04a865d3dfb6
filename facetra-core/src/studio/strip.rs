//! Metadata stripping at ingest, on the bytes, without re-encoding (so quality is untouched):
//! JPEG loses its APP1 (EXIF, XMP), APP13 (IPTC) and comment segments; PNG its eXIf, tEXt,
//! zTXt, iTXt and tIME chunks; WebP its EXIF and XMP chunks (and the VP8X flags that announce
//! them). The stripped bytes are what is stored, hashed and sent to a provider.

use crate::error::{Error, Result};

/// An image format Facetra accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Png,
    Jpeg,
    WebP,
}

impl Format {
    /// The MIME type.
    pub fn mime(self) -> &'static str {
        match self {
            Format::Png => "image/png",
            Format::Jpeg => "image/jpeg",
            Format::WebP => "image/webp",
        }
    }

    /// Recognises the format by its magic bytes, whatever the file is called.
    pub fn sniff(bytes: &[u8]) -> Option<Format> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Format::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Format::Jpeg)
        } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(Format::WebP)
        } else {
            None
        }
    }
}

fn corrupt(what: &str) -> Error {
    Error::InvalidImage(format!("the image is damaged ({what}); export it again"))
}

/// Returns the image without its metadata.
pub fn strip(format: Format, bytes: &[u8]) -> Result<Vec<u8>> {
    match format {
        Format::Jpeg => strip_jpeg(bytes),
        Format::Png => strip_png(bytes),
        Format::WebP => strip_webp(bytes),
    }
}

fn strip_jpeg(b: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&b[..2]); // SOI
    let mut i = 2;
    loop {
        if i + 4 > b.len() {
            return Err(corrupt("a JPEG segment is cut short"));
        }
        if b[i] != 0xFF {
            return Err(corrupt("a JPEG marker is missing"));
        }
        let marker = b[i + 1];
        if marker == 0xFF {
            i += 1; // fill byte
            continue;
        }
        if marker == 0xDA {
            // Start of scan: the entropy-coded data and the rest are kept as they are.
            out.extend_from_slice(&b[i..]);
            return Ok(out);
        }
        if (0xD0..=0xD9).contains(&marker) || marker == 0x01 {
            out.extend_from_slice(&b[i..i + 2]);
            i += 2;
            continue;
        }
        let len = u16::from_be_bytes([b[i + 2], b[i + 3]]) as usize;
        let end = i + 2 + len;
        if len < 2 || end > b.len() {
            return Err(corrupt("a JPEG segment overruns the file"));
        }
        let drop = marker == 0xE1 || marker == 0xED || marker == 0xFE;
        if !drop {
            out.extend_from_slice(&b[i..end]);
        }
        i = end;
    }
}

fn strip_png(b: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&b[..8]);
    let mut i = 8;
    while i < b.len() {
        if i + 12 > b.len() {
            return Err(corrupt("a PNG chunk is cut short"));
        }
        let len = u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]) as usize;
        let kind = &b[i + 4..i + 8];
        let end = i
            .checked_add(12 + len)
            .filter(|e| *e <= b.len())
            .ok_or_else(|| corrupt("a PNG chunk overruns the file"))?;
        let drop = matches!(kind, b"eXIf" | b"tEXt" | b"zTXt" | b"iTXt" | b"tIME");
        if !drop {
            out.extend_from_slice(&b[i..end]);
        }
        i = end;
        if kind == b"IEND" {
            break;
        }
    }
    Ok(out)
}

fn strip_webp(b: &[u8]) -> Result<Vec<u8>> {
    let mut chunks = Vec::with_capacity(b.len());
    let mut i = 12;
    let mut vp8x_at = None;
    while i + 8 <= b.len() {
        let kind = &b[i..i + 4];
        let len = u32::from_le_bytes([b[i + 4], b[i + 5], b[i + 6], b[i + 7]]) as usize;
        let padded = len + (len & 1);
        let end = (i + 8)
            .checked_add(padded)
            .filter(|e| *e <= b.len())
            .ok_or_else(|| corrupt("a WebP chunk overruns the file"))?;
        if kind != b"EXIF" && kind != b"XMP " {
            if kind == b"VP8X" {
                vp8x_at = Some(chunks.len());
            }
            chunks.extend_from_slice(&b[i..end]);
        }
        i = end;
    }
    if let Some(at) = vp8x_at {
        // Clear the "has EXIF" (0x08) and "has XMP" (0x04) flags.
        if let Some(flags) = chunks.get_mut(at + 8) {
            *flags &= !0x0C;
        }
    }
    let mut out = Vec::with_capacity(chunks.len() + 12);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&((chunks.len() + 4) as u32).to_le_bytes());
    out.extend_from_slice(b"WEBP");
    out.extend_from_slice(&chunks);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png_with_text() -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
        let chunk = |kind: &[u8], data: &[u8]| {
            let mut c = (data.len() as u32).to_be_bytes().to_vec();
            c.extend_from_slice(kind);
            c.extend_from_slice(data);
            c.extend_from_slice(&[0, 0, 0, 0]);
            c
        };
        b.extend(chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]));
        b.extend(chunk(b"tEXt", b"Author\0GPS 12.97N SECRET"));
        b.extend(chunk(b"IDAT", &[1, 2, 3]));
        b.extend(chunk(b"IEND", &[]));
        b
    }

    #[test]
    fn png_text_chunks_go_and_the_rest_stays() {
        let b = png_with_text();
        let s = strip(Format::Png, &b).unwrap();
        assert!(!s.windows(6).any(|w| w == b"SECRET"));
        assert!(s.windows(4).any(|w| w == b"IDAT"));
        assert_eq!(s.len(), b.len() - (12 + "Author\0GPS 12.97N SECRET".len()));
    }

    #[test]
    fn jpeg_app1_and_comments_go() {
        let mut b = vec![0xFF, 0xD8];
        let seg = |m: u8, data: &[u8]| {
            let mut s = vec![0xFF, m];
            s.extend_from_slice(&((data.len() + 2) as u16).to_be_bytes());
            s.extend_from_slice(data);
            s
        };
        b.extend(seg(0xE0, b"JFIF\0\x01\x01"));
        b.extend(seg(0xE1, b"Exif\0\0GPS SECRET"));
        b.extend(seg(0xFE, b"SECRET comment"));
        b.extend(seg(0xDB, &[0; 65]));
        b.extend([0xFF, 0xDA, 0, 2, 9, 9, 0xFF, 0xD9]);
        let s = strip(Format::Jpeg, &b).unwrap();
        assert!(!s.windows(6).any(|w| w == b"SECRET"));
        assert!(s.windows(4).any(|w| w == b"JFIF"));
        assert!(s.ends_with(&[0xFF, 0xD9]));
    }

    #[test]
    fn damaged_files_are_refused_not_panicked_on() {
        assert!(strip(Format::Jpeg, &[0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF]).is_err());
        assert!(strip(Format::Png, b"\x89PNG\r\n\x1a\n\xff\xff\xff\xffIDAT").is_err());
        assert!(strip(Format::WebP, b"RIFF\0\0\0\0WEBPVP8 \xff\xff\xff\xff").is_err());
        assert_eq!(Format::sniff(b"just text, named .png"), None);
    }
}
