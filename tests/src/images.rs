//! Real image files for upload tests: small PNGs and JPEGs drawn here, with metadata chunks
//! spliced in, and hostile headers.

use std::io::Cursor;

/// A marker that stands for a person's location in EXIF/XMP/text metadata.
pub const GPS_MARKER: &str = "GPS 12.9716N 77.5946E home-of-the-designer";

fn chunk(kind: &[u8], data: &[u8]) -> Vec<u8> {
    let mut c = (data.len() as u32).to_be_bytes().to_vec();
    c.extend_from_slice(kind);
    c.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    c.extend_from_slice(&crc.finalize().to_be_bytes());
    c
}

/// A `w`×`h` PNG with a gradient.
pub fn png(w: u32, h: u32) -> Vec<u8> {
    let img =
        image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 7) as u8, (y * 5) as u8, 128]));
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("encode png");
    out.into_inner()
}

/// A PNG carrying the GPS marker in tEXt and iTXt chunks right after IHDR.
pub fn png_with_metadata(w: u32, h: u32) -> Vec<u8> {
    let plain = png(w, h);
    let ihdr_end = 8 + 12 + 13;
    let mut out = plain[..ihdr_end].to_vec();
    out.extend(chunk(b"tEXt", format!("Location\0{GPS_MARKER}").as_bytes()));
    out.extend(chunk(
        b"iTXt",
        format!("XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta>{GPS_MARKER}</x:xmpmeta>").as_bytes(),
    ));
    out.extend_from_slice(&plain[ihdr_end..]);
    out
}

/// A JPEG carrying the GPS marker in an EXIF APP1 segment and a comment.
pub fn jpeg_with_metadata(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 3) as u8, (y * 3) as u8, 60]));
    let mut enc = Cursor::new(Vec::new());
    img.write_to(&mut enc, image::ImageFormat::Jpeg)
        .expect("encode jpeg");
    let plain = enc.into_inner();
    let segment = |marker: u8, data: &[u8]| {
        let mut s = vec![0xFF, marker];
        s.extend_from_slice(&((data.len() + 2) as u16).to_be_bytes());
        s.extend_from_slice(data);
        s
    };
    let mut out = plain[..2].to_vec();
    out.extend(segment(0xE1, format!("Exif\0\0{GPS_MARKER}").as_bytes()));
    out.extend(segment(0xFE, GPS_MARKER.as_bytes()));
    out.extend_from_slice(&plain[2..]);
    out
}

/// A PNG whose header claims `w`×`h` pixels (no pixel data follows).
pub fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(chunk(b"IHDR", &ihdr));
    out.extend(chunk(
        b"IDAT",
        &[0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    ));
    out.extend(chunk(b"IEND", &[]));
    out
}

/// A marker that stands for metadata a phone or an app hides outside the usual places.
pub const HIDDEN_MARKER: &str = "HIDDEN-LOCATION-48.8584N-2.2945E";

fn jpeg(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 3) as u8, (y * 3) as u8, 60]));
    let mut enc = Cursor::new(Vec::new());
    img.write_to(&mut enc, image::ImageFormat::Jpeg)
        .expect("encode jpeg");
    enc.into_inner()
}

/// A motion photo: a JPEG followed, after its end-of-image marker, by a video carrying its own
/// location (the marker).
pub fn jpeg_with_video_trailer(w: u32, h: u32) -> Vec<u8> {
    let mut out = jpeg(w, h);
    out.extend_from_slice(b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom");
    out.extend_from_slice(format!("moov udta xyz {HIDDEN_MARKER}").as_bytes());
    out
}

/// A JPEG carrying the marker in a vendor APP5 segment.
pub fn jpeg_with_app5(w: u32, h: u32) -> Vec<u8> {
    let plain = jpeg(w, h);
    let data = format!("VendorData\0{HIDDEN_MARKER}");
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE5]);
    out.extend_from_slice(&((data.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(data.as_bytes());
    out.extend_from_slice(&plain[2..]);
    out
}

/// A PNG carrying the marker in a chunk no stripper knows (`caBX`, an ancillary chunk a
/// decoder skips).
pub fn png_with_unknown_chunk(w: u32, h: u32) -> Vec<u8> {
    let plain = png(w, h);
    let ihdr_end = 8 + 12 + 13;
    let mut out = plain[..ihdr_end].to_vec();
    out.extend(chunk(b"caBX", HIDDEN_MARKER.as_bytes()));
    out.extend_from_slice(&plain[ihdr_end..]);
    out
}

/// A `w`×`h` 16-bit RGBA PNG of black pixels that compresses to about 1/200 of its decoded
/// size: 8000×5000 is a 1.6 MB file that decodes to 320 MB. Written by hand (fixed-Huffman
/// deflate: one zero, then runs of 258 copies at distance 1), so making it costs nothing.
pub fn png_16bit_black(w: u32, h: u32) -> Vec<u8> {
    struct Bits {
        out: Vec<u8>,
        acc: u64,
        n: u32,
    }
    impl Bits {
        fn put(&mut self, value: u64, count: u32) {
            self.acc |= value << self.n;
            self.n += count;
            while self.n >= 8 {
                self.out.push(self.acc as u8);
                self.acc >>= 8;
                self.n -= 8;
            }
        }
        /// A Huffman code, most significant bit first.
        fn code(&mut self, code: u32, len: u32) {
            let reversed = (0..len).fold(0u64, |r, i| (r << 1) | u64::from((code >> i) & 1));
            self.put(reversed, len);
        }
    }
    let total: u64 = u64::from(h) * (1 + u64::from(w) * 8);
    let mut bits = Bits {
        out: vec![0x78, 0x01],
        acc: 0,
        n: 0,
    };
    bits.put(1, 1); // the last block
    bits.put(1, 2); // fixed Huffman codes
    bits.code(0x30, 8); // literal 0
    let runs = (total - 1) / 258;
    for _ in 0..runs {
        bits.code(0xC5, 8); // length 258 (symbol 285)
        bits.code(0, 5); // distance 1
    }
    for _ in 0..(total - 1 - runs * 258) {
        bits.code(0x30, 8);
    }
    bits.code(0, 7); // end of block
    if bits.n > 0 {
        bits.put(0, 8 - bits.n);
    }
    let mut zlib = bits.out;
    // Adler-32 of zeros: a stays 1, b is the count.
    let adler = ((total % 65521) << 16) | 1;
    zlib.extend_from_slice(&(adler as u32).to_be_bytes());
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[16, 6, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(chunk(b"IHDR", &ihdr));
    out.extend(chunk(b"IDAT", &zlib));
    out.extend(chunk(b"IEND", &[]));
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_hand_made_16_bit_png_decodes() {
        let png = super::png_16bit_black(64, 48);
        let img = image::load_from_memory(&png).unwrap();
        assert_eq!((img.width(), img.height()), (64, 48));
        assert_eq!(img.color(), image::ColorType::Rgba16);
    }
}
