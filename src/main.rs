//! The `herald` binary: flags -> Config -> tracing -> bind -> server::run.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use herald::commands::Shared;
use herald::config::{Config, ConfigError, LogFormat};
use herald::server::Listeners;

#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Exit code for a configuration that cannot be used.
const EXIT_BAD_CONFIG: u8 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "herald",
    version,
    about = "Pub/sub broker and cache: RESP2/RESP3 and memcached over one keyspace"
)]
struct Cli {
    /// TOML config file (defaults: the embedded config/herald.toml).
    #[arg(long, env = "HERALD_CONFIG")]
    config: Option<PathBuf>,
    /// Addresses to listen on (repeat or space-separate).
    #[arg(long, num_args = 1..)]
    bind: Option<Vec<String>>,
    /// RESP port (0 = pick a free one).
    #[arg(long)]
    port: Option<u16>,
    /// memcached text-protocol port (0 = disabled).
    #[arg(long)]
    memcache_port: Option<u16>,
    /// Number of logical databases.
    #[arg(long)]
    databases: Option<usize>,
    /// Maximum connected clients.
    #[arg(long)]
    maxclients: Option<usize>,
    /// Password clients must AUTH with.
    #[arg(long, env = "HERALD_REQUIREPASS")]
    requirepass: Option<String>,
    /// Close clients idle this many seconds (0 = never).
    #[arg(long)]
    timeout: Option<u64>,
    /// Log filter (error, warn, info, debug, trace or directives).
    #[arg(long)]
    log_level: Option<String>,
    /// Log format.
    #[arg(long, value_parser = ["text", "json"])]
    log_format: Option<String>,
    /// Worker threads (0 = one per core).
    #[arg(long)]
    threads: Option<usize>,
    #[command(subcommand)]
    command: Option<Tool>,
}

#[derive(Subcommand, Debug)]
enum Tool {
    /// Connect to a running herald, send PING, exit 0 on PONG (for health checks).
    Ping {
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        #[arg(long, default_value_t = 6379)]
        port: u16,
    },
}

impl Cli {
    /// Flags override the file, which overrides the defaults.
    fn apply_to(&self, c: &mut Config) -> Result<(), ConfigError> {
        if let Some(v) = &self.bind {
            c.apply("bind", &v.join(" "))?;
        }
        if let Some(v) = self.port {
            c.port = v;
        }
        if let Some(v) = self.memcache_port {
            c.memcache_port = v;
        }
        if let Some(v) = self.databases {
            c.apply("databases", &v.to_string())?;
        }
        if let Some(v) = self.maxclients {
            c.apply("maxclients", &v.to_string())?;
        }
        if let Some(v) = &self.requirepass {
            c.apply("requirepass", v)?;
        }
        if let Some(v) = self.timeout {
            c.apply("timeout", &v.to_string())?;
        }
        if let Some(v) = &self.log_level {
            c.apply("loglevel", v)?;
        }
        if let Some(v) = &self.log_format {
            c.apply("log-format", v)?;
        }
        if let Some(v) = self.threads {
            c.apply("io-threads", &v.to_string())?;
        }
        Ok(())
    }
}

/// Standard error for logs, dropping write errors: when whatever reads our
/// stderr has gone away, logging must neither panic nor stop the server.
struct LossyStderr;

impl std::io::Write for LossyStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let _ = std::io::stderr().write_all(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let _ = std::io::stderr().flush();
        Ok(())
    }
}

fn init_tracing(config: &Config) -> Result<(), ConfigError> {
    let filter =
        tracing_subscriber::EnvFilter::try_new(&config.log_level).map_err(|e| ConfigError {
            key: "log-level".into(),
            reason: e.to_string(),
        })?;
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(|| LossyStderr);
    match config.log_format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Tool::Ping { host, port }) = &cli.command {
        return herald::server::ping_tool(host, *port);
    }
    let config = match Config::load(cli.config.as_deref())
        .and_then(|mut c| cli.apply_to(&mut c).map(|_| c))
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("herald: bad configuration: {e}");
            return ExitCode::from(EXIT_BAD_CONFIG);
        }
    };
    if let Err(e) = init_tracing(&config) {
        eprintln!("herald: bad configuration: {e}");
        return ExitCode::from(EXIT_BAD_CONFIG);
    }
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if config.threads > 0 {
        runtime.worker_threads(config.threads);
    }
    // Requests that arrive together on several connections should run in
    // arrival order, as in Redis's single thread (Redis's test suite sends on
    // one connection and then another without waiting). Tokio's LIFO slot runs
    // the last task the I/O driver woke first; without it, woken connections
    // run in the order their sockets became readable. Off by default: it
    // needs `RUSTFLAGS="--cfg tokio_unstable"`, and without the slot a
    // subscriber woken by a publisher runs later, so under a firehose a
    // healthy subscriber can pass the output-buffer hard limit
    // (tests/pubsub_load.rs stalled_subscriber_... failed 2 of 6 runs).
    // Measured (SET on one connection, GET on another 100 µs later, 3000
    // rounds): inversions 52-84 with the slot, 3-13 without, 0 without and
    // --threads 1; redis-server 14-23.
    #[cfg(tokio_unstable)]
    runtime.disable_lifo_slot();
    let runtime = match runtime.enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("herald: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let source = cli
        .config
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "embedded defaults".into());
    runtime.block_on(serve(config, source))
}

async fn serve(config: Config, source: String) -> ExitCode {
    let listeners = match Listeners::bind(&config.bind, config.port, config.memcache_port).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(error = %e, bind = ?config.bind, port = config.port, memcache_port = config.memcache_port, "cannot listen");
            return ExitCode::FAILURE;
        }
    };
    let memcache = listeners.memcache_addrs();
    let shared = Shared::new(config, source.clone());
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        resp_addr = %herald::server::describe(&listeners.resp_addrs()),
        memcache_addr = %if memcache.is_empty() { "disabled".to_string() } else { herald::server::describe(&memcache) },
        config = %source,
        "herald ready"
    );
    let signals = shared.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        // Cancel before logging: if stderr is gone (a log reader that died), a
        // failing log write must not keep the server from shutting down.
        signals.shutdown.cancel();
        tracing::info!("signal received, shutting down");
    });
    herald::server::run(shared, listeners).await;
    tracing::info!("bye");
    ExitCode::SUCCESS
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
