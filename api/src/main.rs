//! The `jiban` command. Everything lives in the library (`jiban_api::cli`), so that
//! tests and later subcommands share it.

fn main() -> std::process::ExitCode {
    jiban_api::cli::main()
}
