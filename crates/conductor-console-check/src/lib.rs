//! The end-to-end check of conductor's `tracing` feature, a crate of its own so that
//! console-subscriber's dependencies stay out of the default test build: `tests/console.rs`
//! runs conductor tasks under the real console-subscriber and reads what tokio-console would
//! read, over console-subscriber's gRPC API; `tests/user_spans.rs` checks that a user's spans
//! inside a task are children of the task's span.
#![forbid(unsafe_code)]
