//! The waiting half of a blocked command (see `crate::blocking` for the whole
//! life of one): wait for a wake-up, the timeout, CLIENT UNBLOCK or the end of
//! the connection, and run the command again when woken.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use tokio::net::TcpStream;

use super::Close;
use crate::blocking::{BlockRequest, Unblocked, Waiter};
use crate::commands::{answer_error, execute, CommandId, Session, Shared};
use crate::error;
use crate::protocol::resp::Reply;

/// Most bytes a blocked client may pipeline behind its blocked command.
const MAX_BUFFERED_WHILE_BLOCKED_BYTES: usize = 64 * 1024 * 1024;

/// A command that asked to wait: what it is, and what it waits for.
pub(crate) struct Blocked<'a> {
    pub(crate) id: CommandId,
    pub(crate) args: &'a [Bytes],
    pub(crate) request: BlockRequest,
}

/// Wait until the blocked command can answer, and leave its answer in `reply`.
/// Returns Err when the connection must close (killed, shutdown, disconnected).
///
/// While blocked, the socket is still watched: a client that disconnects is
/// removed from every queue at once, and bytes it pipelines behind the blocked
/// command wait in `input`.
pub(crate) async fn wait(
    blocked: Blocked<'_>,
    socket: &mut TcpStream,
    shared: &Arc<Shared>,
    session: &mut Session,
    reply: &mut Reply,
    input: &mut BytesMut,
    mut killed: std::pin::Pin<&mut tokio_util::sync::WaitForCancellationFuture<'_>>,
) -> Result<(), Close> {
    let Blocked { id, args, request } = blocked;
    let waiter = shared
        .blocking
        .block(session.client.id, &request, &shared.store);
    // Leaves the queues however this function ends.
    let _queued = Queued {
        shared,
        waiter: waiter.clone(),
        request: &request,
    };
    let deadline = request.deadline.map(tokio::time::Instant::from_std);
    loop {
        tokio::select! {
            biased;
            _ = killed.as_mut() => {
                return Err(if shared.shutdown.is_cancelled() { Close::Shutdown } else { Close::Killed });
            }
            _ = waiter.wake.notified() => {
                match waiter.unblocked() {
                    Some(Unblocked::Error) => {
                        shared.commands.count_call(id, 0, true);
                        answer_error(session, reply, &error::UNBLOCKED.into());
                        return Ok(());
                    }
                    Some(Unblocked::Timeout) => {
                        time_out(shared, id, &request, reply);
                        return Ok(());
                    }
                    None => {}
                }
                // A client that hung up must not take the data: look before popping.
                read_pending(socket, input)?;
                if execute(shared, session, reply, id, args, true).is_none() {
                    return Ok(());
                }
                // Someone else took the data first: back to sleep, same place in line.
                shared.blocking.rearm(&waiter, &request, &shared.store);
            }
            _ = sleep_until_or_forever(deadline) => {
                time_out(shared, id, &request, reply);
                return Ok(());
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

/// The timeout passed (or CLIENT UNBLOCK TIMEOUT): the command's timeout
/// reply, counted as its one call.
fn time_out(shared: &Shared, id: CommandId, request: &BlockRequest, reply: &mut Reply) {
    shared.commands.count_call(id, 0, false);
    request.on_timeout.write(reply);
}

/// Removes a waiter from the blocking queues when dropped.
struct Queued<'a> {
    shared: &'a Shared,
    waiter: Arc<Waiter>,
    request: &'a BlockRequest,
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.shared
            .blocking
            .leave(&self.waiter, self.request, &self.shared.store);
    }
}
