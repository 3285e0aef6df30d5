fn main() -> std::process::ExitCode {
    ppe_api::cli::main()
}
