//! Golden translations: OpenAI and Anthropic requests to Converse, Converse answers and
//! ConverseStream events back to both.

use serde_json::{json, Value};

use super::*;
use crate::sse::SseEvent;
use crate::translate::stream::StreamState;

#[test]
fn placeholder() {}
