//! Metadata stripping at ingest, on the bytes, without re-encoding (so quality is untouched).
//! It keeps an allow-list, never a deny-list: what decoding and colour need (JPEG's frame,
//! table and scan segments, its ICC profile and Adobe APP14; PNG's critical chunks and a few
//! colour chunks; WebP's bitstream, alpha, ICC and animation chunks), and nothing after the
//! end of the image (a motion photo's video trailer, say). Every other segment or chunk —
//! EXIF, XMP, IPTC, comments, MPF, vendor APPn, text, unknown chunks — goes. The stripped
//! bytes are what is stored, hashed and sent to a provider.

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

    /// The `image` crate's decoder for it.
    pub fn decoder(self) -> image::ImageFormat {
        match self {
            Format::Png => image::ImageFormat::Png,
            Format::Jpeg => image::ImageFormat::Jpeg,
            Format::WebP => image::ImageFormat::WebP,
        }
    }

    /// The file name extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Jpeg => "jpg",
            Format::WebP => "webp",
        }
    }

    /// The format of a MIME type Facetra stores.
    pub fn from_mime(mime: &str) -> Option<Format> {
        [Format::Png, Format::Jpeg, Format::WebP]
            .into_iter()
            .find(|f| f.mime() == mime)
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

/// JPEG segments a decoder needs: frame headers (SOF0–SOF15), Huffman and arithmetic tables,
/// quantisation tables, the restart interval, scans, DNL; everything else (APP0–APP15 but
/// the two below, comments, extensions) goes.
fn jpeg_keeps(marker: u8, data: &[u8]) -> bool {
    match marker {
        // SOFn, DHT (C4), DAC (CC); C8 (JPG) is reserved.
        0xC0..=0xCF => marker != 0xC8,
        0xDB..=0xDE => true,                        // DQT, DNL, DRI, DHP
        0xE2 => data.starts_with(b"ICC_PROFILE\0"), // the colour profile, not MPF
        0xEE => data.starts_with(b"Adobe"),         // colour transform of CMYK/YCCK
        _ => false,
    }
}

fn strip_jpeg(b: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&b[..2]); // SOI
    let mut i = 2;
    loop {
        if i + 2 > b.len() {
            return Err(corrupt("a JPEG ends before its end-of-image marker"));
        }
        if b[i] != 0xFF {
            return Err(corrupt("a JPEG marker is missing"));
        }
        let marker = b[i + 1];
        if marker == 0xFF {
            i += 1; // fill byte
            continue;
        }
        if marker == 0xD9 {
            // End of image: whatever follows (a motion photo's video, say) is not the image.
            out.extend_from_slice(&[0xFF, 0xD9]);
            return Ok(out);
        }
        if (0xD0..=0xD7).contains(&marker) || marker == 0x01 {
            out.extend_from_slice(&b[i..i + 2]);
            i += 2;
            continue;
        }
        if i + 4 > b.len() {
            return Err(corrupt("a JPEG segment is cut short"));
        }
        let len = u16::from_be_bytes([b[i + 2], b[i + 3]]) as usize;
        let end = i + 2 + len;
        if len < 2 || end > b.len() {
            return Err(corrupt("a JPEG segment overruns the file"));
        }
        if marker == 0xDA {
            // Start of scan: its header, then entropy-coded data up to the next marker that is
            // neither a stuffed byte (FF 00) nor a restart (FF D0–D7).
            let mut j = end;
            while j + 1 < b.len() {
                if b[j] == 0xFF && b[j + 1] != 0x00 && !(0xD0..=0xD7).contains(&b[j + 1]) {
                    break;
                }
                j += 1;
            }
            if j + 1 >= b.len() {
                return Err(corrupt("a JPEG scan runs to the end of the file"));
            }
            out.extend_from_slice(&b[i..j]);
            i = j;
            continue;
        }
        let data = &b[i + 4..end];
        if marker == 0xE0 && data.len() >= 14 && data.starts_with(b"JFIF\0") {
            // JFIF's header (version, density) without the thumbnail it may carry.
            out.extend_from_slice(&[0xFF, 0xE0, 0x00, 0x10]);
            out.extend_from_slice(&data[..12]);
            out.extend_from_slice(&[0, 0]);
        } else if jpeg_keeps(marker, data) {
            out.extend_from_slice(&b[i..end]);
        }
        i = end;
    }
}

/// PNG chunks a decoder needs to show the image in its colours: the critical ones and a short
/// list of colour chunks. Text, EXIF, time, animation and every chunk this list does not know
/// (`caBX`, private chunks, …) go.
const PNG_KEEPS: [&[u8; 4]; 10] = [
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT",
];

fn strip_png(b: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&b[..8]);
    let mut i = 8;
    loop {
        if i + 12 > b.len() {
            return Err(corrupt("a PNG ends before its IEND chunk"));
        }
        let len = u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]) as usize;
        let kind = &b[i + 4..i + 8];
        let end = i
            .checked_add(12 + len)
            .filter(|e| *e <= b.len())
            .ok_or_else(|| corrupt("a PNG chunk overruns the file"))?;
        if PNG_KEEPS.iter().any(|k| k.as_slice() == kind) {
            out.extend_from_slice(&b[i..end]);
        }
        if kind == b"IEND" {
            // Whatever follows IEND is not the image.
            return Ok(out);
        }
        i = end;
    }
}

/// WebP chunks a decoder needs: the bitstreams, alpha, the extended header, the colour profile
/// and animation frames. EXIF, XMP and unknown chunks go.
const WEBP_KEEPS: [&[u8; 4]; 7] = [
    b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ICCP", b"ANIM", b"ANMF",
];

fn strip_webp(b: &[u8]) -> Result<Vec<u8>> {
    let riff = u32::from_le_bytes([b[4], b[5], b[6], b[7]]) as usize;
    // The RIFF header says where the file ends; anything after it is not the image.
    let stop = riff.saturating_add(8);
    if riff < 4 || stop > b.len() {
        return Err(corrupt("a WebP is cut short"));
    }
    let mut chunks = Vec::with_capacity(stop);
    let mut i = 12;
    let mut vp8x_at = None;
    while i + 8 <= stop {
        let kind = &b[i..i + 4];
        let len = u32::from_le_bytes([b[i + 4], b[i + 5], b[i + 6], b[i + 7]]) as usize;
        let padded = len + (len & 1);
        let end = (i + 8)
            .checked_add(padded)
            .filter(|e| *e <= stop)
            .ok_or_else(|| corrupt("a WebP chunk overruns the file"))?;
        if WEBP_KEEPS.iter().any(|k| k.as_slice() == kind) {
            if kind == b"VP8X" {
                vp8x_at = Some(chunks.len());
            }
            chunks.extend_from_slice(&b[i..end]);
        }
        i = end;
    }
    let has_image = [b"VP8 ", b"VP8L", b"ANMF"]
        .iter()
        .any(|k| chunks.windows(4).any(|w| w == k.as_slice()));
    if !has_image {
        return Err(corrupt("a WebP has no image data"));
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
        b.extend(seg(
            0xE0,
            b"JFIF\0\x01\x01\x00\x00\x01\x00\x01\x02\x01SECRET thumbnail",
        ));
        b.extend(seg(0xE1, b"Exif\0\0GPS SECRET"));
        b.extend(seg(0xFE, b"SECRET comment"));
        b.extend(seg(0xDB, &[0; 65]));
        b.extend([0xFF, 0xDA, 0, 2, 9, 9, 0xFF, 0xD9]);
        let s = strip(Format::Jpeg, &b).unwrap();
        assert!(!s.windows(6).any(|w| w == b"SECRET"));
        assert!(s.windows(4).any(|w| w == b"JFIF"), "the JFIF header stays");
        assert!(s.ends_with(&[0xFF, 0xD9]));
    }

    #[test]
    fn jpeg_keeps_only_what_decoding_needs_and_nothing_after_the_end() {
        let seg = |m: u8, data: &[u8]| {
            let mut s = vec![0xFF, m];
            s.extend_from_slice(&((data.len() + 2) as u16).to_be_bytes());
            s.extend_from_slice(data);
            s
        };
        let mut b = vec![0xFF, 0xD8];
        b.extend(seg(0xE5, b"vendor SECRET"));
        b.extend(seg(0xE2, b"MPF\0SECRET depth map"));
        b.extend(seg(0xE2, b"ICC_PROFILE\0\x01\x01profile"));
        b.extend(seg(0xDB, &[0; 65]));
        b.extend(seg(0xC4, &[0; 20]));
        // A scan with a stuffed byte and a restart marker inside, then a second scan.
        b.extend([0xFF, 0xDA, 0, 2, 0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56]);
        b.extend(seg(0xFE, b"SECRET between scans"));
        b.extend([0xFF, 0xDA, 0, 2, 0x78]);
        b.extend([0xFF, 0xD9]);
        b.extend(b"ftypmp42 video trailer SECRET");
        let s = strip(Format::Jpeg, &b).unwrap();
        assert!(!s.windows(6).any(|w| w == b"SECRET"), "{s:?}");
        assert!(s.windows(11).any(|w| w == b"ICC_PROFILE"));
        assert!(s.windows(4).any(|w| w == [0x12, 0xFF, 0x00, 0x34]));
        assert!(s.ends_with(&[0x78, 0xFF, 0xD9]));
    }

    #[test]
    fn png_keeps_only_known_chunks_and_nothing_after_iend() {
        let chunk = |kind: &[u8], data: &[u8]| {
            let mut c = (data.len() as u32).to_be_bytes().to_vec();
            c.extend_from_slice(kind);
            c.extend_from_slice(data);
            c.extend_from_slice(&[0, 0, 0, 0]);
            c
        };
        let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
        b.extend(chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]));
        b.extend(chunk(b"caBX", b"SECRET provenance"));
        b.extend(chunk(b"gAMA", &[0, 0, 177, 143]));
        b.extend(chunk(b"IDAT", &[1, 2, 3]));
        b.extend(chunk(b"IEND", &[]));
        b.extend(b"trailing SECRET");
        let s = strip(Format::Png, &b).unwrap();
        assert!(!s.windows(6).any(|w| w == b"SECRET"));
        assert!(s.windows(4).any(|w| w == b"gAMA"));
        assert!(s.ends_with(b"IEND\0\0\0\0"));
    }

    #[test]
    fn damaged_files_are_refused_not_panicked_on() {
        assert!(strip(Format::Jpeg, &[0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF]).is_err());
        assert!(strip(Format::Png, b"\x89PNG\r\n\x1a\n\xff\xff\xff\xffIDAT").is_err());
        assert!(strip(Format::WebP, b"RIFF\0\0\0\0WEBPVP8 \xff\xff\xff\xff").is_err());
        assert_eq!(Format::sniff(b"just text, named .png"), None);
    }
}
