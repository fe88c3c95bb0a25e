//! The file format (version 1), append-only:
//!
//! ```text
//! file    = header block* [index trailer]
//! header  = "CONNTOPR" version:u16le 0:u16 0:u32                  (16 bytes)
//! block   = "CTBK" len:u32le crc:u32le kind:u8 codec:u8 0:u16 t_ms:i64le payload[len]
//! trailer = index_offset:u64le "CTIDXEND"                         (16 bytes)
//! ```
//!
//! `crc` is the CRC-32 (IEEE) of `len`, the bytes from `kind` to `t_ms` and
//! the payload, so a block cut short or half written is recognised and
//! skipped. `t_ms` is the block's moment in ms since the Unix epoch (UTC).
//! `codec` 0 stores the payload as is, 1 as an LZ4 block with its size
//! prepended. Kinds: 1 keyframe (a whole [`State`](super::model::State)),
//! 2 delta (what changed since the previous block), 3 down (the server could
//! not be reached), 4 index (the keyframes' moments and offsets, written
//! when a file is closed, and pointed at by the trailer).

use std::io::{self, Read};

use super::codec::{Dec, DecodeError, Enc};

/// The first 8 bytes of every recording file.
pub const FILE_MAGIC: &[u8; 8] = b"CONNTOPR";
/// The format version this code writes and reads.
pub const VERSION: u16 = 1;
/// Length of the file header.
pub const FILE_HEADER_LEN: u64 = 16;
/// The first 4 bytes of every block.
pub const BLOCK_MAGIC: &[u8; 4] = b"CTBK";
/// Length of a block header.
pub const BLOCK_HEADER_LEN: u64 = 24;
/// The last 8 bytes of a closed file.
pub const TRAILER_MAGIC: &[u8; 8] = b"CTIDXEND";
/// Length of the trailer.
pub const TRAILER_LEN: u64 = 16;
/// A stored payload longer than this is corruption, not data.
pub const MAX_PAYLOAD: u32 = 256 << 20;
/// Payloads shorter than this are stored without compression.
const COMPRESS_FROM: usize = 64;

/// What a block holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Keyframe,
    Delta,
    Down,
    Index,
}

impl Kind {
    fn byte(self) -> u8 {
        match self {
            Kind::Keyframe => 1,
            Kind::Delta => 2,
            Kind::Down => 3,
            Kind::Index => 4,
        }
    }

    fn from_byte(b: u8) -> Option<Kind> {
        match b {
            1 => Some(Kind::Keyframe),
            2 => Some(Kind::Delta),
            3 => Some(Kind::Down),
            4 => Some(Kind::Index),
            _ => None,
        }
    }
}

/// The file header bytes.
pub fn file_header() -> [u8; 16] {
    let mut h = [0u8; 16];
    h[..8].copy_from_slice(FILE_MAGIC);
    h[8..10].copy_from_slice(&VERSION.to_le_bytes());
    h
}

/// Checks a file header; the error says why the file is not a recording.
pub fn check_header(h: &[u8]) -> Result<(), String> {
    if h.len() < FILE_HEADER_LEN as usize || &h[..8] != FILE_MAGIC {
        return Err("not a conntop recording".to_string());
    }
    let version = u16::from_le_bytes([h[8], h[9]]);
    if version != VERSION {
        return Err(format!(
            "recording format version {version}; this conntop reads version {VERSION}"
        ));
    }
    Ok(())
}

fn crc(head: &[u8], payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&head[4..8]);
    h.update(&head[12..24]);
    h.update(payload);
    h.finalize()
}

/// A whole block (header and stored payload), ready for one write.
pub fn block(kind: Kind, t_ms: i64, payload: &[u8]) -> Vec<u8> {
    let packed;
    let (codec, stored) = if payload.len() >= COMPRESS_FROM {
        packed = lz4_flex::block::compress_prepend_size(payload);
        if packed.len() < payload.len() {
            (1u8, packed.as_slice())
        } else {
            (0u8, payload)
        }
    } else {
        (0u8, payload)
    };
    let mut out = Vec::with_capacity(BLOCK_HEADER_LEN as usize + stored.len());
    out.extend_from_slice(BLOCK_MAGIC);
    out.extend_from_slice(&(stored.len() as u32).to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.push(kind.byte());
    out.push(codec);
    out.extend_from_slice(&[0; 2]);
    out.extend_from_slice(&t_ms.to_le_bytes());
    let sum = crc(&out, stored);
    out[8..12].copy_from_slice(&sum.to_le_bytes());
    out.extend_from_slice(stored);
    out
}

/// The trailer that points at the index block at `index_offset`.
pub fn trailer(index_offset: u64) -> [u8; 16] {
    let mut t = [0u8; 16];
    t[..8].copy_from_slice(&index_offset.to_le_bytes());
    t[8..].copy_from_slice(TRAILER_MAGIC);
    t
}

/// The index offset a trailer names, if these 16 bytes are a trailer.
pub fn parse_trailer(t: &[u8]) -> Option<u64> {
    if t.len() != TRAILER_LEN as usize || &t[8..] != TRAILER_MAGIC {
        return None;
    }
    let mut raw = [0u8; 8];
    raw.copy_from_slice(&t[..8]);
    Some(u64::from_le_bytes(raw))
}

/// A block read back, its payload decompressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub kind: Kind,
    pub t_ms: i64,
    pub payload: Vec<u8>,
    /// Bytes the block takes in the file.
    pub size: u64,
}

/// What is at a position of a file.
#[derive(Debug)]
pub enum Next {
    Block(Block),
    /// The file ends here, cleanly, or a trailer starts here.
    End,
    /// An incomplete or damaged block: everything from here on is skipped.
    Torn(String),
}

/// Reads the block at the reader's position.
pub fn read_block(r: &mut impl Read) -> io::Result<Next> {
    let mut head = [0u8; BLOCK_HEADER_LEN as usize];
    let got = read_full(r, &mut head)?;
    if got == 0 {
        return Ok(Next::End);
    }
    if got < head.len() {
        if got == TRAILER_LEN as usize && parse_trailer(&head[..got]).is_some() {
            return Ok(Next::End);
        }
        return Ok(Next::Torn(format!("a block header cut after {got} bytes")));
    }
    if &head[..4] != BLOCK_MAGIC {
        if parse_trailer(&head[..16]).is_some() {
            return Ok(Next::End);
        }
        return Ok(Next::Torn("no block starts here".to_string()));
    }
    let len = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
    let want = u32::from_le_bytes([head[8], head[9], head[10], head[11]]);
    if len > MAX_PAYLOAD {
        return Ok(Next::Torn(format!("a block claims {len} bytes")));
    }
    let mut stored = vec![0u8; len as usize];
    let got = read_full(r, &mut stored)?;
    if got < stored.len() {
        return Ok(Next::Torn(format!(
            "a block cut after {got} of its {len} bytes"
        )));
    }
    if crc(&head, &stored) != want {
        return Ok(Next::Torn("a block fails its checksum".to_string()));
    }
    let Some(kind) = Kind::from_byte(head[12]) else {
        return Ok(Next::Torn(format!("unknown block kind {}", head[12])));
    };
    let mut t = [0u8; 8];
    t.copy_from_slice(&head[16..24]);
    let payload = match head[13] {
        0 => stored,
        1 => match lz4_flex::block::decompress_size_prepended(&stored) {
            Ok(p) => p,
            Err(e) => return Ok(Next::Torn(format!("a block does not decompress: {e}"))),
        },
        c => return Ok(Next::Torn(format!("unknown codec {c}"))),
    };
    Ok(Next::Block(Block {
        kind,
        t_ms: i64::from_le_bytes(t),
        payload,
        size: BLOCK_HEADER_LEN + u64::from(len),
    }))
}

/// Reads until `buf` is full or the end; returns how much was read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Why the server could not be reached, as a down block stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownRecord {
    pub since_ms: i64,
    pub attempts: u32,
    pub last_error: String,
}

impl DownRecord {
    /// The payload.
    pub fn encode(&self) -> Vec<u8> {
        let mut e = Enc::default();
        e.i64(self.since_ms);
        e.u64(u64::from(self.attempts));
        e.str(&self.last_error);
        e.buf
    }

    /// From a payload.
    pub fn decode(payload: &[u8]) -> Result<DownRecord, DecodeError> {
        let mut d = Dec::new(payload);
        Ok(DownRecord {
            since_ms: d.i64()?,
            attempts: d.u32()?,
            last_error: d.str()?,
        })
    }
}

/// A file's index: where its keyframes are, and what it spans.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Index {
    /// (moment, offset) of each keyframe, in order.
    pub keyframes: Vec<(i64, u64)>,
    /// The first and last block moments.
    pub first_ms: i64,
    pub last_ms: i64,
    /// Keyframe, delta and down blocks.
    pub frames: u64,
}

impl Index {
    /// The payload of an index block.
    pub fn encode(&self) -> Vec<u8> {
        let mut e = Enc::default();
        e.i64(self.first_ms);
        e.i64(self.last_ms);
        e.u64(self.frames);
        e.u64(self.keyframes.len() as u64);
        let (mut t, mut o) = (self.first_ms, 0u64);
        for &(kt, ko) in &self.keyframes {
            e.i64(kt - t);
            e.u64(ko - o);
            (t, o) = (kt, ko);
        }
        e.buf
    }

    /// From a payload.
    pub fn decode(payload: &[u8]) -> Result<Index, DecodeError> {
        let mut d = Dec::new(payload);
        let first_ms = d.i64()?;
        let last_ms = d.i64()?;
        let frames = d.u64()?;
        let n = d.u64()?;
        let (mut t, mut o) = (first_ms, 0u64);
        let mut keyframes = Vec::new();
        for _ in 0..n {
            t = t.wrapping_add(d.i64()?);
            o = o.checked_add(d.u64()?).ok_or(DecodeError("offset"))?;
            keyframes.push((t, o));
        }
        Ok(Index {
            keyframes,
            first_ms,
            last_ms,
            frames,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_round_trip_and_damage_is_torn() {
        let big: Vec<u8> = (0..1000u32).map(|i| (i % 7) as u8).collect();
        for payload in [b"tiny".to_vec(), big] {
            let b = block(Kind::Delta, 42, &payload);
            match read_block(&mut &b[..]).unwrap() {
                Next::Block(got) => {
                    assert_eq!(got.payload, payload);
                    assert_eq!(
                        (got.kind, got.t_ms, got.size),
                        (Kind::Delta, 42, b.len() as u64)
                    );
                }
                other => panic!("{other:?}"),
            }
            for cut in 1..b.len() {
                assert!(
                    matches!(read_block(&mut &b[..cut]).unwrap(), Next::Torn(_)),
                    "cut {cut}"
                );
            }
            let mut bad = b.clone();
            let last = bad.len() - 1;
            bad[last] ^= 1;
            assert!(matches!(read_block(&mut &bad[..]).unwrap(), Next::Torn(_)));
        }
        assert!(matches!(read_block(&mut &[][..]).unwrap(), Next::End));
        assert!(matches!(
            read_block(&mut &trailer(99)[..]).unwrap(),
            Next::End
        ));
        let idx = Index {
            keyframes: vec![(10, 16), (70, 900)],
            first_ms: 10,
            last_ms: 99,
            frames: 5,
        };
        assert_eq!(Index::decode(&idx.encode()).unwrap(), idx);
    }
}
