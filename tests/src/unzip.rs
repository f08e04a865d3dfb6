//! Reads a ZIP's entries back (stored entries only, as exports write them), checking each
//! one's CRC-32 against its central-directory record: what a person's unzip tool would do.

use std::collections::BTreeMap;

fn u16_at(b: &[u8], at: usize) -> usize {
    u16::from_le_bytes([b[at], b[at + 1]]) as usize
}

fn u32_at(b: &[u8], at: usize) -> usize {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]) as usize
}

/// Every entry's name and bytes, in order; panics on anything malformed.
pub fn entries(zip: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let end = zip.len() - 22;
    assert_eq!(u32_at(zip, end), 0x0605_4b50, "no end-of-directory record");
    let count = u16_at(zip, end + 10);
    let mut at = u32_at(zip, end + 16);
    let mut out = BTreeMap::new();
    for _ in 0..count {
        assert_eq!(u32_at(zip, at), 0x0201_4b50, "a broken directory record");
        assert_eq!(u16_at(zip, at + 10), 0, "only stored entries are expected");
        let crc = u32_at(zip, at + 16) as u32;
        let size = u32_at(zip, at + 24);
        let (name_len, extra, comment) = (
            u16_at(zip, at + 28),
            u16_at(zip, at + 30),
            u16_at(zip, at + 32),
        );
        let local = u32_at(zip, at + 42);
        let name = String::from_utf8(zip[at + 46..at + 46 + name_len].to_vec()).unwrap();
        assert_eq!(u32_at(zip, local), 0x0403_4b50, "{name}: no local header");
        let data = local + 30 + u16_at(zip, local + 26) + u16_at(zip, local + 28);
        let bytes = zip[data..data + size].to_vec();
        assert_eq!(
            crc32fast::hash(&bytes),
            crc,
            "{name}: the CRC does not match"
        );
        out.insert(name, bytes);
        at += 46 + name_len + extra + comment;
    }
    out
}
