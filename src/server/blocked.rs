//! The waiting half of a blocked command (see `crate::blocking` for the whole
//! life of one): wait for its outcome — served by the command that gave a key
//! data, the timeout, CLIENT UNBLOCK or the end of the connection — and write
//! its answer.

use std::sync::Arc;

use bytes::BytesMut;
use tokio::net::TcpStream;

use super::Close;
use crate::blocking::{Outcome, PeerAlive, Unblocked, Waiter};
use crate::commands::{answer_error, CommandId, Session, Shared};
use crate::error;
use crate::protocol::resp::Reply;

/// Most bytes a blocked client may pipeline behind its blocked command.
const MAX_BUFFERED_WHILE_BLOCKED_BYTES: usize = 64 * 1024 * 1024;

/// A command that waits: what it is, and its registered waiter.
pub(crate) struct Blocked {
    pub(crate) id: CommandId,
    pub(crate) waiter: Arc<Waiter>,
}

/// The check `serve_ready` makes before it gives a waiter data: false once the
/// peer has hung up (a read would see EOF). Peeks at a duplicate of the
/// socket's descriptor, so it never takes bytes the connection would read.
pub(crate) fn peer_check(socket: &TcpStream) -> Option<PeerAlive> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        let dup = socket.as_fd().try_clone_to_owned().ok()?;
        let peek = std::net::TcpStream::from(dup);
        Some(Arc::new(move || {
            let mut byte = [0u8; 1];
            match peek.peek(&mut byte) {
                Ok(0) => false,
                Ok(_) => true,
                Err(e) => e.kind() == std::io::ErrorKind::WouldBlock,
            }
        }))
    }
    #[cfg(not(unix))]
    {
        let _ = socket;
        None
    }
}

/// Wait until the blocked command has its answer, and leave it in `reply`.
/// Returns Err when the connection must close (killed, shutdown, disconnected).
///
/// While blocked, the socket is still watched: a client that disconnects is
/// removed from every queue at once, and bytes it pipelines behind the blocked
/// command wait in `input`.
pub(crate) async fn wait(
    blocked: Blocked,
    socket: &mut TcpStream,
    shared: &Arc<Shared>,
    session: &mut Session,
    reply: &mut Reply,
    input: &mut BytesMut,
    mut killed: std::pin::Pin<&mut tokio_util::sync::WaitForCancellationFuture<'_>>,
) -> Result<(), Close> {
    let Blocked { id, waiter } = blocked;
    // Leaves the queues however this function ends.
    let _queued = Queued {
        shared,
        waiter: waiter.clone(),
    };
    let deadline = waiter.request.deadline.map(tokio::time::Instant::from_std);
    // The timeout passed while the waiter was being served: once the server
    // thread lets go of it, time out unless it was served.
    let mut expired = false;
    loop {
        if let Some(outcome) = waiter.take_outcome() {
            answer(shared, id, &waiter, outcome, session, reply);
            return Ok(());
        }
        if expired && shared.blocking.finish(&waiter, Outcome::TimedOut) {
            continue;
        }
        tokio::select! {
            biased;
            _ = killed.as_mut() => {
                return Err(if shared.shutdown.is_cancelled() { Close::Shutdown } else { Close::Killed });
            }
            _ = waiter.wake.notified() => {}
            _ = sleep_until_or_forever(deadline), if !expired => {
                expired = true;
            }
            ready = socket.readable() => {
                if ready.is_err() {
                    return Err(Close::Io);
                }
                read_pending(socket, input)?;
                if input.len() > MAX_BUFFERED_WHILE_BLOCKED_BYTES {
                    return Err(Close::Protocol);
                }
            }
        }
    }
}

/// Write the answer a finished wait calls for.
fn answer(
    shared: &Shared,
    id: CommandId,
    waiter: &Waiter,
    outcome: Outcome,
    session: &mut Session,
    reply: &mut Reply,
) {
    match outcome {
        Outcome::Served {
            reply: bytes,
            errors,
        } => {
            // Counted in commandstats by the run that served it.
            session.errors_replied += errors;
            reply.append_frames(|out| out.extend_from_slice(&bytes));
        }
        Outcome::Unblocked(Unblocked::Error) => {
            shared.commands.count_call(id, 0, true);
            answer_error(shared, session, reply, &error::UNBLOCKED.into());
        }
        Outcome::Unblocked(Unblocked::Timeout) | Outcome::TimedOut | Outcome::Gone => {
            // The timeout reply, counted as the command's one call.
            shared.commands.count_call(id, 0, false);
            waiter.request.on_timeout.write(reply);
        }
    }
}

/// Read what the client sent without waiting; Err when it hung up.
fn read_pending(socket: &mut TcpStream, input: &mut BytesMut) -> Result<(), Close> {
    match socket.try_read_buf(input) {
        Ok(0) => Err(Close::Eof),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(()),
        Err(_) => Err(Close::Io),
    }
}

async fn sleep_until_or_forever(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Ends the wait (the waiter leaves every queue) when dropped, unless it
/// already ended.
struct Queued<'a> {
    shared: &'a Shared,
    waiter: Arc<Waiter>,
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.shared.blocking.finish(&self.waiter, Outcome::Gone);
    }
}
