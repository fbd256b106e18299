//! STUB (replaced by the control-plane work).
fn main() {}
