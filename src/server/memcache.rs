//! One memcached text-protocol connection: read a batch, parse every complete
//! request, execute each against the shared store, append replies to one
//! buffer, write once. A parse error is answered as memcached answers it and
//! the connection closes only where memcached closes (line too long, binary
//! protocol, HTTP).

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{KEEP_OUTPUT_CAPACITY_BYTES, READ_CHUNK_BYTES};
use crate::clients::ClientHandle;
use crate::commands::memcache::{execute, Flow, McSession};
use crate::commands::Shared;
use crate::protocol::memcache::{response, McLimits, McParser};
use crate::stats::Stats;

/// Longest get/gets/gat/gats line accepted (a multiget of thousands of keys).
const MULTIGET_LINE_MAX_BYTES: usize = 1024 * 1024;

pub(crate) async fn serve(mut socket: TcpStream, shared: Arc<Shared>, client: Arc<ClientHandle>) {
    let mut input = BytesMut::with_capacity(READ_CHUNK_BYTES);
    let mut out = BytesMut::with_capacity(READ_CHUNK_BYTES);
    let mut parser = McParser::new();
    let mut session = McSession::connected(&shared);
    let killed = client.kill.cancelled();
    tokio::pin!(killed);
    loop {
        tokio::select! {
            biased;
            _ = &mut killed => break,
            read = socket.read_buf(&mut input) => match read {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    Stats::add(&shared.stats.total_net_input_bytes, n as u64);
                    client.last_interaction_ms.store(shared.uptime_ms(), Relaxed);
                }
            },
        }
        let limits = McLimits {
            item_size_max: shared.config.read().item_size_max as usize,
            multiget_line_max: MULTIGET_LINE_MAX_BYTES,
        };
        let mut close = false;
        let mut commands = 0;
        loop {
            match parser.parse(&mut input, &limits) {
                Ok(Some(request)) => {
                    commands += 1;
                    if execute(&shared, &mut session, request, &mut out) == Flow::Close {
                        close = true;
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    if let Some(key) = parser.take_refused_set_key() {
                        crate::commands::memcache::unlink_refused_set(&shared, &key);
                    }
                    response::error(&mut out, &e);
                    if e.close() {
                        close = true;
                        break;
                    }
                }
            }
        }
        Stats::add(&shared.stats.total_commands_processed, commands);
        if input.capacity() - input.len() < READ_CHUNK_BYTES / 4 {
            input.reserve(READ_CHUNK_BYTES);
        }
        if !out.is_empty() {
            // Let the other ready connections run first, then write in a
            // burst (see the same step in server::resp).
            tokio::task::yield_now().await;
            let written = out.len() as u64;
            let result = tokio::select! {
                biased;
                _ = &mut killed => break,
                r = socket.write_all(&out) => r,
            };
            if result.is_err() {
                break;
            }
            Stats::add(&shared.stats.total_net_output_bytes, written);
            out.clear();
            if out.capacity() > KEEP_OUTPUT_CAPACITY_BYTES {
                out = BytesMut::with_capacity(READ_CHUNK_BYTES);
            }
        }
        if close {
            break;
        }
    }
    client.close();
    let _ = socket.shutdown().await;
}
