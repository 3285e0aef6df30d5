// The write path allocates many small, short-lived buffers (requests, SQL binds,
// answers) across threads; mimalloc serves them with far less contention than glibc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    ppe_api::cli::main()
}
