//! The policy language's tests: parsing a policy, loading policy files, and deciding.

mod coaching;
mod decide;
mod files;
mod parse;
mod route;
mod tenant;
