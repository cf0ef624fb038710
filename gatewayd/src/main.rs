//! `gatewayd`: parse the command line and dispatch; the work lives in the library.

use std::io::Read;
use std::process::ExitCode;

use clap::Parser;
use gatewayd::cli::{run_ca, run_check, Cli, Command, UsersCommand};
use gatewayd::config::load_config;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("gatewayd: {error:#}");
            ExitCode::from(1)
        }
    }
}

fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
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
            let (config, _) = match load_config(config.config.as_deref()) {
                Ok(loaded) => loaded,
                Err(error) => {
                    eprintln!("{error}");
                    return Ok(ExitCode::from(2));
                }
            };
            run_ca(&config, &command)?;
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
            let hash = gatewayd::identity::hash_password(password).map_err(anyhow::Error::msg)?;
            println!("{hash}");
            Ok(ExitCode::SUCCESS)
        }
    }
}
