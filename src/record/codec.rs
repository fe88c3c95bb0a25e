//! The byte-level encoding of a block's payload: LEB128 varints, zigzag
//! for signed numbers, length-prefixed UTF-8 strings, a presence byte for
//! options. Decoding never panics: a short or bad payload is an error.

use std::fmt;

/// A payload that does not decode (a bug, or a block from a newer version).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub &'static str);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "undecodable block: {}", self.0)
    }
}

impl std::error::Error for DecodeError {}

/// Appends encoded values to a buffer.
#[derive(Debug, Default)]
pub struct Enc {
    pub buf: Vec<u8>,
}

impl Enc {
    /// An unsigned varint.
    pub fn u64(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }

    /// A signed varint (zigzag).
    pub fn i64(&mut self, v: i64) {
        self.u64(((v << 1) ^ (v >> 63)) as u64);
    }

    /// One byte.
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    /// A bool as one byte.
    pub fn bool(&mut self, v: bool) {
        self.buf.push(u8::from(v));
    }

    /// A length-prefixed string.
    pub fn str(&mut self, s: &str) {
        self.u64(s.len() as u64);
        self.buf.extend_from_slice(s.as_bytes());
    }

    /// An optional string.
    pub fn opt_str(&mut self, s: Option<&str>) {
        match s {
            None => self.u8(0),
            Some(s) => {
                self.u8(1);
                self.str(s);
            }
        }
    }

    /// An optional unsigned number.
    pub fn opt_u64(&mut self, v: Option<u64>) {
        match v {
            None => self.u8(0),
            Some(v) => {
                self.u8(1);
                self.u64(v);
            }
        }
    }

    /// An f64, bit for bit.
    pub fn f64(&mut self, v: f64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
}

/// Reads encoded values from a payload.
#[derive(Debug)]
pub struct Dec<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Dec<'a> {
    /// A decoder at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Dec<'a> {
        Dec { buf, pos: 0 }
    }

    /// True when every byte was read.
    pub fn is_done(&self) -> bool {
        self.pos >= self.buf.len()
    }

    /// One byte.
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        let b = *self.buf.get(self.pos).ok_or(DecodeError("short payload"))?;
        self.pos += 1;
        Ok(b)
    }

    /// An unsigned varint.
    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(DecodeError("varint too long"))
    }

    /// A signed varint (zigzag).
    pub fn i64(&mut self) -> Result<i64, DecodeError> {
        let v = self.u64()?;
        Ok(((v >> 1) as i64) ^ -((v & 1) as i64))
    }

    /// A bool.
    pub fn bool(&mut self) -> Result<bool, DecodeError> {
        Ok(self.u8()? != 0)
    }

    /// A varint that must fit `u32`.
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        u32::try_from(self.u64()?).map_err(|_| DecodeError("number out of range"))
    }

    /// A length-prefixed string (invalid UTF-8 is replaced, as the poller does).
    pub fn str(&mut self) -> Result<String, DecodeError> {
        let len = usize::try_from(self.u64()?).map_err(|_| DecodeError("length"))?;
        let end = self
            .pos
            .checked_add(len)
            .filter(|&e| e <= self.buf.len())
            .ok_or(DecodeError("string past the end"))?;
        let s = String::from_utf8_lossy(&self.buf[self.pos..end]).into_owned();
        self.pos = end;
        Ok(s)
    }

    /// An optional string.
    pub fn opt_str(&mut self) -> Result<Option<String>, DecodeError> {
        Ok(if self.bool()? {
            Some(self.str()?)
        } else {
            None
        })
    }

    /// An optional unsigned number.
    pub fn opt_u64(&mut self) -> Result<Option<u64>, DecodeError> {
        Ok(if self.bool()? {
            Some(self.u64()?)
        } else {
            None
        })
    }

    /// An f64.
    pub fn f64(&mut self) -> Result<f64, DecodeError> {
        let end = self.pos + 8;
        let bytes = self
            .buf
            .get(self.pos..end)
            .ok_or(DecodeError("short payload"))?;
        let mut raw = [0u8; 8];
        raw.copy_from_slice(bytes);
        self.pos = end;
        Ok(f64::from_le_bytes(raw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_short_input() {
        let mut e = Enc::default();
        for v in [0u64, 1, 127, 128, 300, u64::MAX] {
            e.u64(v);
        }
        for v in [0i64, -1, 1, i64::MIN, i64::MAX] {
            e.i64(v);
        }
        e.str("héllo");
        e.opt_str(None);
        e.opt_u64(Some(7));
        e.f64(0.5);
        let mut d = Dec::new(&e.buf);
        for v in [0u64, 1, 127, 128, 300, u64::MAX] {
            assert_eq!(d.u64().unwrap(), v);
        }
        for v in [0i64, -1, 1, i64::MIN, i64::MAX] {
            assert_eq!(d.i64().unwrap(), v);
        }
        assert_eq!(d.str().unwrap(), "héllo");
        assert_eq!(d.opt_str().unwrap(), None);
        assert_eq!(d.opt_u64().unwrap(), Some(7));
        assert_eq!(d.f64().unwrap(), 0.5);
        assert!(d.is_done());
        assert!(d.u8().is_err());
        let mut d = Dec::new(&[5, b'a']);
        assert!(d.str().is_err());
        let mut d = Dec::new(&[0xff; 12]);
        assert!(d.u64().is_err());
    }
}
