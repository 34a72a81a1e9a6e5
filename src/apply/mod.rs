//! Apply: carries a plan out, in waves, journaling every step into the state.
//!
//! For each instance to change: wait for a stable status, record the intent, reset the
//! password, record it, restart per policy, wait until Running, record that the password is in
//! effect. The state is written before and after every API step, so a crash at any point leaves
//! a state from which the next plan shows what remains.
