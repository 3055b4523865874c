//! Cost rules, one file per family. A rule is a pure function from facts and prices to
//! findings, with its savings formula documented beside it.

pub mod realtime;
