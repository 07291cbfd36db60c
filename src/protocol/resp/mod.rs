//! RESP (REdis Serialization Protocol), versions 2 and 3.
//!
//! Requests are parsed by our own resumable parser (`request`); replies are encoded
//! straight into the connection's output buffer (`reply`).

pub mod reply;
pub mod request;

pub use reply::{Protocol, Reply};
pub use request::{Args, ParseLimits, ProtocolError, RequestParser};
