//! Criterion benchmarks of the workspace; the benchmarks are in `benches/`, this library is empty
//! on purpose.
