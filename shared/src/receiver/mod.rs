//! The real-time receiver: EventBridge API-destination events priced within a second.
//! `price` is the pure path (also used by the CLI).

pub mod price;
