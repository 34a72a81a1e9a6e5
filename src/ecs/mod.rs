//! The ECS API as passform speaks it: signing, credentials, endpoints, retries and the
//! live view of instances.
//!
//! Nothing here decides what to change; it reads and writes instances on request, never logs a
//! secret, and retries only what is safe to retry.

pub mod model;
