//! The one list of AWS actions costradar calls in customer accounts. The customer role's
//! policy (`cfn/costradar-role.yaml`) must grant exactly these (a test checks parity), and
//! session policies are built from it.

/// Placeholder until the customer-template issue fills the table.
pub const CUSTOMER_ACTIONS: &[&str] = &[];
