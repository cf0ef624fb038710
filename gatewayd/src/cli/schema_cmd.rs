//! `gatewayd schema migrate | status`: apply the ClickHouse migrations, or list which are
//! applied and which are pending, against the database the config names.

use clap::Subcommand;
use schema::{ConnectOptions, MigrationState, Migrator, ReaderSetup};

use config::{ClickHouseConfig, Config};

#[derive(Debug, Subcommand)]
pub enum SchemaCommand {
    /// Apply pending migrations (a no-op when all are applied).
    Migrate,
    /// List migrations and whether each is applied.
    Status,
}

/// The reader user's line: created, to be made by hand, or missing.
async fn reader_outcome(client: &schema::clickhouse::Client, ch: &ClickHouseConfig) -> String {
    let Some(user) = &ch.reader_user else {
        return format!("warning: {}", report::clickhouse_http::NO_READER_WARNING);
    };
    let password = ch.reader_password.as_deref().unwrap_or("");
    match schema::ensure_reader(client, &ch.database, user, password).await {
        Ok(ReaderSetup::Granted) => format!("reader user {user}: SELECT on {}.*", ch.database),
        Ok(ReaderSetup::Unsupported(version)) => format!(
            "reader user {user}: ClickHouse {version} has no SQL users; define it in users.xml \
             (deploy/clickhouse/README.md)"
        ),
        Ok(ReaderSetup::Refused(why)) => format!(
            "warning: reader user {user} not created ({why}); create it with SELECT on {}.* only",
            ch.database
        ),
        Err(error) => format!("warning: reader user {user} not checked: {error}"),
    }
}

pub fn run_schema(config: &Config, command: &SchemaCommand) -> anyhow::Result<u8> {
    let ch = &config.clickhouse;
    let client = schema::connect(&ConnectOptions {
        url: ch.url.clone(),
        database: ch.database.clone(),
        user: ch.user.clone(),
        password: ch.password.clone(),
        compression: true,
    })?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let migrator = Migrator::new(&client)?;
        match command {
            SchemaCommand::Migrate => match migrator.migrate().await {
                Ok(applied) => {
                    if applied.is_empty() {
                        out!("{}: all migrations already applied", ch.database);
                    }
                    for m in applied {
                        out!("applied {}", m.label());
                    }
                    out!("{}", reader_outcome(&client, ch).await);
                    Ok(0)
                }
                Err(error) => {
                    eprintln!("gatewayd: ClickHouse at {}: {error}", ch.url);
                    Ok(1)
                }
            },
            SchemaCommand::Status => {
                let statuses = match migrator.status().await {
                    Ok(statuses) => statuses,
                    Err(error) => {
                        eprintln!("gatewayd: ClickHouse at {}: {error}", ch.url);
                        return Ok(1);
                    }
                };
                let mut pending = false;
                for s in statuses {
                    let state = match s.state {
                        MigrationState::Applied {
                            checksum_matches: true,
                            ..
                        } => "applied".to_string(),
                        MigrationState::Applied { .. } => {
                            "applied (file changed since!)".to_string()
                        }
                        MigrationState::Pending => {
                            pending = true;
                            "pending".to_string()
                        }
                        MigrationState::Unknown => "unknown to this build".to_string(),
                    };
                    out!("{:04} {:<28} {state}", s.version, s.name);
                }
                Ok(u8::from(pending))
            }
        }
    })
}
