//! One RESP connection: read a batch, parse every complete request in it,
//! execute each, append every reply to one buffer, write once.
//!
//! Frames queued by other clients (pub/sub pushes) wait in the client's outbox
//! and are appended after the batch's replies, so they go out in the same write.
//! A connection ends on EOF, a protocol error (reply, then close), QUIT, CLIENT
//! KILL, an output-buffer-limit breach, an idle timeout, or server shutdown.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::blocking::{BlockRequest, Unblocked};
use crate::clients::ClientHandle;
use crate::commands::{dispatch, Session};
use crate::protocol::resp::{ParseLimits, Protocol, Reply, RequestParser};
use crate::shared::Shared;
use crate::stats::Stats;

/// Bytes asked of the kernel per read.
const READ_CHUNK_BYTES: usize = 16 * 1024;
/// Most capacity reserved at once for a large bulk argument still arriving.
const MAX_RESERVE_BYTES: usize = 1024 * 1024;
/// An output buffer bigger than this after a write is released rather than kept.
const KEEP_OUTPUT_CAPACITY_BYTES: usize = 64 * 1024;
/// Most pushed bytes moved from the outbox into one write: a subscriber with a
/// long queue drains it in slices instead of copying all of it at once.
const MAX_PUSH_BYTES_PER_WRITE: usize = 256 * 1024;

/// Why a connection ended (for the debug log).
#[derive(Debug)]
enum Close {
    Eof,
    Quit,
    Protocol,
    Killed,
    Shutdown,
    Io,
}

pub async fn serve(mut socket: TcpStream, shared: Arc<Shared>, client: Arc<ClientHandle>) {
    let authenticated = !shared.password_required();
    let mut session = Session::new(client.clone(), authenticated);
    let mut reply = Reply::new(Protocol::Resp2);
    let mut input = BytesMut::with_capacity(READ_CHUNK_BYTES);
    let mut parser = RequestParser::new();

    // Both futures live across iterations: re-creating them each time would
    // register and unregister a waiter under a lock on every wake-up.
    let killed = client.kill.cancelled();
    tokio::pin!(killed);
    let notified = client.outbox.notify.notified();
    tokio::pin!(notified);
    let closing = || {
        if shared.shutdown.is_cancelled() {
            Close::Shutdown
        } else {
            Close::Killed
        }
    };

    // Set after a blocked command finished: requests pipelined behind it are
    // already in `input` and must run without waiting for more bytes.
    let mut parse_pending = false;

    let why = loop {
        // 1. Wait for input, a push, or the end (no wait while pushes are queued).
        let pushes_pending = !client.outbox.is_empty() || parse_pending;
        parse_pending = false;
        tokio::select! {
            biased;
            _ = &mut killed => break closing(),
            read = socket.read_buf(&mut input) => match read {
                Ok(0) => break Close::Eof,
                Ok(n) => {
                    Stats::add(&shared.stats.total_net_input_bytes, n as u64);
                    client.last_interaction_ms.store(shared.uptime_ms(), Relaxed);
                }
                Err(_) => break Close::Io,
            },
            _ = &mut notified => notified.set(client.outbox.notify.notified()),
            _ = std::future::ready(()), if pushes_pending => {}
        }

        // 2. Execute every complete request in the buffer (no await in here:
        // the batch clock is this thread's).
        let clock = crate::clock::Batch::enter();
        let max_bulk_len = shared.config.read().proto_max_bulk_len as usize;
        let mut commands = 0u64;
        let mut protocol_error = false;
        let mut blocked = None;
        while !session.close_after_reply {
            // AUTH inside the batch lifts the pre-auth limits for what follows it.
            let limits = ParseLimits {
                max_bulk_len,
                unauthenticated: !session.authenticated,
            };
            match parser.parse(&mut input, &limits) {
                Ok(Some(args)) => {
                    commands += 1;
                    dispatch(&shared, &mut session, &mut reply, &args);
                    if session.block.is_some() {
                        // Later requests wait until this one is answered.
                        blocked = Some(args);
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    reply.error(&e.0);
                    protocol_error = true;
                    break;
                }
            }
        }
        drop(clock);
        if commands > 0 {
            Stats::add(&shared.stats.total_commands_processed, commands);
        }
        if session.errors_replied > 0 {
            Stats::add(&shared.stats.total_error_replies, session.errors_replied);
            session.errors_replied = 0;
        }
        client.query_buffer_bytes.store(input.len() as u64, Relaxed);
        if let Some(more) = parser.pending_bulk_bytes() {
            input.reserve(more.min(MAX_RESERVE_BYTES));
        } else if input.capacity() - input.len() < READ_CHUNK_BYTES / 4 {
            input.reserve(READ_CHUNK_BYTES);
        }

        // 3. Pushes queued by publishers go out after this batch's replies.
        let pushed = client
            .outbox
            .drain_into(&mut reply.buf, MAX_PUSH_BYTES_PER_WRITE);

        // 4. One write for the whole batch.
        if !reply.buf.is_empty() {
            let written = reply.buf.len() as u64;
            let result = tokio::select! {
                biased;
                _ = &mut killed => break closing(),
                r = socket.write_all(&reply.buf) => r,
            };
            client.outbox.written(pushed);
            if result.is_err() {
                break Close::Io;
            }
            Stats::add(&shared.stats.total_net_output_bytes, written);
            reply.buf.clear();
            if reply.buf.capacity() > KEEP_OUTPUT_CAPACITY_BYTES {
                reply.buf = BytesMut::with_capacity(READ_CHUNK_BYTES);
            }
        }
        if protocol_error {
            break Close::Protocol;
        }
        if let Some(args) = blocked {
            match wait_blocked(
                &mut socket,
                &shared,
                &mut session,
                &mut reply,
                &mut input,
                &args,
                killed.as_mut(),
            )
            .await
            {
                Ok(()) => parse_pending = true,
                Err(why) => break why,
            }
        }
        if session.close_after_reply {
            break Close::Quit;
        }
    };
    tracing::debug!(client = client.id, addr = %client.addr, reason = ?why, "connection closed");
    // Publishers skip a cancelled client; then leave every channel and pattern.
    client.close();
    crate::commands::pubsub::leave_all(&shared, &mut session);
    let _ = socket.shutdown().await;
}

/// Wait while the command in `args` is blocked (its handler recorded a
/// `BlockRequest`), then leave its reply in `reply`. Returns Err when the
/// connection must close (killed, shutdown, disconnected).
///
/// While blocked, the socket is still watched: a client that disconnects is
/// removed from every queue at once, and bytes it pipelines behind the blocked
/// command wait in `input`.
async fn wait_blocked(
    socket: &mut TcpStream,
    shared: &Arc<Shared>,
    session: &mut Session,
    reply: &mut Reply,
    input: &mut BytesMut,
    args: &[bytes::Bytes],
    mut killed: std::pin::Pin<&mut tokio_util::sync::WaitForCancellationFuture<'_>>,
) -> Result<(), Close> {
    let Some(request) = session.block.take() else {
        return Ok(());
    };
    let waiter = shared.blocking.block(session.client.id, &request);
    // Leaves the queues however this function ends.
    let _queued = Queued {
        shared,
        waiter: waiter.clone(),
        request: request.clone(),
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
                        reply.error("UNBLOCKED client unblocked via CLIENT UNBLOCK");
                        return Ok(());
                    }
                    Some(Unblocked::Timeout) => return answer_timeout(shared, session, reply, args),
                    None => {}
                }
                // A client that hung up must not take the data: look before popping.
                match socket.try_read_buf(input) {
                    Ok(0) => return Err(Close::Eof),
                    Ok(_) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(_) => return Err(Close::Io),
                }
                dispatch(shared, session, reply, args);
                if session.block.take().is_none() {
                    return Ok(());
                }
                // Someone else took the data first: back to sleep, same place in line.
                waiter.rearm();
            }
            _ = sleep_until_or_forever(deadline) => return answer_timeout(shared, session, reply, args),
            ready = socket.readable() => {
                if ready.is_err() {
                    return Err(Close::Io);
                }
                match socket.try_read_buf(input) {
                    Ok(0) => return Err(Close::Eof),
                    Ok(_) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(_) => return Err(Close::Io),
                }
                if input.len() > MAX_BUFFERED_WHILE_BLOCKED_BYTES {
                    return Err(Close::Protocol);
                }
            }
        }
    }
}

/// Most bytes a blocked client may pipeline behind its blocked command.
const MAX_BUFFERED_WHILE_BLOCKED_BYTES: usize = 64 * 1024 * 1024;

async fn sleep_until_or_forever(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Run the command once more with blocking turned off, so it gives its own
/// timeout reply (null array for BLPOP, null bulk for BLMOVE, ...).
fn answer_timeout(
    shared: &Shared,
    session: &mut Session,
    reply: &mut Reply,
    args: &[bytes::Bytes],
) -> Result<(), Close> {
    session.no_block = true;
    dispatch(shared, session, reply, args);
    session.no_block = false;
    session.block = None;
    Ok(())
}

/// A served waiter hands the wake-up on: if its keys still hold data, the next
/// waiter in line tries (one push wakes one waiter, so leftovers must travel on).
fn pass_wake_on(shared: &Shared, request: &BlockRequest) {
    for key in &request.keys {
        let has_data = shared
            .store
            .slot(request.db, key, crate::store::unix_ms())
            .peek()
            .is_some();
        if has_data {
            shared.blocking.wake(request.db, key, 1);
        }
    }
}

/// Removes a waiter from the blocking queues when dropped.
struct Queued<'a> {
    shared: &'a Shared,
    waiter: Arc<crate::blocking::Waiter>,
    request: BlockRequest,
}

impl Drop for Queued<'_> {
    /// Leave the queues, then hand any wake-up on: whether this client was
    /// served, timed out, or disconnected after being woken, data still in its
    /// keys must reach the next client in line.
    fn drop(&mut self) {
        self.shared.blocking.unblock(&self.waiter, &self.request);
        pass_wake_on(self.shared, &self.request);
    }
}
