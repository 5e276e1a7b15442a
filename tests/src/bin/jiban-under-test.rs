//! The `jiban` binary under another name, owned by this package so that its tests can
//! find it with `env!("CARGO_BIN_EXE_jiban-under-test")`. Same entry point as api/src/main.rs.

fn main() -> std::process::ExitCode {
    jiban_api::cli::main()
}
