//! The migration runner: applies the embedded migrations in version order and records each in
//! `schema_migrations`. Running it again applies nothing; a failed statement stops the run with
//! the statement and the server's error, leaving that migration unrecorded.
//!
//! It never edits or reverts an applied migration: an applied migration whose text changed is
//! an error ([`Error::ChecksumMismatch`]), and so is one the database has but this build lacks.

mod add_column;
mod embedded;
mod record;
mod split;

pub use embedded::{Migration, MIGRATIONS};
pub use record::AppliedMigration;
pub use split::statements;

use clickhouse::Client;

use crate::rows::unix_seconds;
use crate::Error;

/// Where a migration stands in a database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MigrationState {
    /// Applied at `applied_at` (seconds since the Unix epoch); `checksum_matches` is false
    /// when the embedded text differs from what was applied.
    Applied {
        applied_at: u32,
        checksum_matches: bool,
    },
    Pending,
    /// Recorded in the database but unknown to this build.
    Unknown,
}

/// One line of [`Migrator::status`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    pub version: u32,
    pub name: String,
    pub state: MigrationState,
}

/// Applies migrations to the client's database (`default` when the client names none).
#[derive(Clone)]
pub struct Migrator {
    client: Client,
    database: String,
    migrations: Vec<Migration>,
}

impl Migrator {
    /// A runner for the embedded [`MIGRATIONS`].
    pub fn new(client: &Client) -> Result<Self, Error> {
        Self::with_migrations(client, MIGRATIONS.to_vec())
    }

    /// A runner for another list, sorted by version (tests use it for broken migrations).
    pub fn with_migrations(client: &Client, mut migrations: Vec<Migration>) -> Result<Self, Error> {
        let database = client.database().unwrap_or("default").to_owned();
        crate::client::check_identifier(&database)?;
        migrations.sort_by_key(|m| m.version);
        Ok(Self {
            client: client.clone(),
            database,
            migrations,
        })
    }

    pub fn database(&self) -> &str {
        &self.database
    }

    /// Applies every pending migration in order; returns the ones it applied.
    pub async fn migrate(&self) -> Result<Vec<Migration>, Error> {
        record::ensure(&self.client, &self.database).await?;
        let applied = record::applied(&self.client).await?;
        self.check_applied(&applied)?;
        let mut done = Vec::new();
        for migration in &self.migrations {
            if applied.iter().any(|a| a.version == migration.version) {
                continue;
            }
            self.apply(migration).await?;
            done.push(*migration);
        }
        Ok(done)
    }

    /// Every known and recorded migration with its state, by version. Creates nothing.
    pub async fn status(&self) -> Result<Vec<MigrationStatus>, Error> {
        let applied = if record::exists(&self.client, &self.database).await? {
            record::applied(&self.client).await?
        } else {
            Vec::new()
        };
        let mut out: Vec<MigrationStatus> = self
            .migrations
            .iter()
            .map(|m| {
                let state = match applied.iter().find(|a| a.version == m.version) {
                    Some(a) => MigrationState::Applied {
                        applied_at: a.applied_at,
                        checksum_matches: a.checksum == m.checksum(),
                    },
                    None => MigrationState::Pending,
                };
                MigrationStatus {
                    version: m.version,
                    name: m.name.to_owned(),
                    state,
                }
            })
            .collect();
        for a in &applied {
            if !self.migrations.iter().any(|m| m.version == a.version) {
                out.push(MigrationStatus {
                    version: a.version,
                    name: a.name.clone(),
                    state: MigrationState::Unknown,
                });
            }
        }
        out.sort_by_key(|s| s.version);
        Ok(out)
    }

    fn check_applied(&self, applied: &[AppliedMigration]) -> Result<(), Error> {
        for a in applied {
            let Some(m) = self.migrations.iter().find(|m| m.version == a.version) else {
                return Err(Error::UnknownMigration {
                    version: a.version,
                    name: a.name.clone(),
                });
            };
            let embedded = m.checksum();
            if a.checksum != embedded {
                return Err(Error::ChecksumMismatch {
                    version: m.version,
                    name: m.name.to_owned(),
                    applied: a.checksum.clone(),
                    embedded,
                });
            }
        }
        Ok(())
    }

    async fn apply(&self, migration: &Migration) -> Result<(), Error> {
        for (i, statement) in migration.statements().into_iter().enumerate() {
            let result = match add_column::parse(&statement) {
                Some(add) => self.add_column(&add).await,
                None => self.client.query_raw(&statement).execute().await,
            };
            if let Err(source) = result {
                return Err(Error::Migration {
                    version: migration.version,
                    name: migration.name.to_owned(),
                    index: i + 1,
                    statement,
                    source,
                });
            }
        }
        let row = AppliedMigration {
            version: migration.version,
            name: migration.name.to_owned(),
            checksum: migration.checksum(),
            applied_at: unix_seconds(std::time::SystemTime::now()),
        };
        record::record(&self.client, &row).await
    }

    /// `ADD COLUMN IF NOT EXISTS`, also on servers without that form (see `add_column`).
    async fn add_column(&self, add: &add_column::AddColumn<'_>) -> clickhouse::error::Result<()> {
        let present: u64 = self.client.query(&add.exists_query()).fetch_one().await?;
        if present > 0 {
            return Ok(());
        }
        self.client.query_raw(&add.plain).execute().await
    }
}
