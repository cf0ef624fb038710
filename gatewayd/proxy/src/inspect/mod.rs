//! Request body inspection: buffer a body a rule needs to see (bounded in size and time),
//! extract its text, hand it to the DLP scanner, and keep what an audit rule asks for.
//!
//! Nothing here decides: the policy says whether to scan and what a match means. A body that
//! must be scanned but cannot be is reported as unscannable; the caller applies
//! `inspect.on_unscannable` (block by default).

mod body;
mod budget;
pub mod credentials;
mod extract;
mod json;
mod json_numbers;
mod model;
mod multipart;
mod upload_names;
pub mod websocket;

pub use json::json_values;
pub use model::model_of;

pub use body::{collect_bounded, Collected, Unscannable};
pub use budget::{BudgetHold, InspectBudget};
pub use extract::{extract_text, file_text, form_text, percent_decode, Extracted};
pub use upload_names::upload_names;

/// The text of a file as the DLP scanner should see it: documents, PDFs and archives
/// extracted (detected by content), text as it is.
pub fn text_of_file(name: &str, bytes: &[u8]) -> String {
    file_text(Some(name), None, bytes).text
}
