//! `gatewayd`: parse the command line and dispatch; the work lives in the library.

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use clap::Parser;
use config::{load_config, Config};
use gatewayd::cli::{
    run_access_requests, run_admin, run_aigw, run_apps, run_ca, run_catalog, run_check,
    run_devices, run_discovered, run_dlp, run_keys, run_report, run_schema, Cli, Command,
    UsersCommand,
};

fn main() -> ExitCode {
    if let Err(error) = gatewayd::cpu::check() {
        eprintln!("gatewayd: {error}");
        return ExitCode::from(1);
    }
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("gatewayd: {error:#}");
            ExitCode::from(1)
        }
    }
}

/// Loads the config a subcommand names; a bad file is bad input (exit 2).
fn config(path: Option<&Path>) -> Result<Config, ExitCode> {
    load_config(path)
        .map(|(config, _)| config)
        .map_err(|error| {
            eprintln!("{error}");
            ExitCode::from(2)
        })
}

fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    macro_rules! config_or_exit {
        ($path:expr) => {
            match config($path) {
                Ok(config) => config,
                Err(code) => return Ok(code),
            }
        };
    }
    match cli.command {
        Command::Run(args) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            runtime.block_on(gatewayd::daemon::run(args.config.as_deref()))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Check(args) => Ok(ExitCode::from(run_check(args.config.as_deref()) as u8)),
        Command::Ca { command, config } => {
            run_ca(&config_or_exit!(config.config.as_deref()), &command)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Catalog { command, config } => {
            if let Some(code) = gatewayd::cli::run_catalog_offline(&command) {
                return Ok(ExitCode::from(code?));
            }
            let code = run_catalog(&config_or_exit!(config.config.as_deref()), &command)?;
            Ok(ExitCode::from(code))
        }
        Command::Apps { command, config } => {
            let code = run_apps(&config_or_exit!(config.config.as_deref()), &command)?;
            Ok(ExitCode::from(code))
        }
        Command::Discovered { command, config } => {
            let code = run_discovered(&config_or_exit!(config.config.as_deref()), &command)?;
            Ok(ExitCode::from(code))
        }
        Command::AccessRequests { command, config } => {
            let code = run_access_requests(&config_or_exit!(config.config.as_deref()), &command)?;
            Ok(ExitCode::from(code))
        }
        Command::Admin { command, config } => {
            let code = run_admin(&config_or_exit!(config.config.as_deref()), &command)?;
            Ok(ExitCode::from(code))
        }
        Command::Keys { command, config } => {
            run_keys(&config_or_exit!(config.config.as_deref()), &command)
        }
        Command::Aigw { command, config } => {
            run_aigw(&config_or_exit!(config.config.as_deref()), &command)
        }
        Command::Schema { command, config } => {
            let code = run_schema(&config_or_exit!(config.config.as_deref()), &command)?;
            Ok(ExitCode::from(code))
        }
        Command::Report { args, config } => {
            let code = run_report(&config_or_exit!(config.config.as_deref()), &args)?;
            Ok(ExitCode::from(code))
        }
        Command::Devices { command, config } => {
            run_devices(&config_or_exit!(config.config.as_deref()), &command)
        }
        Command::Dlp { command, .. } => Ok(ExitCode::from(run_dlp(&command)?)),
        Command::Users {
            command: UsersCommand::HashToken,
            ..
        } => {
            let mut token = String::new();
            std::io::stdin().read_to_string(&mut token)?;
            let token = token.trim();
            if token.is_empty() {
                eprintln!("gatewayd: no token on stdin");
                return Ok(ExitCode::from(2));
            }
            gatewayd::cli::output::line(format_args!("{}", proxy::identity::hex_sha256(token)));
            Ok(ExitCode::SUCCESS)
        }
        Command::Users {
            command: UsersCommand::HashPassword,
            ..
        } => {
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password)?;
            let password = password.trim_end_matches(['\r', '\n']);
            if password.is_empty() {
                eprintln!("gatewayd: no password on stdin");
                return Ok(ExitCode::from(2));
            }
            let hash = proxy::identity::hash_password(password).map_err(anyhow::Error::msg)?;
            gatewayd::cli::output::line(format_args!("{hash}"));
            Ok(ExitCode::SUCCESS)
        }
    }
}
