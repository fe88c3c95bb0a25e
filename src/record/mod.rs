//! The flight recorder: every snapshot appended to a directory of files,
//! compactly, to be replayed later (`replay`).
//!
//! - [`model`]: what is stored of a snapshot (sessions with start instants,
//!   so time advancing costs nothing) and the deltas between two.
//! - [`format`]: the file format (blocks with length and checksum, LZ4, an
//!   index trailer); [`codec`]: the bytes inside a block.
//! - [`writer`]: keyframes and deltas, rotation and retention, failed writes.
//! - [`reader`]: files indexed, torn tails skipped, a cursor that seeks.
//! - [`daemon`]: `conntop record` and the tee of `--record DIR`.
//! - [`clock`]: UTC wall-clock times for names, headers and `--at`.

pub mod clock;
pub mod codec;
pub mod daemon;
pub mod fields;
pub mod format;
pub mod model;
pub mod reader;
pub mod writer;

pub use reader::{Cursor, Recording};
pub use writer::{Dir, Writer, WriterEvent, WriterOptions};
