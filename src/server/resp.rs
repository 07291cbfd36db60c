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

use super::blocked::{self, Blocked};
use super::{Close, KEEP_OUTPUT_CAPACITY_BYTES, MAX_RESERVE_BYTES, READ_CHUNK_BYTES};
use crate::clients::ClientHandle;
use crate::commands::{dispatch, Session, Shared};
use crate::protocol::resp::{ParseLimits, Protocol, Reply, RequestParser};
use crate::stats::Stats;

/// Most pushed bytes moved from the outbox into one write: a subscriber with a
/// long queue drains it in slices instead of copying all of it at once.
const MAX_PUSH_BYTES_PER_WRITE: usize = 256 * 1024;

pub(crate) async fn serve(mut socket: TcpStream, shared: Arc<Shared>, client: Arc<ClientHandle>) {
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
    // How a server thread serving this client's blocked command sees that
    // it hung up (made at its first wait).
    let mut peer: Option<crate::blocking::PeerAlive> = None;

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
                    session.read_at = std::time::Instant::now();
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
        // The batch stopped to let blocked clients be served: the requests
        // left in `input` run next, whether or not this connection is the
        // one that serves them (another may have taken the ready keys).
        let mut stopped_for_ready = false;
        let mut blocked = None;
        // CLIENT LIST's qbuf during the batch: what was read, the running
        // request included (as Redis's sdslen(querybuf)).
        client.query_buffer_bytes.store(input.len() as u64, Relaxed);
        while !session.close_after_reply {
            // AUTH inside the batch lifts the pre-auth limits for what follows it.
            let limits = ParseLimits {
                max_bulk_len,
                unauthenticated: !session.authenticated,
            };
            match parser.parse(&mut input, &limits) {
                Ok(Some(args)) => {
                    commands += 1;
                    if let Some((id, waiter)) = dispatch(&shared, &mut session, &mut reply, &args) {
                        // Later requests wait until this one is answered.
                        blocked = Some(Blocked { id, waiter });
                        break;
                    }
                    // Clients blocked on keys this command made ready are
                    // served before the next request runs.
                    if shared.blocking.has_ready() {
                        stopped_for_ready = true;
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

        // Serve blocked clients (crate::blocking) before this batch's replies
        // go out. The yield first lets connections whose requests arrived
        // just before this one run them (tokio may have polled this task
        // first), as Redis would have.
        if shared.blocking.has_ready() {
            tokio::task::yield_now().await;
            crate::commands::lists::serve_ready(&shared);
            parse_pending = blocked.is_none();
        } else if stopped_for_ready {
            parse_pending = blocked.is_none();
        }

        // 3. Replies wait until the other connections with requests ready
        // have run theirs: the yield lets tokio run the other ready tasks and
        // poll the reactor before resuming this one. Writes then leave in a
        // burst, as Redis writes every pending reply before it sleeps
        // (beforeSleep): a client woken by one reply is still busy when the
        // next arrives, instead of a wake-up per reply (with 50 pipelining
        // clients that wake-up was a fifth of herald's CPU; bench/server_cpu.sh).
        if !reply.is_empty() {
            tokio::task::yield_now().await;
        }

        // 4. Pushes queued by publishers go out after this batch's replies.
        let pushed =
            reply.append_frames(|out| client.outbox.drain_into(out, MAX_PUSH_BYTES_PER_WRITE));

        // 5. One write for the whole batch.
        if !reply.is_empty() {
            let written = reply.len() as u64;
            let result = tokio::select! {
                biased;
                _ = &mut killed => break closing(),
                r = socket.write_all(reply.as_bytes()) => r,
            };
            client.outbox.written(pushed);
            if result.is_err() {
                break Close::Io;
            }
            Stats::add(&shared.stats.total_net_output_bytes, written);
            reply.clear(KEEP_OUTPUT_CAPACITY_BYTES);
        }
        if protocol_error {
            break Close::Protocol;
        }
        if let Some(blocked) = blocked {
            // One duplicate descriptor per connection, for every wait it makes.
            if peer.is_none() {
                peer = blocked::peer_check(&socket);
            }
            if let Some(alive) = &peer {
                blocked.waiter.set_peer_check(alive.clone());
            }
            match blocked::wait(
                blocked,
                &mut socket,
                &shared,
                &mut session,
                &mut reply,
                &mut input,
                killed.as_mut(),
            )
            .await
            {
                Ok(()) => {
                    // Requests pipelined behind the blocked one run now.
                    session.read_at = std::time::Instant::now();
                    parse_pending = true;
                }
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
