//! The validated catalog entries: apps, their categories, hosts and endpoints.
//!
//! These are plain values built by the loader; nothing here parses or matches hosts.

use super::path::{FieldPath, PathPattern};
use crate::host_pattern::HostPattern;
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// What kind of AI application an app is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    Chat,
    Code,
    Image,
    Video,
    Audio,
    Writing,
    Meeting,
    Search,
    Api,
    Agents,
    Data,
    Suite,
    Other,
}

impl Category {
    pub const ALL: [Category; 13] = [
        Category::Chat,
        Category::Code,
        Category::Image,
        Category::Video,
        Category::Audio,
        Category::Writing,
        Category::Meeting,
        Category::Search,
        Category::Api,
        Category::Agents,
        Category::Data,
        Category::Suite,
        Category::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Chat => "chat",
            Category::Code => "code",
            Category::Image => "image",
            Category::Video => "video",
            Category::Audio => "audio",
            Category::Writing => "writing",
            Category::Meeting => "meeting",
            Category::Search => "search",
            Category::Api => "api",
            Category::Agents => "agents",
            Category::Data => "data",
            Category::Suite => "suite",
            Category::Other => "other",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown category name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown category {0:?}; expected one of: chat, code, image, video, audio, writing, meeting, search, api, agents, data, suite, other")]
pub struct UnknownCategory(pub String);

impl FromStr for Category {
    type Err = UnknownCategory;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Category::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownCategory(s.to_owned()))
    }
}

/// Which list of an app a matched host came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HostKind {
    /// A host people use the app on (`hosts`).
    Usage,
    /// Static, CDN or telemetry host of the app (`support_hosts`): not usage.
    Support,
    /// A programmatic API endpoint (`api_hosts`).
    Api,
    /// A host only named by an `[[app.upload]]` entry.
    Upload,
}

impl HostKind {
    pub fn as_str(self) -> &'static str {
        match self {
            HostKind::Usage => "usage",
            HostKind::Support => "support",
            HostKind::Api => "api",
            HostKind::Upload => "upload",
        }
    }
}

/// Where prompts are sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PromptEndpoint {
    pub method: String,
    pub path: PathPattern,
    /// Where the prompt text sits in a JSON body.
    pub fields: Vec<FieldPath>,
}

/// Where files are uploaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UploadEndpoint {
    pub method: String,
    /// Set when uploads go to a host outside `hosts`/`api_hosts`.
    #[serde(serialize_with = "opt_display")]
    pub host: Option<HostPattern>,
    pub path: PathPattern,
}

/// One AI application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct App {
    pub id: String,
    pub name: String,
    pub vendor: String,
    pub vendor_country: String,
    pub category: Category,
    /// 1 (low) ..= 5 (high).
    pub risk: u8,
    pub risk_reasons: Vec<String>,
    pub description: Option<String>,
    #[serde(serialize_with = "all_display")]
    pub hosts: Vec<HostPattern>,
    #[serde(serialize_with = "all_display")]
    pub support_hosts: Vec<HostPattern>,
    #[serde(serialize_with = "all_display")]
    pub api_hosts: Vec<HostPattern>,
    pub prompts: Vec<PromptEndpoint>,
    pub uploads: Vec<UploadEndpoint>,
    /// Tenant control: the headers that allow only an organisation's accounts, and where
    /// requests show the account (`[app.tenant]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<super::tenant::TenantHint>,
    /// Where a reviewer can check the entry: the vendor's docs or the app's own pages
    /// (an `https://` URL).
    pub source: String,
    /// The catalog file the app was read from.
    pub file: String,
}

fn all_display<S: Serializer>(v: &[HostPattern], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(HostPattern::as_str))
}

fn opt_display<S: Serializer>(v: &Option<HostPattern>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(p) => s.serialize_some(p.as_str()),
        None => s.serialize_none(),
    }
}
