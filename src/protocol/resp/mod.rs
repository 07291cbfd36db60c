//! RESP (REdis Serialization Protocol), versions 2 and 3.
//!
//! Requests are parsed by our own resumable parser (`request`); replies are encoded
//! straight into the connection's output buffer (`reply`); pub/sub message
//! frames, shared by every receiver, are encoded once per version (`push`).

pub mod push;
pub mod reply;
pub mod request;

pub use push::MessageFrames;
pub use reply::{Protocol, Reply};
pub use request::{Args, ParseLimits, ProtocolError, RequestParser};
