//! `oneshare-server`: the relay binary.

use std::process::ExitCode;

use clap::Parser;
use oneshare_server::config::{Cli, Command, Config};
use oneshare_server::http::{self, ConnLimits};
use oneshare_server::keys::{KeyRing, RelayKeys};
use oneshare_server::state::{AppState, system_clock};
use oneshare_server::testclock::TestClock;
use oneshare_server::{store, sweeper};

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("shutting down");
}

async fn run(cli: Cli) -> oneshare_server::Result<()> {
    let config = Config::load(&cli.flags)?;
    let test_clock = if cli.flags.insecure_test_clock {
        TestClock::allowed()?;
        tracing::warn!("--insecure-test-clock: any client can move time and end every share");
        Some(TestClock::default())
    } else {
        None
    };
    let clock = test_clock
        .as_ref()
        .map_or_else(system_clock, TestClock::clock);
    if let Some(Command::RotateKey) = cli.command {
        let kid = RelayKeys::rotate(&config.data_dir, config.key_grace_secs, clock())?;
        println!(
            "new relay key {kid}; the previous key stays accepted for {} s",
            config.key_grace_secs
        );
        return Ok(());
    }
    tracing::info!(?config, "starting");
    let keys = KeyRing::open(&config.data_dir, config.key_grace_secs)?;
    let store = store::open(&config.database).await?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| {
            oneshare_server::Error::Config(format!("cannot listen on {}: {e}", config.listen))
        })?;
    let limits = ConnLimits::new(&config);
    let state = AppState::new(store, config, keys, clock);
    let sweeper = sweeper::spawn(state.clone());
    let addr = listener
        .local_addr()
        .map_err(oneshare_server::Error::internal)?;
    tracing::info!(%addr, "listening");
    let stopping = state.clone();
    let shutdown = async move {
        shutdown_signal().await;
        stopping.begin_shutdown();
    };
    let router = match &test_clock {
        Some(t) => http::app(state.clone()).merge(t.router(state)),
        None => http::app(state),
    };
    http::serve(listener, router, limits, shutdown)
        .await
        .map_err(oneshare_server::Error::internal)?;
    sweeper.abort();
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("oneshare-server: {e}");
            ExitCode::FAILURE
        }
    }
}
