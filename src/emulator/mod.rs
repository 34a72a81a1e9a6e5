//! The ECS emulator: a local twin of the ECS RPC API for tests, benchmarks and the quickstart.
//!
//! It keeps its own model of instances (status transitions with timing, pending and effective
//! passwords) and authenticates requests with its own implementation of the documented
//! signature algorithms, so that a mistake in the client's signing cannot hide in both.
